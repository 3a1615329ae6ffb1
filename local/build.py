"""Install the emulator's venv and build the Lambda artifacts (function zips, layer zip).

Everything is cached: `.venv-stack` is re-installed only when `local/requirements-stack.txt`
changes (a stamp file), a layer's dependencies only when its requirements.txt changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local import precompile
from local import template as tpl
from local.procs import StackError

LOCAL_DIR = Path(__file__).resolve().parent
REQUIREMENTS_STACK = LOCAL_DIR / "requirements-stack.txt"
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (e.g. `make run` and the e2e tests building at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], what: str, **kwargs: Any) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise StackError(f"{what} failed ({' '.join(argv)}):\n{result.stdout[-2000:]}{result.stderr[-4000:]}")


# ---------------------------------------------------------------------------------------------
# The emulator's venv
# ---------------------------------------------------------------------------------------------


def _works(python: str) -> str | None:
    """The interpreter's real path if `python` runs and is >= 3.11, else None."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.executable); print(sys.version_info >= (3, 11))"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.split()
    if out.returncode != 0 or len(lines) != 2 or lines[1] != "True":
        return None
    return lines[0]


def find_lambda_python() -> str:
    """The Lambda runtime's Python (3.12) if it can be found, else the system python3.

    Order: `python3.12` on PATH (a pyenv shim fails unless a 3.12 is selected: then it is
    skipped), any pyenv 3.12 install, then `python3`.
    """
    candidates: list[str] = []
    if which := shutil.which("python3.12"):
        candidates.append(which)
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"), reverse=True)
    for candidate in candidates:
        if found := _works(candidate):
            return found
    for fallback in (shutil.which("python3"), sys.executable):
        if fallback and (found := _works(fallback)):
            return found
    raise StackError("no usable python3 (>= 3.11) found for the emulator's venv")


def ensure_stack_venv(venv: Path, log: Any = print) -> Path:
    """Create/refresh `venv` with local/requirements-stack.txt; returns its python."""
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    wanted = _sha256(REQUIREMENTS_STACK.read_bytes())
    with file_lock(venv.parent / ".smsgw" / "locks" / "venv-stack.lock"):
        if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return python
        if not python.exists() or not _works(str(python)):
            base = find_lambda_python()
            log(f"creating {venv.name} with {base}")
            _run([base, "-m", "venv", "--clear", str(venv)], "creating the emulator venv")
        log(f"installing {REQUIREMENTS_STACK.relative_to(LOCAL_DIR.parent)} into {venv.name}")
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS_STACK),
            ],
            "installing the emulator",
        )
        stamp.write_text(wanted + "\n")
    return python


# ---------------------------------------------------------------------------------------------
# Artifacts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    """One zip to upload: the resource it belongs to, the template property to point at it."""

    logical_id: str
    prop: str  # "CodeUri" or "ContentUri"
    path: Path
    sha256: str

    @property
    def key(self) -> str:
        return f"{self.logical_id}-{self.sha256[:16]}.zip"


