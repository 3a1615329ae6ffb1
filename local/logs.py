"""What the local stack's handlers logged: ministack keeps it in CloudWatch Logs, one group per function."""

from __future__ import annotations

from typing import Any

from local.deploy import Deployer
from local.services import CREDENTIALS


def read_lambda_logs(
    endpoint_url: str, region: str, *, since: float | None = None, function: str | None = None
) -> str:
    """The handlers' log lines, per function: ministack writes them to /aws/lambda/<function name>."""
    logs = Deployer(endpoint_url, region, CREDENTIALS).client("logs")
    groups = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/")
        for g in page["logGroups"]
    ]
    out = []
    for group in sorted(groups):
        if function and function.lower() not in group.lower():
            continue
        kwargs: dict[str, Any] = {"logGroupName": group}
        if since:
            kwargs["startTime"] = int(since * 1000)
        events = [
            e for page in logs.get_paginator("filter_log_events").paginate(**kwargs) for e in page["events"]
        ]
        if events:
            out.append(f"== {group}")
            out += [e["message"].rstrip() for e in sorted(events, key=lambda e: e["timestamp"])]
    return "\n".join(out)


def ministack_errors(text: str) -> list[str]:
    """The last 50 ERROR lines of ministack's log (a handler that failed to import, a worker init failure)."""
    return [line for line in text.splitlines() if " ERROR " in line][-50:]
