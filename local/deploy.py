"""Deploy the SAM template to ministack's CloudFormation with boto3, and bridge its gaps."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from local import template as tpl
from local.build import Artifact
from local.procs import StackError

ARTIFACT_BUCKET = "smsgw-local-artifacts"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
# CloudFormation takes an inline TemplateBody up to 51,200 bytes; a larger template goes through S3
# (TemplateURL), as `sam deploy` does. The template outgrew it with its alarms and dashboard.
TEMPLATE_BODY_MAX_BYTES = 51_200


@dataclass
class Deployment:
    stack_name: str
    outputs: dict[str, str]
    resources: dict[str, dict[str, str]]  # logical id -> {"type": ..., "id": physical id}
    api_url: str | None
    bridged: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def carrier_url(self, output: str, endpoint_url: str) -> str | None:
        """A carrier webhook output (`CarrierDlrUrl`: AWS's https://<id>.lambda-url.<region>.on.aws/…)
        as ministack serves it: path-style, <endpoint>/_aws/lambda-url/<id>/…"""
        return local_function_url(self.outputs.get(output, ""), endpoint_url)


def local_function_url(url: str, endpoint_url: str) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ".lambda-url." not in host:
        return None
    return f"{endpoint_url}/_aws/lambda-url/{host.split('.')[0]}{parts.path}"


class Deployer:
    def __init__(self, endpoint_url: str, region: str, credentials: Mapping[str, str]) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.session = boto3.session.Session(
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )
        self._config = Config(
            retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60
        )

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url, config=self._config)

    # -- artifacts ------------------------------------------------------------------------------

    def upload(self, artifacts: list[Artifact]) -> dict[str, str]:
        """Upload the zips to ministack's S3; returns logical id -> s3:// URI."""
        s3 = self.client("s3")
        try:
            s3.create_bucket(
                Bucket=ARTIFACT_BUCKET, CreateBucketConfiguration={"LocationConstraint": self.region}
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        uris = {}
        for art in artifacts:
            s3.upload_file(str(art.path), ARTIFACT_BUCKET, art.key)
            uris[art.logical_id] = f"s3://{ARTIFACT_BUCKET}/{art.key}"
        return uris

    # -- secrets ---------------------------------------------------------------------------------

    def put_secret(self, name: str, value: Mapping[str, Any]) -> None:
        sm = self.client("secretsmanager")
        body = json.dumps(dict(value))
        try:
            sm.create_secret(Name=name, SecretString=body)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceExistsException":
                raise
            sm.put_secret_value(SecretId=name, SecretString=body)

    # -- the stack -------------------------------------------------------------------------------

    def deploy(
        self,
        stack_name: str,
        template: dict[str, Any],
        artifacts: list[Artifact],
        parameters: Mapping[str, str],
        timeout: float = 120.0,
        mounted_layers: Mapping[str, Path] | None = None,
    ) -> Deployment:
        started = time.monotonic()
        body, bridged = self.localize(template, self.upload(artifacts), mounted_layers)
        known = tpl.parameter_names(template)
        params = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items() if k in known]
        cfn = self.client("cloudformation")
        kwargs = {
            "StackName": stack_name,
            **self._template_argument(json.dumps(body)),
            "Parameters": params,
            "Capabilities": CAPABILITIES,
        }
        if self._stack_status(stack_name) is None:
            cfn.create_stack(**kwargs)
        else:
            try:
                cfn.update_stack(**kwargs)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
        stack = self._wait(stack_name, timeout)
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
        resources = self.stack_resources(stack_name)
        bridged += self.enable_ttl(template, resources)
        return Deployment(
            stack_name=stack_name,
            outputs=outputs,
            resources=resources,
            api_url=self.api_url(resources),
            bridged=bridged,
            seconds=time.monotonic() - started,
        )

    def _template_argument(self, body: str) -> dict[str, str]:
        """TemplateBody when it fits, else the body uploaded to the artifact bucket and its TemplateURL."""
        data = body.encode("utf-8")
        if len(data) <= TEMPLATE_BODY_MAX_BYTES:
            return {"TemplateBody": body}
        key = f"templates/{hashlib.sha256(data).hexdigest()[:16]}.json"
        self.client("s3").put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=data)
        return {"TemplateURL": f"{self.endpoint_url.rstrip('/')}/{ARTIFACT_BUCKET}/{key}"}

    def localize(
        self,
        template: dict[str, Any],
        uris: Mapping[str, str],
        mounted_layers: Mapping[str, Path] | None = None,
    ) -> tuple[dict[str, Any], list[str]]:
        """The template with local code paths replaced by the uploaded s3:// URIs
        and each layer in `mounted_layers` (logical id → its unpacked folder) given to the functions
        as a folder on PYTHONPATH instead of a layer the emulator unpacks for every worker."""
        body = copy.deepcopy(template)
        bridged: list[str] = []
        for layer, folder in (mounted_layers or {}).items():
            users = tpl.mount_layer(body, layer, str(folder / "python"))
            if users:
                bridged.append(f"{layer}: a folder on PYTHONPATH for {', '.join(users)} (unpacked once)")
        for name, res in body["Resources"].items():
            if name not in uris:
                continue
            props = res.setdefault("Properties", {})
            if res["Type"] == tpl.SERVERLESS_LAYER:
                props["ContentUri"] = uris[name]
            else:
                props["CodeUri"] = uris[name]
        return body, bridged

    def _stack_status(self, stack_name: str) -> str | None:
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return stacks[0]["StackStatus"] if stacks else None

    def _wait(self, stack_name: str, timeout: float) -> dict[str, Any]:
        cfn = self.client("cloudformation")
        deadline = time.monotonic() + timeout
        while True:
            stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
            status = stack["StackStatus"]
            if status in DONE:
                return dict(stack)
            if status.endswith(FAILED_SUFFIXES):
                raise StackError(f"stack {stack_name} is {status}:\n{self._failures(stack_name)}")
            if time.monotonic() > deadline:
                raise StackError(f"stack {stack_name} still {status} after {timeout:.0f} s")
            time.sleep(0.1)

    def _failures(self, stack_name: str) -> str:
        events = self.client("cloudformation").describe_stack_events(StackName=stack_name)["StackEvents"]
        lines = [
            f"  {e['LogicalResourceId']} ({e.get('ResourceType')}): {e['ResourceStatus']}"
            f" {e.get('ResourceStatusReason', '')}"
            for e in events
            if str(e.get("ResourceStatus", "")).endswith("FAILED")
        ]
        return "\n".join(reversed(lines)) or "  (no failed resource events)"

    def stack_resources(self, stack_name: str) -> dict[str, dict[str, str]]:
        found = self.client("cloudformation").describe_stack_resources(StackName=stack_name)["StackResources"]
        return {
            r["LogicalResourceId"]: {"type": r["ResourceType"], "id": r.get("PhysicalResourceId", "")}
            for r in found
        }

    # -- gaps -----------------------------------------------------------------------------------

    def enable_ttl(self, template: dict[str, Any], resources: Mapping[str, Mapping[str, str]]) -> list[str]:
        """ministack ignores TimeToLiveSpecification in a template: apply it through the API."""
        ddb = self.client("dynamodb")
        done = []
        for name, res in tpl.resources(template, "AWS::DynamoDB::Table").items():
            spec = (res.get("Properties") or {}).get("TimeToLiveSpecification")
            if not spec or name not in resources or not spec.get("Enabled", False):
                continue
            table = resources[name]["id"]
            current = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                ddb.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"AttributeName": spec["AttributeName"], "Enabled": True},
                )
            done.append(f"TTL on {name}.{spec['AttributeName']} enabled through update_time_to_live")
        return done

    def api_url(self, resources: Mapping[str, Mapping[str, str]]) -> str | None:
        """The URL of the stack's HTTP API on ministack: its `$default` stage, path-style."""
        apis = [r["id"] for r in resources.values() if r["type"] == "AWS::ApiGatewayV2::Api"]
        return f"{self.endpoint_url}/_aws/execute-api/{apis[0]}/$default" if apis else None
