"""The local stack gives its functions the layer as a folder unpacked once (docs/local-stack.md): the
emulator unpacked the 10 MB zip for every worker it started, in its one process, and a burst of cold
starts then stalled every AWS call (a chaos run measured worker starts of 60–110 s)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from local import template as tpl
from local.build import Artifact, ArtifactBuilder
from tests.conftest import ROOT


def test_every_function_that_used_the_layer_gets_its_folder_on_pythonpath_instead() -> None:
    body = tpl.load_template(ROOT / "template.yaml")  # as the local stack reads it: !Ref kept
    functions = tpl.resources(body, tpl.SERVERLESS_FUNCTION)
    assert {"Ref": "CommonLayer"} in body["Globals"]["Function"]["Layers"]  # the check can fail

    users = tpl.mount_layer(body, "CommonLayer", "/unpacked/python")

    assert users == ["Globals"]  # every function takes the layer from Globals
    assert "Layers" not in body["Globals"]["Function"]
    assert body["Globals"]["Function"]["Environment"]["Variables"]["PYTHONPATH"] == "/unpacked/python"
    assert all("Layers" not in (res.get("Properties") or {}) for res in functions.values())
    assert "CommonLayer" in body["Resources"]  # still deployed, as on AWS


def test_a_function_with_its_own_layers_keeps_the_others() -> None:
    body = {
        "Resources": {
            "F": {
                "Type": tpl.SERVERLESS_FUNCTION,
                "Properties": {"Layers": [{"Ref": "Common"}, "arn:aws:lambda:x:1:layer:other:1"]},
            },
            "G": {"Type": tpl.SERVERLESS_FUNCTION, "Properties": {"Environment": {"Variables": {"A": "1"}}}},
        }
    }

    assert tpl.mount_layer(body, "Common", "/c/python") == ["F"]

    assert body["Resources"]["F"]["Properties"] == {
        "Layers": ["arn:aws:lambda:x:1:layer:other:1"],
        "Environment": {"Variables": {"PYTHONPATH": "/c/python"}},
    }
    assert body["Resources"]["G"]["Properties"] == {"Environment": {"Variables": {"A": "1"}}}


def test_the_layer_is_unpacked_once_and_its_code_imports_from_the_folder(tmp_path: Path) -> None:
    zip_path = tmp_path / "layers" / "CommonLayer-0123456789abcdef.zip"
    zip_path.parent.mkdir()
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("python/layered/__init__.py", "WHERE = 'layer'\n")
    artifact = Artifact("CommonLayer", "ContentUri", zip_path, "0" * 64)
    builder = ArtifactBuilder(tmp_path, tmp_path, Path(sys.executable), log=lambda *_: None)

    folder = builder.unpacked(artifact)
    (folder / "python" / "marker").write_text("kept", encoding="utf-8")

    assert builder.unpacked(artifact) == folder
    assert (folder / "python" / "marker").read_text(encoding="utf-8") == "kept"  # not unpacked again
    result = subprocess.run(
        [sys.executable, "-c", "import layered; print(layered.WHERE)"],
        env={"PYTHONPATH": str(folder / "python")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "layer"
