"""The template's operations part: log retention, alarms to one topic, the dashboard, the metric contract.

template.yaml is read with its intrinsic functions kept (local.template), so a test can tell a
`!Ref AlarmTopic` from any other string.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.template import load_template

ROOT = Path(__file__).resolve().parents[2]

# The EMF metrics the layer emits (namespace smsgw, dimension service=smsgw; the four marked
# below also per carrier and country). Alarms and the dashboard may use these names only.
METRIC_NAMESPACE = "smsgw"
METRIC_CONTRACT = frozenset(
    {
        "MessagesAccepted",
        "MessagesSubmitted",
        "MessagesDelivered",  # also {service, carrier, country}
        "MessagesUndelivered",  # also {service, carrier, country}
        "MessagesFailed",
        "CarrierRejected",
        "CarrierErrors",
        "CarrierAuthFailures",
        "CarrierThrottledRetried",
        "DispatchDeferred",
        "SubmitLatency",  # also {service, carrier, country}
        "DeliveryLatency",  # also {service, carrier, country}
        "WebhooksDelivered",
        "WebhookAttemptsFailed",
        "WebhooksFailed",
        "InboundReceived",
        "CarrierWebhooksUnauthenticated",
        "ConnectorOpened",
        "ConnectorClosed",
        "DispatchFailedOver",
        "FraudVelocityTripped",  # an account's velocity limit refused a send (docs/fraud.md)
    }
)
DEAD_LETTER_QUEUES = (
    "SendDeadLetterQueue",
    "WebhookDeadLetterQueue",
    "InboundDeadLetterQueue",
    "ScheduleDeadLetterQueue",
)
TOPIC = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res["Properties"] for name, res in _of_type(template, "AWS::CloudWatch::Alarm").items()}


def _functions(template: dict[str, Any]) -> list[str]:
    return sorted(_of_type(template, "AWS::Serverless::Function"))


def _substituted(sub: Any) -> str:
    """A `!Sub` string with every ${...} replaced by a placeholder, as CloudFormation would fill it."""
    text = sub["Fn::Sub"] if isinstance(sub, dict) else sub
    assert isinstance(text, str), f"expected a !Sub string, got {sub!r}"
    return re.sub(r"\$\{[^}!]+\}", "placeholder-1", text)


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    (dashboard,) = _of_type(template, "AWS::CloudWatch::Dashboard").values()
    return json.loads(_substituted(dashboard["Properties"]["DashboardBody"]))


def test_there_are_fourteen_functions(template):
    """The ops checks below are per function: a function added without them should be noticed here."""
    assert len(_functions(template)) == 14


def test_every_function_has_a_log_group_with_the_retention_parameter(template):
    groups = _of_type(template, "AWS::Logs::LogGroup")
    by_name = {json.dumps(g["Properties"]["LogGroupName"]): g["Properties"] for g in groups.values()}
    for function in _functions(template):
        name = json.dumps({"Fn::Sub": f"/aws/lambda/${{{function}}}"})
        assert name in by_name, f"{function} has no log group /aws/lambda/<its name>"
        assert by_name[name]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    retention = template["Parameters"]["LogRetentionDays"]
    assert retention["Default"] == 30
    assert {1, 30, 365, 3653} <= set(retention["AllowedValues"])


def test_every_dead_letter_queue_has_an_alarm_on_any_visible_message(template):
    for queue in DEAD_LETTER_QUEUES:
        matching = [
            a
            for a in _alarms(template).values()
            if a.get("Namespace") == "AWS/SQS"
            and a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and a.get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        ]
        assert len(matching) == 1, f"{queue}: {len(matching)} alarms"
        (alarm,) = matching
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["TreatMissingData"] == "notBreaching"


def test_every_function_has_an_errors_and_a_throttles_alarm(template):
    for function in _functions(template):
        for metric in ("Errors", "Throttles"):
            matching = [
                a
                for a in _alarms(template).values()
                if a.get("Namespace") == "AWS/Lambda"
                and a.get("MetricName") == metric
                and a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function}}]
            ]
            assert len(matching) == 1, f"{function} {metric}: {len(matching)} alarms"


def test_every_alarm_notifies_the_one_topic(template):
    alarms = _alarms(template)
    assert len(alarms) >= 4 + 1 + 1 + 1 + 1 + 28 + 1
    for name, alarm in alarms.items():
        assert alarm.get("AlarmActions") == [TOPIC], name
        assert alarm.get("AlarmDescription"), name
        assert alarm.get("TreatMissingData") == "notBreaching", name


def test_the_topic_is_created_only_without_an_existing_one_and_the_email_subscribes(template):
    conditions = template["Conditions"]
    assert conditions["CreateAlarmTopic"] == {"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}
    assert template["Resources"]["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "SubscribeAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == TOPIC
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_thresholds_are_parameters_with_defaults_and_descriptions(template):
    params = template["Parameters"]
    for name, default in {
        "SendQueueMaxAgeSeconds": 300,
        "CarrierFailurePercent": 20,
        "CarrierFailureMinAttempts": 20,
        "Api5xxThreshold": 5,
        "LambdaErrorsThreshold": 0,
        "LambdaThrottlesThreshold": 0,
        "WebhookTenantFailureThreshold": 10,
    }.items():
        assert params[name]["Default"] == default, name
        assert params[name]["Description"], name
    alarms = _alarms(template)
    assert alarms["SendQueueAgeAlarm"]["Threshold"] == {"Ref": "SendQueueMaxAgeSeconds"}
    assert alarms["CarrierFailureShareAlarm"]["Threshold"] == {"Ref": "CarrierFailurePercent"}


def test_the_carrier_failure_share_needs_a_minimum_volume(template):
    metrics = _alarms(template)["CarrierFailureShareAlarm"]["Metrics"]
    (returned,) = [m for m in metrics if m.get("ReturnData")]
    assert "${CarrierFailureMinAttempts}" in returned["Expression"]["Fn::Sub"]


def test_webhook_failures_are_counted_per_account_from_the_webhook_log_group(template):
    rule = template["Resources"]["WebhookFailuresByAccountRule"]
    body = json.loads(_substituted(rule["Properties"]["RuleBody"]))
    assert rule["Properties"]["RuleBody"]["Fn::Sub"].count("${WebhookFunctionLogGroup}") == 1
    assert body["LogFormat"] == "JSON"
    assert body["Contribution"]["Keys"] == ["$.account"]
    assert body["Contribution"]["Filters"] == [{"Match": "$.webhook_outcome", "In": ["retry", "failed"]}]
    (expression,) = _alarms(template)["WebhookTenantFailuresAlarm"]["Metrics"]
    assert expression["Expression"]["Fn::Sub"] == (
        "INSIGHT_RULE_METRIC('${WebhookFailuresByAccountRule.RuleName}', 'MaxContributorValue')"
    )


def test_what_the_local_emulator_cannot_create_is_left_out_there(template):
    """ministack 1.5.33 refuses metric-math alarms and has no Contributor Insights (docs/local-stack.md)."""
    resources = template["Resources"]
    for name, res in resources.items():
        props = res.get("Properties") or {}
        if res["Type"] == "AWS::CloudWatch::InsightRule" or (
            res["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in props
        ):
            assert res.get("Condition") == "NotOnLocalEmulator", name


def test_the_dashboard_body_is_json_with_the_panels_asked_for(template):
    body = _dashboard(template)
    titles = " | ".join(w["properties"]["title"] for w in body["widgets"])
    for words in (
        "Messages per minute",
        "Delivery rate",
        "latency",
        "Queue depth",
        "oldest message",
        "Webhooks",
        "Inbound",
    ):
        assert words in titles, words
    expressions = [
        row[0]["expression"]
        for w in body["widgets"]
        for row in w["properties"]["metrics"]
        if isinstance(row[0], dict) and "expression" in row[0]
    ]
    assert any(e.startswith("SEARCH('{smsgw,carrier,country,service}") for e in expressions)
    latency_stats = {
        (row[1], row[-1].get("stat"))
        for w in body["widgets"]
        for row in w["properties"]["metrics"]
        if isinstance(row[0], str) and row[1].endswith("Latency")
    }
    assert latency_stats == {(m, s) for m in ("SubmitLatency", "DeliveryLatency") for s in ("p50", "p99")}


def _smsgw_metric_names(template: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for alarm in _alarms(template).values():
        if alarm.get("Namespace") == METRIC_NAMESPACE:
            names.add(alarm["MetricName"])
        for metric in alarm.get("Metrics") or []:
            stat = (metric.get("MetricStat") or {}).get("Metric") or {}
            if stat.get("Namespace") == METRIC_NAMESPACE:
                names.add(stat["MetricName"])
    for widget in _dashboard(template)["widgets"]:
        for row in widget["properties"].get("metrics") or []:
            if row[0] == METRIC_NAMESPACE:
                names.add(row[1])
            elif isinstance(row[0], dict) and "{" + METRIC_NAMESPACE + "," in row[0].get("expression", ""):
                names.update(re.findall(r'MetricName="(\w+)"', row[0]["expression"]))
    return names


def test_alarms_and_dashboard_use_only_metrics_the_layer_emits(template):
    used = _smsgw_metric_names(template)
    assert used - METRIC_CONTRACT == set()
    assert {"MessagesSubmitted", "CarrierRejected", "CarrierErrors", "CarrierAuthFailures"} <= used


def test_smsgw_metrics_carry_the_service_dimension_powertools_adds(template):
    for name, alarm in _alarms(template).items():
        stats = [alarm] if alarm.get("Namespace") == METRIC_NAMESPACE else []
        stats += [
            m["MetricStat"]["Metric"]
            for m in alarm.get("Metrics") or []
            if (m.get("MetricStat") or {}).get("Metric", {}).get("Namespace") == METRIC_NAMESPACE
        ]
        for stat in stats:
            assert stat["Dimensions"] == [{"Name": "service", "Value": "smsgw"}], name
    for widget in _dashboard(template)["widgets"]:
        for row in widget["properties"]["metrics"]:
            if row[0] == METRIC_NAMESPACE:
                assert row[2:4] == ["service", "smsgw"], row


def test_tracing_is_off_by_default_and_switched_in_globals(template):
    """Functions only: an HTTP API is not traced by X-Ray."""
    assert template["Parameters"]["Tracing"]["Default"] == "false"
    assert template["Conditions"]["TracingOn"] == {"Fn::Equals": [{"Ref": "Tracing"}, "true"]}
    assert template["Globals"]["Function"]["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
