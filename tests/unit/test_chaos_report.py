"""The chaos section of docs/reliability.md: rendered from the figures, put between its markers."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from chaos.counting import CAUSE_CRASH, Figures
from chaos.faults import CRASH_POINTS, Faults
from chaos.report import BEGIN, END, RunFacts, commit_id, render, replace_section


def facts(**changes) -> RunFacts:
    faults = Faults()
    base = RunFacts(
        commit="abc1234",
        date="2025-01-01 12:00 UTC",
        seconds=480,
        sends=300,
        inbound=36,
        faults=dataclasses.asdict(faults),
        crash=faults.crash,
        settled=True,
        settle_seconds=330,
        notes=["a note"],
    )
    return dataclasses.replace(base, **changes)


def test_the_section_states_the_goal_the_figures_and_whether_each_is_met():
    figures = Figures(
        sends=300, accepted=300, lost=2, lost_refs=["r1", "r2"], crashes=dict.fromkeys(CRASH_POINTS, 3)
    )
    figures.duplicated_by_cause[CAUSE_CRASH] = 2
    text = render(figures, facts())
    assert text.startswith("## Fault-injection run\n")
    assert "`abc1234`" in text
    assert "8.0 min" in text
    assert "**Goal**: 0 everywhere, except SMS duplicated by a crash" in text
    assert "| SMS lost (accepted by the API, never at the carrier) | 2 | = 0 | **no** |" in text
    assert f"| SMS duplicated: {CAUSE_CRASH} | 2 | ≤ 3 (crashes injected there) | yes |" in text
    assert "| `dispatch.after_submit` | 3 | 4 % |" in text
    assert "HTTP 500 to 20 % of submissions" in text
    assert "answers them only after 15 s" in text
    assert "503 to 40 % of calls" in text
    assert "| lost client-refs | `r1`, `r2` |" in text
    assert "- a note" in text
    assert "goals met." in text


def test_a_run_that_did_not_settle_says_so():
    assert "did **not** settle within 330 s" in render(Figures(), facts(settled=False))


def test_replace_section_keeps_everything_outside_the_markers():
    document = f"# Reliability\n\nby hand\n\n{BEGIN}\nold figures\n{END}\nafter\n"
    replaced = replace_section(document, "## Fault-injection run\nnew\n")
    assert replaced == f"# Reliability\n\nby hand\n\n{BEGIN}\n## Fault-injection run\nnew\n{END}\nafter\n"
    assert replace_section(replaced, "## Fault-injection run\nnew\n") == replaced  # idempotent


def test_replace_section_appends_the_markers_when_missing():
    assert replace_section("# Doc\n", "x\n") == f"# Doc\n\n{BEGIN}\nx\n{END}\n"


def test_commit_id_is_the_short_head_plus_dirty_except_for_docs(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "reliability.md").write_text("x\n")
    (tmp_path / "docs" / "benchmarks.md").write_text("x\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "-A")
    git("commit", "-qm", "init")
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert commit_id(tmp_path) == head
    (tmp_path / "docs" / "reliability.md").write_text("rewritten by the run\n")
    (tmp_path / "docs" / "benchmarks.md").write_text("a benchmark ran before\n")
    assert commit_id(tmp_path) == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert commit_id(tmp_path) == head + "+dirty"


def test_faults_refuse_a_slow_accept_within_the_read_timeout_and_unknown_crash_points():
    with pytest.raises(ValueError, match="read timeout"):
        Faults(slow_accept_ms=10_000)
    with pytest.raises(ValueError, match="unknown crash point"):
        Faults(crash={"nowhere": 0.1})
    config = Faults().simulator_config()
    assert (config["fail_rate"], config["throttle_rate"], config["slow_accept_rate"]) == (0.2, 0.1, 0.05)
    assert config["slow_accept_ms"] > 10_000


def test_a_run_without_any_crash_says_the_crash_points_were_not_reached():
    quiet = render(Figures(crashes=dict.fromkeys(CRASH_POINTS, 0)), facts())
    crashed = render(Figures(crashes=dict.fromkeys(CRASH_POINTS, 1)), facts())
    assert "No crash was injected" in quiet
    assert "No crash was injected" not in crashed
