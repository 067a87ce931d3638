"""Real processes for the end-to-end tests: free loopback ports, background processes
stopped with everything they started, waiting for a condition, the README's commands."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RXSTAFF = str(Path(sys.executable).with_name("rxstaff"))


def nightly(landing: Path, url: str, *extra: str) -> list[str]:
    """The command a scheduler runs, replaying history (staleness has tests of its own)."""
    return [
        RXSTAFF, "nightly", "--landing", str(landing), "--warehouse", url,
        "--run-date", "2030-01-01", "--max-roster-age", "36500", *extra,
    ]  # fmt: skip


def standalone(**more: str) -> dict[str, str]:
    """The test session's environment, with no Prefect server: as cron starts a run."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, **more}


def readme_block(after: str, fence: str, doc: str = "README.md") -> str:
    """The first code block opened by ``fence`` after the text ``after`` in the README (or
    in ``doc``, a path from the repository's root)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    return text.split(after, 1)[1].split(fence, 1)[1].split("```", 1)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def background_processes(cwd: Path, env: dict[str, str], logs: Path):
    """``start(line, name)`` runs a shell line in the background, its output in
    ``logs/<name>.log``; on leaving, the server and workers are stopped, not only the
    shells that started them."""
    logs.mkdir(exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []

    def start(line: str, name: str) -> None:
        out = (logs / f"{name}.log").open("wb")
        started.append(
            subprocess.Popen(  # its own process group: the shell and what it starts
                line, shell=True, cwd=cwd, env=env, stdout=out, stderr=out,
                start_new_session=True,
            )
        )  # fmt: skip

    try:
        yield start
    finally:
        for process in started:
            _signal_group(process, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
        for process in started:
            _signal_group(process, signal.SIGKILL)  # anything left of the group


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
