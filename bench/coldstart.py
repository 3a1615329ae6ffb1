"""Benchmark 3: cold start — import + init of each function's module in a fresh interpreter.

Each function's `functions/<name>/app.py` is imported in a new Python process (as Lambda's init
does), plus the creation of the DynamoDB client every function uses on its first request (the
layer creates clients lazily; the baseline creates its client at import, so both pay for one;
until 2026-12-04 the layer built boto3's DynamoDB resource, and older commits measured with
`--against` still do).
The layer is the one `make build` ships: the pinned requirements installed without .pyc (as
`sam build` unpacks wheels) and smsgw's code, both byte-compiled by local/precompile.py when the
measured tree has it; nothing writes bytecode (`PYTHONDONTWRITEBYTECODE`, as on Lambda's read-only
/opt), so what is not precompiled is compiled by every cold start. The baseline is a minimal
Powertools handler (`bench/minimal_app.py`: Logger, HTTP API resolver, one boto3 client) on the same
precompiled dependencies. Processes run in rounds; in each, every function is measured right after
or before (alternating) a baseline sample, and its ratio is the median of those pairs' ratios (the
milliseconds shown are the medians of all samples). `python -X importtime` names the heaviest imports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import stats
from bench.mocked import FAKE_AWS, ROOT
from bench.report import Goal, Section, Table
from local import precompile

BASELINE = "bench.minimal_app"
# The synchronous path (a client waits on it) has the tighter goal (issue 15).
SYNCHRONOUS = frozenset({"authorizer", "token", "send", "sms_json"})
GOAL_SYNCHRONOUS, GOAL_OTHERS = "≤ 1.3", "≤ 1.6"
PROBE = """
import time, importlib, json
t0 = time.perf_counter()
module = importlib.import_module({module!r})
if {init_client!r}:
    from smsgw import db
    db.dynamodb_client()  # before 2026-12-04 this built the resource (its client is this)
