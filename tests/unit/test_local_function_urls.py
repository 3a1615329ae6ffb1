"""The local stack reaches the functions' URLs path-style: ministack hands out AWS's host-style ones."""

from __future__ import annotations

from local.deploy import Deployment, local_function_url

ENDPOINT = "http://127.0.0.1:4566"


def test_a_function_url_becomes_ministacks_path_style_url():
    aws = "https://abc123def456.lambda-url.eu-west-1.on.aws/carrier/dlr"
    assert local_function_url(aws, ENDPOINT) == f"{ENDPOINT}/_aws/lambda-url/abc123def456/carrier/dlr"


def test_anything_else_is_not_a_function_url():
    assert (
        local_function_url("https://b5e95506.execute-api.eu-west-1.amazonaws.com/v1/carrier/dlr", ENDPOINT)
        is None
    )
    assert local_function_url("", ENDPOINT) is None


def test_the_deployment_reads_the_carrier_outputs():
    deployment = Deployment(
        stack_name="s",
        outputs={"CarrierDlrUrl": "https://x1.lambda-url.eu-west-1.on.aws/carrier/dlr"},
        resources={},
        api_url=None,
    )
    assert deployment.carrier_url("CarrierDlrUrl", ENDPOINT) == f"{ENDPOINT}/_aws/lambda-url/x1/carrier/dlr"
    assert deployment.carrier_url("CarrierInboundUrl", ENDPOINT) is None
