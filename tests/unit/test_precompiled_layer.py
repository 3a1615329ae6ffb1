"""The layer ships byte-compiled: a cold start on Lambda's read-only /opt loads .pyc, never compiles.

`make build` runs `python3.12 -m local.precompile` on sam build's layer; the local stack's layer
zip (local/build.py) is compiled the same way. Both are checked here on a copy of the layer's
code (no sam build, no pip: a couple of seconds).
"""

from __future__ import annotations

import ast
import marshal
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from local.build import ArtifactBuilder
from local.precompile import UNUSED_DATA, missing_pyc
from local.precompile import main as precompile_main
from local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"
TAG = sys.implementation.cache_tag


def _pyc_header(path: Path) -> tuple[int, str]:
    """(flags, the file name the code object records) of a .pyc."""
    data = path.read_bytes()
    flags = int.from_bytes(data[4:8], "little")
    code = marshal.loads(data[16:])  # noqa: S302 - a .pyc this test just wrote
    return flags, code.co_filename


@pytest.fixture
def layer_copy(tmp_path: Path) -> Path:
    python = tmp_path / "python"
    shutil.copytree(LAYER / "smsgw", python / "smsgw", ignore=shutil.ignore_patterns("__pycache__"))
    return python


def test_every_module_of_the_built_layer_has_an_unchecked_pyc_for_the_runtime(
    layer_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert missing_pyc(layer_copy, TAG)  # nothing compiled yet: the check can fail

    assert precompile_main([str(layer_copy)]) == 0

    assert missing_pyc(layer_copy, TAG) == []
    assert "(unchecked-hash)" in capsys.readouterr().out
    pyc = layer_copy / "smsgw" / "__pycache__" / f"db.{TAG}.pyc"
    flags, filename = _pyc_header(pyc)
    assert flags == 0b01  # hash-based, source never checked: valid whatever mtimes the zip keeps
    assert filename == "/opt/python/smsgw/db.py"  # where Lambda runs it: tracebacks show source lines


def test_a_cold_import_of_the_precompiled_layer_reads_no_source(layer_copy: Path) -> None:
    assert precompile_main([str(layer_copy)]) == 0
    # Replace every source with one that fails: importing must still work, from the .pyc alone.
    for source in layer_copy.rglob("*.py"):
        source.write_text("raise ImportError('compiled from source')\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(layer_copy), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import smsgw.db, smsgw.edges.docs, smsgw.edges.routes.messages; print('ok')"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_the_local_stacks_layer_zip_holds_a_pyc_for_every_module(tmp_path: Path) -> None:
    folder = tmp_path / "common"  # the layer's code without requirements.txt: no pip install here
    shutil.copytree(LAYER / "smsgw", folder / "smsgw", ignore=shutil.ignore_patterns("__pycache__"))
    builder = ArtifactBuilder(tmp_path, tmp_path / "build", Path(sys.executable), log=lambda *_: None)

    artifact = builder.layer("CommonLayer", folder)

    with zipfile.ZipFile(artifact.path) as zf:
        names = set(zf.namelist())
    sources = sorted(n for n in names if n.endswith(".py"))
    assert len(sources) > 50
    missing = [
        n for n in sources if f"{n.rsplit('/', 1)[0]}/__pycache__/{Path(n).stem}.{TAG}.pyc" not in names
    ]
    assert missing == []


def test_make_build_precompiles_the_layer_sam_builds() -> None:
    """The path `make build` compiles is the one sam build writes the template's layer to."""
    layers = [
        name
        for name, res in load_template(ROOT / "template.yaml")["Resources"].items()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    ]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    compiled = re.findall(r"-m local\.precompile \.aws-sam/build/(\w+)/python", makefile)
    assert sorted(compiled) == sorted(layers) == ["CommonLayer"]


def test_the_layer_ships_without_the_phone_number_data_the_gateway_never_reads(layer_copy: Path) -> None:
    """phonenumbers' geocoder and carrier data (≈ 40 MB, a third of the layer's files) are removed."""
    package = layer_copy / "phonenumbers"
    for kept in ("data", "tzdata", "shortdata"):
        (package / kept).mkdir(parents=True)
        (package / kept / "__init__.py").write_text("", encoding="utf-8")
    for unused in ("geodata", "carrierdata"):
        (package / unused / "sub").mkdir(parents=True)
        (package / unused / "__init__.py").write_text("", encoding="utf-8")

    assert precompile_main([str(layer_copy)]) == 0

    assert sorted(p.name for p in package.iterdir() if p.name != "__pycache__") == [
        "data",
        "shortdata",
        "tzdata",
    ]


def _phonenumbers_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("phonenumbers")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("phonenumbers"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {str(node.module)}
    return found


def test_no_code_imports_the_phone_number_data_the_layer_leaves_out() -> None:
    """What local/precompile.py removes must stay unused: a module that needs the geocoder or the
    carrier names would fail only on Lambda and the local stack, never in unit tests."""
    roots = [LAYER / "smsgw", ROOT / "functions"]
    imported: set[str] = set()
    for root in roots:
        for source in root.rglob("*.py"):
            imported |= _phonenumbers_imports(ast.parse(source.read_text(encoding="utf-8")))
    assert "phonenumbers.timezone" in imported  # the scan sees imports (quiet hours use time zones)
    unused = {"phonenumbers." + path.split("/")[1] for path in UNUSED_DATA}
    users = {"phonenumbers.geocoder", "phonenumbers.carrier"} | unused
    assert imported & users == set()
