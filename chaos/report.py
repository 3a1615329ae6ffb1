"""The chaos section of docs/reliability.md: the figures, the goals and whether each is met."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.counting import Figures, Goal, goals

BEGIN = "<!-- chaos:begin -->"
END = "<!-- chaos:end -->"


def commit_id(root: Path) -> str:
    """`git rev-parse --short HEAD`, plus "+dirty" when the work tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - fixed git arguments, read-only
            ["git", *args],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    # Docs (this run's report, a benchmark's output written before it) do not change what ran.
    changes = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs")
    return head + ("+dirty" if changes else "")


@dataclass
class RunFacts:
    """How the run was made (for the report's header and notes)."""

    commit: str
    date: str
    seconds: float
    sends: int
    inbound: int
    faults: Mapping[str, Any]
    crash: Mapping[str, float]
    settled: bool
    settle_seconds: float
    notes: list[str] = field(default_factory=list)


def _fmt_share(value: float) -> str:
    return f"{value * 100:g} %"


def render(figures: Figures, facts: RunFacts) -> str:
    goal_rows = goals(figures)
    met = sum(1 for g in goal_rows if g.met)
    lines = [
        "## Fault-injection run",
        "",
        f"Written by `make chaos` (`python -m chaos`) at commit `{facts.commit}` on {facts.date}, "
        f"in {facts.seconds / 60:.1f} min on the local stack. Do not edit by hand.",
        "",
        f"**Workload**: {facts.sends} sends through the API (unique `client-ref`, about one in five "
        "two or three parts long, a status `callback` at the receiver; the client retries a 5xx, 409, 429 "
        f"or no answer with the same `Idempotency-Key`), and {facts.inbound} inbound SMS injected at the "
        "carrier for a number the account owns (its `moHttpUrl` at the receiver; some split into "
        "parts, shuffled, duplicated).",
        "",
        "**Faults, all at once**: " + _faults_sentence(facts),
        "",
        "**Goal**: 0 everywhere, except SMS duplicated by a crash injected exactly between the carrier's "
        "acceptance and the gateway's write (`dispatch.after_submit`), which must not exceed the crashes "
        "injected there; API 5xx answers must not exceed the crashes injected in the send path. "
        "A carrier answer that comes after the read timeout must cause no duplicate once the gateway "
        "reconciles.",
        "",
        f"**Result**: {met} of {len(goal_rows)} goals met"
        + ("." if facts.settled else f"; the run did **not** settle within {facts.settle_seconds:.0f} s."),
        "",
        "| figure | measured | goal | met |",
        "|---|---:|---|---|",
    ]
    lines += [_goal_row(goal) for goal in goal_rows]
    lines += [
        "",
        "| crash point | crashes injected | probability |",
        "|---|---:|---:|",
    ]
    for point, count in figures.crashes.items():
        lines.append(f"| `{point}` | {count} | {_fmt_share(float(facts.crash.get(point, 0)))} |")
    lines += [
        "",
        "| detail | value |",
        "|---|---|",
        f"| sends accepted by the API / made | {figures.accepted} / {figures.sends} |",
        f"| API attempts (retries included) | {figures.api_attempts} |",
        f"| carrier submissions of accepted sends | {figures.carrier_submissions} |",
        f"| SMS duplicated, all causes | {figures.duplicated} |",
        f"| accepted messages final at the end | {figures.final_messages} |",
        "| not final, by status | "
        + (", ".join(f"{s}: {n}" for s, n in figures.not_final_statuses.items()) or "none")
        + " |",
        f"| other messages stored for the account (orphans) | {figures.orphans} |",
        f"| status callbacks accepted / refused by the receiver | {figures.callbacks_accepted} / {figures.callbacks_refused} |",
        f"| inbound SMS injected | {figures.inbound_sent} |",
    ]
    if figures.lost_refs:
        shown = ", ".join(f"`{ref}`" for ref in figures.lost_refs[:5])
        more = f" and {len(figures.lost_refs) - 5} more" if len(figures.lost_refs) > 5 else ""
        lines.append(f"| lost client-refs | {shown}{more} |")
    lines += [
        "",
        "How each figure is counted: *lost*: a `client-ref` the API accepted (status 0) that never "
        "appears in the carrier's `GET /_sim/messages`; *duplicated*: the carrier's submissions of one "
        "`client-ref` beyond the first, by the first cause that applies: the gateway stored the send "
        "twice, a crash was injected at `dispatch.after_submit` for that message, an earlier submission "
        "of it was answered after the read timeout, else other; *not final*: `GET /messages` status not "
        "one of delivered, expired, failed, rejected, unknown, cancelled; *callbacks lost*: a final "
        "message with no callback carrying that `message_status` accepted (2xx) by the receiver; "
        "*accepted twice*: the receiver accepted the same (message, part, status) more than once; "
        "*inbound*: each injected SMS has its own sender, so the receiver's accepted forwards are "
        "counted by sender.",
    ]
    notes = list(facts.notes)
    if not any(figures.crashes.values()) and any(float(v) > 0 for v in facts.crash.values()):
        notes.append(
            "No crash was injected: at this commit the layer reaches no `smsgw.faults.crash_point` call "
            "(or none drew a crash), so the crash-point figures test nothing yet."
        )
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _faults_sentence(facts: RunFacts) -> str:
    f = facts.faults
    crash = ", ".join(f"`{p}` {_fmt_share(float(v))}" for p, v in facts.crash.items())
    return (
        f"the carrier answers HTTP 500 to {_fmt_share(f['carrier_error_rate'])} of submissions, "
        f"throttles {_fmt_share(f['carrier_throttle_rate'])} of the rest, and accepts "
        f"{_fmt_share(f['slow_accept_rate'])} but answers them only after {f['slow_accept_ms'] / 1000:g} s "
        "(the gateway's read timeout is 10 s); receipts: "
        f"{_fmt_share(f['dlr_intermediate'])} of parts get an intermediate status "
        f"(accepted/buffered), {_fmt_share(f['dlr_reorder_rate'])} of those after the final one, "
        f"{_fmt_share(f['dlr_duplicate_rate'])} of receipts are sent twice, each after "
        f"{f['dlr_delay_ms'][0]}–{f['dlr_delay_ms'][1]} ms (so some arrive before the gateway recorded "
        "the submission); the webhook receiver answers 503 to "
        f"{_fmt_share(f['receiver_fail_rate'])} of calls; functions crash at {crash}."
    )


def _goal_row(goal: Goal) -> str:
    return f"| {goal.what} | {goal.value} | {goal.goal} | {'yes' if goal.met else '**no**'} |"


def replace_section(document: str, section: str) -> str:
    """Put `section` between the chaos markers of `document` (appended with markers when missing)."""
    begin, end = document.find(BEGIN), document.find(END)
    if begin == -1 or end == -1 or end < begin:
        return document.rstrip("\n") + f"\n\n{BEGIN}\n{section}{END}\n"
    return document[: begin + len(BEGIN)] + "\n" + section + document[end:]
