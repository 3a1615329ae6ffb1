"""Benchmark 5: memory — peak RSS per function while handling a batch, and the MemorySize to give it.

One fresh process per function. It first imports the function's module and creates its AWS client
outside any mock (RSS after that is the function's footprint at the end of init), then starts moto,
prepares what a batch needs, resets the kernel's peak-RSS mark (/proc/self/clear_refs) and hands the
function one batch (10 requests or 10 queue records). Estimated peak in Lambda = RSS after init +
growth while handling the batch (moto's own memory is excluded because it was there before the reset).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.coldstart import Layer, build_layer, child_env
from bench.mocked import ROOT
from bench.report import Section, Table
from bench.workloads import FUNCTIONS

PROBE = """
import importlib, json, os, sys
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
importlib.import_module("functions.{name}.app")
from smsgw import db
db.dynamodb_client(); db.sqs()
after_init = status("VmRSS")
from bench.mocked import moto_env, captured_stdout
from bench.workloads import batch_for
with moto_env(carrier=True, receiver=True) as env, captured_stdout():
    batch = batch_for({name!r}, env)
    before = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    batch()
    peak = status("VmHWM")
print(json.dumps({{"after_init": after_init, "before": before, "peak": peak}}))
"""

HEADROOM = 1.5


def measure(name: str, layer: Layer) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 - this interpreter, our own probe code
        [sys.executable, "-c", PROBE.format(name=name)],
        cwd=ROOT,
        env=child_env(ROOT, layer),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"memory probe for {name} failed:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def recommend(peak_mb: float, headroom: float = HEADROOM) -> int:
    """MemorySize: the peak with headroom, in 64 MB steps, at least Lambda's 128 MB."""
    return max(128, 64 * math.ceil(peak_mb * headroom / 64))


def run(quick: bool = False) -> Section:
    from bench.awscalls import memory_sizes

    sizes = memory_sizes()
    names = [n for n in FUNCTIONS if (ROOT / "functions" / n / "app.py").exists()]
    if quick:
        names = [n for n in names if n in ("send", "dispatch", "inbound")]
    rows = []
    failed = []
    measured = {}
    with tempfile.TemporaryDirectory(prefix="smsgw-bench-memory-") as build_dir:
        layer = build_layer(ROOT, True, Path(build_dir))  # the layer as `make build` ships it
        for name in names:
            try:
                measured[name] = measure(name, layer)
            except RuntimeError as error:  # one function's workload must not hide the others
                failed.append(f"{name}: {str(error).strip().splitlines()[-1]}")
    for name, m in measured.items():
        growth = max(m["peak"] - m["before"], 0.0)
        peak = m["after_init"] + growth
        configured = sizes.get(name, 0)
        rows.append(
            [
                name,
                f"{m['after_init']:.0f} MB",
                f"{growth:.1f} MB",
                f"{peak:.0f} MB",
                f"{configured} MB",
                f"{recommend(peak)} MB",
            ]
        )
    skipped = sorted(set(p.parent.name for p in (ROOT / "functions").glob("*/app.py")) - set(names))
    notes = [
        f"Recommended = peak × {HEADROOM}, rounded up to 64 MB, at least 128 MB. Memory is not what limits "
        "these functions: CPU is. Lambda gives a function CPU in proportion to MemorySize (a full vCPU at "
        "1,769 MB), and every cold start here is 0.35–0.6 s of pure CPU (benchmark 3), so the synchronous "
        "API path (authorizer, token, send, sms_json) should keep 256 MB or more even though 128 MB would hold it.",
        "Peak RSS of a CPython process is also what Lambda reports as Max Memory Used.",
    ]
    if failed:
        notes.append("Failed to measure: " + "; ".join(failed))
    if skipped:
        notes.append(f"Not measured (no workload for them yet): {', '.join(skipped)}.")
    return Section(
        "memory",
        "5. Memory (peak RSS per function, one batch)",
        __doc__.split("\n\n", 1)[1] if __doc__ else "",
        tables=[
            Table(
                [
                    "function",
                    "RSS after init",
                    "growth over a batch",
                    "estimated peak",
                    "MemorySize now",
                    "recommended",
                ],
                rows,
            )
        ],
        notes=notes,
    )
