"""Child processes of the local stack: started in their own session, stopped by pid."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


class StackError(RuntimeError):
    """The local stack could not be started; the message says what failed and where to look."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) counts as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def group_members(pgid: int) -> list[int]:
    """Pids of the live processes in process group `pgid` (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Call `predicate` until it returns a truthy value or `timeout` seconds pass (then None)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def http_json(url: str, timeout: float = 2.0) -> Any:
    """GET `url` and decode its JSON body; None on any connection or HTTP error."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except (OSError, urllib.error.URLError, ValueError):
        return None


class ManagedProcess:
    """One child process: own session (Ctrl-C in the terminal does not reach it), output to a file.

    `stop()` sends SIGTERM to the pid, waits, then SIGKILLs its process group (which holds only
    the processes it started itself, e.g. ministack's Lambda workers).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        stop_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, what: str) -> StackError:
        state = f"exited with {self.proc.returncode}" if self.proc and not self.running() else "still running"
        return StackError(
            f"{self.name}: {what} ({state}); log {self.log_path}, last lines:\n{self.log_tail()}"
        )

    def stop(self) -> str | None:
        """Stop it; returns a line saying what was stopped, or None if it was not started."""
        if self.proc is None:
            return None
        proc, pid = self.proc, self.proc.pid
        how = "had already exited"
        if proc.poll() is None:
            how = "stopped (SIGTERM)"
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                how = f"killed (SIGKILL after {self.stop_timeout:.0f} s)"
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        # Whatever it started and left behind in its own process group (pgid == its pid).
        if group_members(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        return f"{self.name} (pid {pid}) {how}"
