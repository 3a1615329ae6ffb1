"""The report: sections of tables, rendered to Markdown; `--only` replaces just its own sections."""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEADER = """# Benchmarks

Written by `make bench` (`python -m bench`); do not edit by hand — edit `bench/` and run it again.
Ratios compare two things measured in the same run on the same machine (never absolute times),
medians over repeated, warmed-up runs. The capacity plan built on these figures is
[scaling.md](scaling.md).
"""
_SECTION = re.compile(r"<!-- bench:(?P<name>[a-z_]+) -->\n(?P<body>.*?)<!-- /bench:(?P=name) -->\n", re.S)


@dataclass
class Goal:
    """One goal row: what was measured against which baseline, the ratio and whether the goal holds."""

    what: str
    measured: str
    baseline: str
    ratio: float
    goal: str  # e.g. "≤ 2.0" or "≥ 0.95" or "= 0"
    met: bool | None = None  # None: computed from `goal`

    def __post_init__(self) -> None:
        if self.met is None:
            self.met = goal_met(self.ratio, self.goal)


def goal_met(value: float, goal: str) -> bool:
    """`goal` is an operator and a number: "≤ 2.0", "<= 2", "≥ 0.95", "= 0", "< 5"."""
    match = re.fullmatch(r"\s*(≤|<=|≥|>=|<|>|=)\s*([-+0-9.eE]+)\s*", goal)
    if not match:
        raise ValueError(f"not a goal: {goal!r}")
    op, limit = match.group(1), float(match.group(2))
    if math.isnan(value):
        return False
    return {
        "≤": value <= limit,
        "<=": value <= limit,
        "≥": value >= limit,
        ">=": value >= limit,
        "<": value < limit,
        ">": value > limit,
        "=": value == limit,
    }[op]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    title: str = ""

    def markdown(self) -> str:
        lines = [f"**{self.title}**", ""] if self.title else []
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows)
        return "\n".join(lines) + "\n"


@dataclass
class Section:
    name: str  # the benchmark's key (pacing, overhead, …)
    title: str
    method: str  # how it was measured, in a few sentences
    goals: list[Goal] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (alt text, path relative to docs/)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # figures another benchmark reuses (awscalls → scale)

    def markdown(self, date: str, commit: str) -> str:
        out = [f"## {self.title}", "", f"_Run {date}, commit `{commit}`, {self.seconds:.0f} s._", ""]
        out += [self.method.strip(), ""]
        if self.goals:
            goal_table = Table(
                ["what", "measured", "baseline", "ratio", "goal", "met?", "date", "commit"],
                [
                    [
                        g.what,
                        g.measured,
                        g.baseline,
                        fmt_ratio(g.ratio),
                        g.goal,
                        "yes" if g.met else "**no**",
                        date,
                        commit,
                    ]
                    for g in self.goals
                ],
            )
            out.append(goal_table.markdown())
        for table in self.tables:
            out.append(table.markdown())
        for alt, path in self.images:
            out += [f"![{alt}]({path})", ""]
        if self.notes:
            out += [f"- {note}" for note in self.notes] + [""]
        return "\n".join(out)


def fmt_ratio(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, read-only
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    # The bench's own output (docs/benchmarks.md, docs/img/) does not make the measured code dirty.
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def render(sections: list[Section], previous: str = "", date: str = "", commit_id: str = "") -> str:
    """The whole report. Sections of `previous` that were not run this time are kept as they were."""
    date = date or today()
    commit_id = commit_id or commit()
    fresh = {s.name: s.markdown(date, commit_id) for s in sections}
    kept = {m.group("name"): m.group("body") for m in _SECTION.finditer(previous)}
    order = [name for name in ORDER if name in fresh or name in kept]
    order += [name for name in fresh if name not in order]
    parts = [HEADER]
    rows = [row for name in order for row in summary_rows(fresh.get(name, kept.get(name, "")))]
    if rows:
        parts.append(summary_table(rows, date, commit_id))
    for name in order:
        body = fresh.get(name, kept.get(name, ""))
        parts.append(f"<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench:{name} -->\n")
    return "\n".join(parts)


_GOAL_HEADER = "| what | measured | baseline | ratio | goal | met? | date | commit |"


def summary_rows(section_markdown: str) -> list[list[str]]:
    """[benchmark, what, ratio, goal, met?, date, commit] for each goal row of a section's markdown, so
    the summary also shows the sections this run kept from an earlier one (with their own run)."""
    title = next((line[3:] for line in section_markdown.splitlines() if line.startswith("## ")), "")
    rows, in_goals = [], False
    for line in section_markdown.splitlines():
        if line == _GOAL_HEADER:
            in_goals = True
            continue
        if in_goals and line.startswith("|---"):
            continue
        cells = _cells(line) if in_goals and line.startswith("| ") else []
        if len(cells) == 8:
            what, _measured, _baseline, ratio, goal, met, date, commit = cells
            rows.append([title.split(". ", 1)[-1], what, ratio, goal, met, date, commit])
            continue
        in_goals = False
    return rows


def _cells(line: str) -> list[str]:
    """The cells of a markdown table row (`\\|` inside a cell stays a `|`)."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def summary_table(rows: list[list[str]], date: str, commit_id: str) -> str:
    table = Table(["benchmark", "what", "ratio", "goal", "met?", "date", "commit"], rows)
    return (
        f"## Summary (the latest run of each benchmark; this run: {date}, commit `{commit_id}`)\n\n"
        + table.markdown()
    )


ORDER = ["pacing", "pacing_two", "overhead", "coldstart", "awscalls", "memory", "scale"]