def _source_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """(file, archive name relative to `folder`) for every file worth shipping, sorted."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if name.endswith(SKIP_SUFFIXES):
                continue
            path = Path(dirpath) / name
            yield path, path.relative_to(folder).as_posix()


def _staged_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every file under `folder` (sources and their __pycache__), sorted, named relative to it."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            yield path, path.relative_to(folder).as_posix()


def _requirements(folder: Path) -> Path | None:
    req = folder / "requirements.txt"
    if not req.is_file():
        return None
    lines = [ln.split("#", 1)[0].strip() for ln in req.read_text().splitlines()]
    return req if any(lines) else None


def _atomic_zip(dest: Path, entries: Iterator[tuple[Path, str]], base: Path | None = None) -> None:
    """Write a zip to `dest` atomically: `base` (an existing zip) copied, then `entries` added."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if base is not None:
            shutil.copyfile(base, tmp)
        with zipfile.ZipFile(
            tmp, "a" if base is not None else "w", zipfile.ZIP_DEFLATED, compresslevel=1
        ) as zf:
            for path, arcname in entries:
                zf.write(path, arcname)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _content_digest(entries: list[tuple[Path, str]], extra: bytes = b"") -> str:
    digest = hashlib.sha256(extra)
    for path, arcname in entries:
        digest.update(arcname.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class ArtifactBuilder:
    """Builds the zips a template's local CodeUri/ContentUri folders stand for, under `build_dir`."""

    def __init__(self, root: Path, build_dir: Path, lambda_python: Path, log: Any = print) -> None:
        self.root = root
        self.build_dir = build_dir
        self.lambda_python = lambda_python
        self.log = log

    def _python_tag(self) -> str:
        out = subprocess.run(
            [str(self.lambda_python), "-c", "import sys, platform; print(sys.version, platform.machine())"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def dependencies_zip(self, requirements: Path) -> Path:
        """A zip of `pip install -r requirements --target python/`, built once per requirements hash.

        Installed by the interpreter that runs the handlers (ministack's), so compiled wheels
        (pydantic-core) match it; byte-compiled with unchecked hashes, so the .pyc files stay
        valid after ministack extracts the zip (extraction does not keep modification times).
        """
        key = _sha256(
            requirements.read_bytes(), self._python_tag().encode(), repr(precompile.UNUSED_DATA).encode()
        )[:16]
        zip_path = self.build_dir / "deps" / f"{key}.zip"
        if zip_path.exists():
            return zip_path
        self.log(f"installing {requirements.relative_to(self.root)} for the Lambda runtime (once)")
        with tempfile.TemporaryDirectory(dir=self.build_dir) as tmp:
            target = Path(tmp) / "python"
            try:
                precompile.install_requirements(requirements, target, python=str(self.lambda_python))
            except subprocess.CalledProcessError as error:
                raise StackError(
                    f"installing {requirements} failed:\n{(error.stderr or b'')[-4000:]!r}"
                ) from error
            precompile.prune_unused(target)
            complaints = precompile.compile_tree(target, python=str(self.lambda_python), prefix=None)
            if complaints:
                raise StackError(f"byte-compiling the layer dependencies failed:\n{complaints[-4000:]}")
            entries = []
            for dirpath, dirnames, filenames in os.walk(target):
                dirnames.sort()
                for name in sorted(filenames):
                    path = Path(dirpath) / name
                    entries.append((path, path.relative_to(Path(tmp)).as_posix()))
            _atomic_zip(zip_path, iter(entries))
        return zip_path

    def layer(self, logical_id: str, folder: Path) -> Artifact:
        """Like `make build` (sam build with BuildMethod python3.12, then local/precompile.py):
        requirements + the folder's code under python/, byte-compiled by the Lambda runtime's Python.

        The code's .pyc files record the repository's source paths, so a handler's traceback in
        `make logs` shows the lines of layers/common/…; the zip stays content-addressed (an
        unchecked-hash .pyc holds the source's hash, not its mtime).
        """
        sources = list(_source_files(folder))
        sources = [(p, f"python/{name}") for p, name in sources if name != "requirements.txt"]
        req = _requirements(folder)
        deps = self.dependencies_zip(req) if req else None
        digest = _content_digest(sources, extra=(deps.name.encode() if deps else b"") + b"pyc")
        dest = self.build_dir / "layers" / f"{logical_id}-{digest[:16]}.zip"
        if not dest.exists():
            self.build_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.build_dir) as tmp:
                staged = Path(tmp)
                for path, arcname in sources:
                    (staged / arcname).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, staged / arcname)
                complaints = precompile.compile_tree(
                    staged / "python", python=str(self.lambda_python), prefix=str(folder)
                )
                if complaints:
                    raise StackError(f"byte-compiling {folder} failed:\n{complaints}")
                _atomic_zip(dest, _staged_files(staged), base=deps)
        return Artifact(logical_id, "ContentUri", dest, _file_digest(dest))

    def function(self, logical_id: str, folder: Path) -> Artifact:
        """The function's folder zipped at the root (plus its own requirements, if it has any)."""
        sources = list(_source_files(folder))
        req = _requirements(folder)
        deps = self.dependencies_zip(req) if req else None
        if deps:  # a function's own dependencies go to the zip root, not python/
            raise StackError(
                f"{folder}: per-function requirements.txt is not supported locally; use the layer"
            )
        digest = _content_digest(sources)
        dest = self.build_dir / "functions" / f"{logical_id}-{digest[:16]}.zip"
        if not dest.exists():
            _atomic_zip(dest, iter(sources))
        return Artifact(logical_id, "CodeUri", dest, _file_digest(dest))

    def build(self, template: dict[str, Any]) -> list[Artifact]:
        """One artifact per local CodeUri/ContentUri in the template."""
        artifacts: list[Artifact] = []
        with file_lock(self.build_dir / ".lock"):
            for name, res in tpl.resources(template, tpl.SERVERLESS_LAYER).items():
                uri = (res.get("Properties") or {}).get("ContentUri")
                if tpl.is_local_path(uri):
                    artifacts.append(self.layer(name, self._folder(name, uri)))
            for name, res in tpl.resources(template, tpl.SERVERLESS_FUNCTION).items():
                if "InlineCode" in (res.get("Properties") or {}):
                    continue
                uri = tpl.function_code_uri(template, res)
                if tpl.is_local_path(uri):
                    artifacts.append(self.function(name, self._folder(name, uri)))
        self._prune(artifacts)
        return artifacts

    def unpacked(self, artifact: Artifact) -> Path:
        """The layer zip unpacked once into a folder beside it (what Lambda mounts read-only at /opt).

        The local stack points its functions at this folder (local/deploy.py, `mounted_layers`) instead of
        letting the emulator unpack the 10 MB, 3,000-file zip for every worker it starts: ministack does
        that in its one process, so a burst of cold starts (a chaos run's crashes, a flood of carrier
        retries) slowed every AWS call and every other start with it (docs/local-stack.md).
        """
        folder = artifact.path.with_suffix("")
        if folder.is_dir():
            os.utime(folder)  # in use again: _prune keeps it
            return folder
        tmp = Path(tempfile.mkdtemp(dir=artifact.path.parent, prefix=f".{folder.name}-"))
        with zipfile.ZipFile(artifact.path) as zf:
            zf.extractall(tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another stack unpacked it first: the same content
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def _prune(self, current: list[Artifact]) -> None:
        """Remove the zips of earlier builds (the dependency cache stays), and unpacked layers.

        Zips only when older than a few minutes: another local stack may be about to upload one. An
        unpacked layer is read by a running stack's functions for as long as it runs, so only one
        unused for a day goes.
        """
        keep = {art.path for art in current} | {art.path.with_suffix("") for art in current}
        now = time.time()
        for art in current:
            for old in art.path.parent.glob(f"{art.logical_id}-*"):
                with contextlib.suppress(OSError):
                    age = now - old.stat().st_mtime
                    if old in keep or age < (86_400 if old.is_dir() else 600):
                        continue
                    if old.is_dir():
                        shutil.rmtree(old)
                    else:
                        old.unlink()

    def _folder(self, logical_id: str, uri: str) -> Path:
        folder = (self.root / uri).resolve()
        if not folder.is_dir():
            raise StackError(f"{logical_id}: {uri} is not a folder under {self.root}")
        return folder