print(json.dumps({{"seconds": time.perf_counter() - t0}}))
"""


def functions() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))


@dataclass(frozen=True)
class Layer:
    """A built layer: the dependencies' folder and the code's folder (both /opt/python on Lambda)."""

    deps: Path
    code: Path
    precompiled: bool


def _git_has(ref: str, path: str) -> bool:
    result = subprocess.run(  # noqa: S603 - git, a ref the operator named
        ["git", "cat-file", "-e", f"{ref}:{path}"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _dependencies(requirements: Path, precompiled: bool) -> Path:
    """The requirements installed like sam build does (no .pyc), compiled or not; cached per hash."""
    key = hashlib.sha256(
        requirements.read_bytes() + sys.version.encode() + repr(precompile.UNUSED_DATA).encode()
    ).hexdigest()[:16]
    folder = ROOT / ".smsgw" / "bench" / f"layer-deps-{key}-{'pyc' if precompiled else 'src'}"
    if (folder / ".complete").exists():
        return folder / "python"
    shutil.rmtree(folder, ignore_errors=True)
    precompile.install_requirements(requirements, folder / "python")
    precompile.prune_unused(folder / "python")
    if precompiled:
        precompile.compile_tree(folder / "python", prefix=None)
    (folder / ".complete").write_text("ok\n")
    return folder / "python"


def build_layer(root: Path, precompiled: bool, into: Path) -> Layer:
    """The layer of the tree at `root` as its `make build` ships it; its code copied under `into`."""
    code = into / "python"
    shutil.copytree(
        root / "layers" / "common" / "smsgw", code / "smsgw", ignore=shutil.ignore_patterns("__pycache__")
    )
    if precompiled:
        precompile.compile_tree(code, prefix=None)
    deps = _dependencies(root / "layers" / "common" / "requirements.txt", precompiled)
    return Layer(deps, code, precompiled)


def child_env(root: Path, layer: Layer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_AWS)
    env.update(
        {
            # Lambda's order: the function's code, then the layer; boto3 from the runtime (our venv).
            "PYTHONPATH": os.pathsep.join([str(root), str(layer.code), str(layer.deps), str(ROOT)]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "TABLE_NAME": "smsgw",
            "SEND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/send",
        }
    )
    return env


def measure(module: str, init_client: bool, root: Path, layer: Layer) -> float:
    code = PROBE.format(module=module, init_client=init_client)
    out = subprocess.run(  # noqa: S603 - this interpreter, our own probe code
        [sys.executable, "-c", code],
        cwd=root,
        env=child_env(root, layer),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def importtime(module: str, layer: Layer) -> str:
    out = subprocess.run(  # noqa: S603 - this interpreter, a module name of ours
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=child_env(ROOT, layer),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stderr


_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def parse_importtime(text: str) -> list[tuple[str, int, int, int]]:
    """`-X importtime` output as (module, self µs, cumulative µs, depth); depth 0 = imported directly."""
    rows = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            rows.append((match.group(4), int(match.group(1)), int(match.group(2)), depth))
    return rows


def heaviest(rows: list[tuple[str, int, int, int]], top: int = 6) -> list[tuple[str, int]]:
    """Import time by package: the sum of the *self* time of every module of that top-level package, so
    the figures add up to the whole import (a parent's cumulative time would count its children again)."""
    totals: dict[str, int] = {}
    for module, self_us, _cumulative, _depth in rows:
        root = module.split(".")[0]
        if root in ("functions", "bench"):
            continue
        totals[root] = totals.get(root, 0) + self_us
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def compile_seconds(modules: list[str]) -> float:
    """CPU time to byte-compile these smsgw modules from source (what a cold start pays without .pyc)."""
    total = 0.0
    for module in modules:
        path = ROOT / "layers" / "common" / Path(*module.split("."))
        source = path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
        if not source.exists():
            continue
        text = source.read_text(encoding="utf-8")
        start = time.perf_counter()
        compile(text, str(source), "exec")
        total += time.perf_counter() - start
    return total


WHY = {
    "smsgw.inbound.service": "the inbound domain's service (carrier signatures, reassembly); the send path "
    "needs only smsgw.optouts",
    "smsgw.carrier": "the carrier package: only its signing (Vonage's signed requests); since 2026-12-04 it no "
    "longer re-exports carrier.base",
    "smsgw.numbers.routing": "who holds a number: the one sender check, sender_allowed",
    "smsgw.numbers.service": "the Phone Numbers API: no longer imported by the send path",
    "smsgw.scheduler": "the Scheduler client for send_at and quiet hours",
    "smsgw.schedules": "recurring schedules: no longer imported by the send path",
    "smsgw.webhooks": "status callbacks: no longer imported by the send path (reading messages is apart)",
}


def checkout(ref: str) -> Path:
    """The functions and the layer as they were at `ref`, in a temporary folder (removed by the caller)."""
    folder = Path(tempfile.mkdtemp(prefix="smsgw-coldstart-"))
    archive = subprocess.run(  # noqa: S603 - git, a ref the operator named
        ["git", "archive", "--format=tar", ref, "functions", "layers/common"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)  # noqa: S603,S607
    return folder


def against(ref: str, names: list[str], rounds: int, layer: Layer) -> Table:
    """This tree's cold start over `ref`'s, function by function, measured in the same run: the two
    alternate (which goes first swaps every round, so a drift in the machine's speed cancels out),
    each with its own layer as its `make build` shipped it, and the baseline in every round too."""
    old_root = checkout(ref)
    try:
        old_layer = build_layer(old_root, _git_has(ref, "local/precompile.py"), old_root / "build")
        old_names = {p.parent.name for p in (old_root / "functions").glob("*/app.py")}
        common = [name for name in names if name in old_names]
        new: dict[str, list[float]] = {name: [] for name in common}
        old: dict[str, list[float]] = {name: [] for name in common}
        base: list[float] = []
        for round_number in range(rounds):
            base.append(measure(BASELINE, init_client=False, root=ROOT, layer=layer))
            for name in common:
                module = f"functions.{name}.app"
                pair = [(new, ROOT, layer), (old, old_root, old_layer)]
                for samples, root, built in pair if round_number % 2 == 0 else reversed(pair):
                    samples[name].append(measure(module, init_client=True, root=root, layer=built))
    finally:
        shutil.rmtree(old_root, ignore_errors=True)
    baseline = stats.median(base)
    rows = []
    for name in common:
        now, before = stats.median(new[name]), stats.median(old[name])
        rows.append(
            [
                name,
                f"{before * 1000:.0f} ms",
                f"{before / baseline:.2f}",
                f"{now * 1000:.0f} ms",
                f"{now / baseline:.2f}",
                f"{now / before:.2f}",
            ]
        )
    layers = f"layer at {ref}: {'precompiled' if old_layer.precompiled else 'sources only, as sam build shipped it'}"
    return Table(
        ["function", f"at {ref}", "÷ baseline", "this tree", "÷ baseline", "this tree ÷ before"],
        rows,
        title=f"This tree against `{ref}` (same run, {rounds} alternating rounds, medians; baseline "
        f"{baseline * 1000:.0f} ms; {layers})",
    )


def run(quick: bool = False, against_ref: str | None = None) -> Section:
    names = functions()
    rounds = 2 if quick else 9
    build_dir = Path(tempfile.mkdtemp(prefix="smsgw-coldstart-layer-"))
    try:
        return _run(names, rounds, build_layer(ROOT, True, build_dir), against_ref)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def _run(names: list[str], rounds: int, layer: Layer, against_ref: str | None) -> Section:
    # Each function is measured next to its own baseline sample (which goes first swaps every round) and
    # its figure is the median of those pairs' ratios: a drift in the machine's speed during the run
    # (measured: the baseline's median moved 328 → 363 ms within one run) cancels out in each pair.
    samples: dict[str, list[float]] = {name: [] for name in [BASELINE, *names]}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names:
            pair = [
                (BASELINE, BASELINE, False),
                (name, f"functions.{name}.app", True),
            ]
            taken: dict[str, float] = {}
            for key, module, init_client in pair if round_number % 2 == 0 else reversed(pair):
                taken[key] = measure(module, init_client=init_client, root=ROOT, layer=layer)
                samples[key].append(taken[key])
            ratios[name].append(taken[name] / taken[BASELINE])
    base = stats.median(samples[BASELINE])
    goals = []
    heavy_rows = []
    send_smsgw_modules: list[str] = []
    send_rows: list[tuple[str, int, int, int]] = []
    for name in names:
        value = stats.median(samples[name])
        goals.append(
            Goal(
                f"{name}: import + init",
                f"{value * 1000:.0f} ms",
                f"{base * 1000:.0f} ms",
                stats.median(ratios[name]),
                GOAL_SYNCHRONOUS if name in SYNCHRONOUS else GOAL_OTHERS,
            )
        )
        rows = parse_importtime(importtime(f"functions.{name}.app", layer))
        heavy_rows.append([name, ", ".join(f"{m} {us / 1000:.0f} ms" for m, us in heaviest(rows, 6))])
        if name == "send":
            send_smsgw_modules = sorted({m for m, *_ in rows if m.startswith("smsgw")})
            send_rows = rows
    base_rows = parse_importtime(importtime(BASELINE, layer))
    heavy_rows.insert(
        0, ["(baseline)", ", ".join(f"{m} {us / 1000:.0f} ms" for m, us in heaviest(base_rows, 6))]
    )
    compile_ms = compile_seconds(send_smsgw_modules) * 1000
    # Modules SendFunction imports at cold start although a send uses little or nothing of them.
    suspects = [
        "smsgw.inbound.service",
        "smsgw.carrier",
        "smsgw.numbers.routing",
        "smsgw.numbers.service",
        "smsgw.scheduler",
        "smsgw.schedules",
        "smsgw.webhooks",
    ]
    found = {m: cum for m, _s, cum, _d in send_rows if m in suspects}
    send_table = Table(
        ["module (imported by SendFunction)", "cumulative import time", "why it is there"],
        [[m, f"{found[m] / 1000:.0f} ms", WHY.get(m, "")] for m in suspects if m in found],
        title="SendFunction: imports a send does not need at cold start",
    )
    tables = [
        Table(
            ["function", "heaviest imports"],
            heavy_rows,
            title="Heaviest imports (per package: the sum of its own modules' import time, `-X importtime`)",
        ),
        send_table,
    ]
    if against_ref:
        tables.append(against(against_ref, names, rounds * 2, layer))
    notes = [
        f"{rounds} rounds, one fresh interpreter per function and one for its paired baseline sample per "
        f"round; the ratio is the median of the pairs' ratios. The baseline is `{BASELINE}`.",
        f"Goals: {GOAL_SYNCHRONOUS} for the synchronous path ({', '.join(sorted(SYNCHRONOUS))}), "
        f"{GOAL_OTHERS} for the rest (issue 15).",
        f"The layer measured is precompiled (`make build`). Without its .pyc files, as `sam build` alone "
        f"ships it, a cold start also compiles every module it imports: for SendFunction's "
        f"{len(send_smsgw_modules)} smsgw modules alone that is {compile_ms:.0f} ms, and the dependencies "
        "(Powertools, pydantic, requests…) cost more (`--against` an older commit shows the whole of it).",
        "Figures are CPU-bound: on Lambda, a function's share of a vCPU scales with MemorySize.",
    ]
    return Section(
        "coldstart",
        "3. Cold start (import + init, fresh interpreter)",
        __doc__.split("\n\n", 1)[1] if __doc__ else "",
        goals=goals,
        tables=tables,
        notes=notes,
    )
