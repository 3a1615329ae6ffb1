"""The curl session `make run` prints and README's "Try it": every variable defined before it is used,
nothing but bash, curl and python3 needed, the local stack's random port and `/local` stage, the demo
account's own number for inbound (issue 13, first hour 2 and 3)."""

from __future__ import annotations

import re

import pytest

from local.session import SESSION_VARIABLES, curl_session, session_env
from tests.conftest import ROOT

INFO = {
    "api_url": "http://127.0.0.1:41234/_aws/execute-api/abcd1234/local",
    "simulator_url": "http://127.0.0.1:41235",
    "endpoint_url": "http://127.0.0.1:41234",
    "client_id": "cid",
    "client_secret": "secret with 'quotes'",
    "webhook_secret": "whsec_x",
    "number": "3197010000000",
}
EVAL_ENV = 'eval "$(.venv/bin/python -m local.stack env)"'


def commands(session: str) -> list[str]:
    """The session's lines without comments (a comment may name a variable it does not use)."""
    return [line for line in session.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def undefined_uses(session: str, defined_up_front: set[str] = frozenset()) -> list[str]:
    """`$VAR` / `${VAR}` used on a line before any `VAR=` (or the `eval` of `local.stack env`) defines it."""
    defined = set(defined_up_front)
    missing = []
    for line in commands(session):
        for name in re.findall(r"\$\{?([A-Za-z_]\w*)", line):
            if name not in defined:
                missing.append(f"{name} in: {line.strip()}")
        if line.strip().startswith(EVAL_ENV):
            defined |= set(SESSION_VARIABLES)
        defined |= set(re.findall(r"(?:^|[\s;(])([A-Za-z_]\w*)=", line))
    return missing


def readme_session() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Try it") :]
    start = section.index("```bash\n") + len("```bash\n")
    return section[start : section.index("\n```", start)]


@pytest.mark.parametrize("session", [curl_session(INFO), readme_session()], ids=["printed", "README"])
def test_every_variable_is_defined_before_it_is_used(session):
    assert undefined_uses(session) == []
    assert {"TOKEN", "API", "SIM", "NUMBER"} <= {
        name for line in commands(session) for name in re.findall(r"\$\{?([A-Za-z_]\w*)", line)
    }


@pytest.mark.parametrize("session", [curl_session(INFO), readme_session()], ids=["printed", "README"])
def test_it_needs_only_curl_and_python3_and_fits_the_local_stack(session):
    lines = commands(session)
    assert not any(re.search(r"\bjq\b", line) for line in lines)
    assert not any("4566" in line or "/v1" in line for line in lines)  # random port, stage /local
    assert not any(re.search(r"<[\w-]+>", line) for line in lines)  # no placeholder to fill in by hand
    assert "3197010240299" not in session  # a number the demo account cannot own


def test_the_printed_session_has_the_stack_values_and_texts_the_demo_number():
    session = curl_session(INFO)
    assert session.startswith(session_env(INFO) + "\n")
    assert "API=http://127.0.0.1:41234/_aws/execute-api/abcd1234/local\n" in session
    assert "NUMBER=3197010000000\n" in session
    assert "CLIENT_SECRET='secret with '\"'\"'quotes'\"'\"''\n" in session  # shell-quoted
    assert '"to":"\'"$NUMBER"\'"' in session


def test_the_session_still_defines_what_it_uses_without_a_demo_number():
    info = {k: v for k, v in INFO.items() if k != "number"}
    session = curl_session(info)
    assert "NUMBER" not in session
    assert undefined_uses(session) == []
