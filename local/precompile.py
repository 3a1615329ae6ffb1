"""Byte-compile a built layer for the Lambda runtime, so a cold start loads .pyc instead of compiling.

`sam build` (BuildMethod python3.12) ships the layer's sources and its dependencies' wheels
unpacked, without one .pyc; /opt is read-only on Lambda, so every cold start compiled every module
it imported (smsgw and pydantic, Powertools, requests…: 2-3× the import time, docs/benchmarks.md §3).

`make build` runs this on `.aws-sam/build/CommonLayer/python` after `sam build`; the local stack
(local/build.py) and the cold-start benchmark (bench/coldstart.py) build their layers with it too.

- The interpreter that compiles is the runtime's (python3.12): a .pyc is only read by the Python
  version that wrote it (`__pycache__/x.cpython-312.pyc`).
- `--invalidation-mode unchecked-hash`: the .pyc is used without looking at the source again. A
  layer version never changes, so nothing can make it stale; the default (timestamp) mode compares
  the source's mtime, which a zip keeps only to 2 s (or not at all) — a mismatch makes Python
  recompile on every cold start, as it cannot write to /opt. checked-hash would be safe too but
  reads and hashes each source on every import.
- The file names inside the .pyc are rewritten from the build folder to where the code runs
  (`/opt/python` on Lambda), so tracebacks still show source lines.
- Data the gateway never imports is removed first (`UNUSED_DATA`): phonenumbers' geocoder data
  alone is 39 of the layer's 65 MB and 1,209 of its 3,327 files. Lambda downloads and unpacks
  every byte of a layer for each new execution environment (the local emulator unpacks it for each
  worker it starts: 0.7 s of its one process per worker, measured on this machine).

Standard library only: `make build` runs it with the bare python3.12, outside any venv.

    python3.12 -m local.precompile .aws-sam/build/CommonLayer/python [--prefix /opt/python]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

LAMBDA_LAYER_PATH = "/opt/python"
# Packages' data the gateway never imports (tests/unit/test_precompiled_layer.py keeps it that way):
# phonenumbers' geocoder (place names per number range) and carrier names. smsgw uses phonenumbers'
# parsing, validation and time zones (quiet hours), whose data stays.
UNUSED_DATA = ("phonenumbers/geodata", "phonenumbers/carrierdata")


def install_requirements(requirements: Path, target: Path, python: str | None = None) -> None:
    """`pip install -r requirements --target target` as sam build does it (no .pyc written)."""
    subprocess.run(
        [
            python or sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-compile",
            "-r",
            str(requirements),
            "--target",
            str(target),
        ],
        capture_output=True,
        check=True,
    )


def prune_unused(folder: Path) -> list[Path]:
    """Remove `UNUSED_DATA` from an installed layer folder; returns what was removed."""
    removed = []
    for relative in UNUSED_DATA:
        path = folder / relative
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(path)
    return removed


def compile_tree(folder: Path, python: str | None = None, prefix: str | None = LAMBDA_LAYER_PATH) -> str:
    """Byte-compile every .py under `folder` with `python` (default: this interpreter).

    `prefix`: the folder's path where the code will run (the file name recorded in each .pyc);
    None keeps `folder` itself. Returns compileall's complaints ("" when every file compiled): a
    file that does not compile keeps its source only, and `missing_pyc` names it.
    """
    argv = [
        python or sys.executable,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
    ]
    if prefix is not None:
        argv += ["-s", str(folder), "-p", prefix]
    argv.append(str(folder))
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONDONTWRITEBYTECODE")}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    return "" if result.returncode == 0 else (result.stdout + result.stderr).strip()


def cache_tag(python: str | None = None) -> str:
    """The interpreter's .pyc tag, e.g. cpython-312."""
    if python is None or python == sys.executable:
        return str(sys.implementation.cache_tag)
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def missing_pyc(folder: Path, tag: str) -> list[Path]:
    """The .py files under `folder` that have no `__pycache__/<name>.<tag>.pyc` beside them."""
    missing = []
    for source in sorted(folder.rglob("*.py")):
        if "__pycache__" in source.parts:
            continue
        if not (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file():
            missing.append(source)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3.12 -m local.precompile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folder", type=Path, help="the built layer's python/ folder")
    parser.add_argument(
        "--prefix", default=LAMBDA_LAYER_PATH, help=f"where the folder runs (default {LAMBDA_LAYER_PATH})"
    )
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder (run sam build first)")
    prune_unused(args.folder)
    complaints = compile_tree(args.folder, prefix=args.prefix)
    if complaints:
        print(complaints[-3000:], file=sys.stderr)
    missing = missing_pyc(args.folder, cache_tag())
    # A source compileall cannot compile (a py2-only file some wheel ships) keeps its source only;
    # everything the layer's own package imports must compile.
    if any("smsgw" in path.parts for path in missing):
        print(f"not compiled: {', '.join(map(str, missing[:10]))}", file=sys.stderr)
        return 1
    count = sum(1 for _ in args.folder.rglob(f"*.{cache_tag()}.pyc"))
    print(
        f"precompiled {args.folder}: {count} .pyc files for {cache_tag()} (unchecked-hash), "
        f"without {', '.join(UNUSED_DATA)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
