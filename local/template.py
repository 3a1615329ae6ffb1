"""Read the SAM template (YAML with CloudFormation short-form tags) into plain JSON-able data.

`!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` becomes `{"Fn::GetAtt": ["A", "B"]}`, every
other `!Fn` becomes `{"Fn::Fn": ...}`: the long form CloudFormation accepts, so the template
can be sent to ministack's CloudFormation as JSON after the local paths are rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard

import yaml

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_LAYER = "AWS::Serverless::LayerVersion"


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that also understands the CloudFormation short-form tags."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """The template at `path` as plain data (short-form tags expanded)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation/SAM template (no Resources)")
    return data


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The resources of one type, by logical id."""
    return {
        name: res
        for name, res in (template.get("Resources") or {}).items()
        if isinstance(res, dict) and res.get("Type") == kind
    }


def function_code_uri(template: dict[str, Any], resource: dict[str, Any]) -> Any:
    """A function's CodeUri, falling back to Globals.Function.CodeUri."""
    props = resource.get("Properties") or {}
    if "CodeUri" in props:
        return props["CodeUri"]
    return ((template.get("Globals") or {}).get("Function") or {}).get("CodeUri")


def is_local_path(uri: Any) -> TypeGuard[str]:
    return isinstance(uri, str) and "://" not in uri


def parameter_names(template: dict[str, Any]) -> set[str]:
    return set((template.get("Parameters") or {}).keys())


def mount_layer(template: dict[str, Any], layer: str, folder: str) -> list[str]:
    """Replace `!Ref layer` in Globals.Function.Layers and each function's Layers with `folder` on
    PYTHONPATH (where the layer's python/ is unpacked); returns who used it ("Globals" or function ids).

    The same code on the same import path order as a layer (after the function's own code, before the
    runtime's packages), without the emulator unpacking it for each worker it starts."""
    users = []
    holders = [("Globals", (template.get("Globals") or {}).get("Function"))]
    holders += [
        (name, res.get("Properties")) for name, res in resources(template, SERVERLESS_FUNCTION).items()
    ]
    for name, props in holders:
        if not isinstance(props, dict) or {"Ref": layer} not in (props.get("Layers") or []):
            continue
        props["Layers"] = [ref for ref in props["Layers"] if ref != {"Ref": layer}]
        if not props["Layers"]:
            del props["Layers"]
        variables = props.setdefault("Environment", {}).setdefault("Variables", {})
        variables["PYTHONPATH"] = folder
        users.append(name)
    return users
