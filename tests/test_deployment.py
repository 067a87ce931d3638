"""prefect.yaml deploys the nightly job, and it runs as the README's Scheduling section says.

The end-to-end test runs exactly the README's steps with real processes on loopback: a
Prefect server, the work pool, `prefect deploy` from prefect.yaml, a process worker with
the documented environment, two triggers of the deployment; then it reads the warehouse
the run built and the runs' final states, and checks that the concurrency limit kept the
two runs apart.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def test_nightly_deployment_is_scheduled_and_exclusive() -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    deployment = next(d for d in config["deployments"] if d["name"] == "nightly")
    schedule = deployment["schedules"][0]
    assert len(schedule["cron"].split()) == 5
    ZoneInfo(schedule["timezone"])  # an IANA zone
    assert deployment["concurrency_limit"] == 1
    from prefect.flows import load_flow_from_entrypoint

    flow = load_flow_from_entrypoint(deployment["entrypoint"])  # the installed package
    assert flow.name == "nightly"
    assert set(deployment["parameters"]) <= set(flow.parameters.properties)
    assert config["pull"] == []  # nothing fetched or installed per run


def scheduling_steps() -> list[str]:
    """The shell lines of the README's Scheduling section (its first code block)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scheduling", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


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


@pytest.mark.slow
def test_the_readme_scheduling_steps_run_a_deployment_end_to_end(
    landing_small: Path, tmp_path: Path
) -> None:
    port = free_port()
    data = tmp_path / "srv" / "rxstaff"  # does not exist yet: the run creates it
    warehouse = data / "warehouse.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RXSTAFF_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_API_PORT=str(port),
        RXSTAFF_ID_SECRET="e2e-secret-key",
        RXSTAFF_WAREHOUSE_URL=f"duckdb:///{warehouse}",
        RXSTAFF_LANDING=str(landing_small),
        RXSTAFF_SETTLE_SECONDS="0",
        RXSTAFF_MAX_ROSTER_AGE_DAYS="36500",
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    background: list[subprocess.Popen[bytes]] = []

    def start(line: str, name: str) -> None:
        out = (logs / f"{name}.log").open("wb")
        background.append(
            subprocess.Popen(  # its own process group: the shell and what it starts
                line, shell=True, cwd=ROOT, env=env, stdout=out, stderr=out,
                start_new_session=True,
            )
        )  # fmt: skip

    try:
        for line in scheduling_steps():
            line = line.replace("4200", str(port))
            if line.startswith("export ") or line.startswith("pip install"):
                continue  # the environment above; the package is installed in this venv
            if line.endswith("&"):
                start(line.rstrip("& "), line.split()[1])
                if "server start" in line:
                    wait_for(lambda: _healthy(port), 120, "the Prefect server")
                continue
            if line.startswith("prefect deployment run"):
                break  # the test triggers it below, twice, with parameters
            done = subprocess.run(line, shell=True, cwd=ROOT, env=env, capture_output=True,
                                  timeout=300)  # fmt: skip
            assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        runs = [_trigger(env, "2030-01-01"), _trigger(env, "2030-01-02")]
        states = wait_for(lambda: _final_states(env, runs), 420, "both runs to finish")
        assert states == ["COMPLETED", "COMPLETED"], states
        with duckdb.connect(str(warehouse), read_only=True) as con:
            runs_recorded = con.execute("SELECT status FROM etl_run ORDER BY started_at").fetchall()
            loaded = con.execute("SELECT COUNT(*) FROM fct_career_event").fetchone()[0]
        assert [r[0] for r in runs_recorded] == ["succeeded", "nothing new"]
        assert loaded > 0
        # By default each run keeps its validation results and Data Docs beside the file.
        docs = list((data / "warehouse.gx").rglob("data_docs/local_site/index.html"))
        assert len(docs) == 1
        assert not _ran_together(env, runs), "the concurrency limit let two runs overlap"
        # A relative DuckDB path would land in the worker's working folder: refused.
        relative = _trigger(env, "2030-01-03", "warehouse=duckdb:///warehouse.duckdb")
        assert wait_for(lambda: _final_states(env, [relative]), 240, "the refusal") == ["FAILED"]
        assert "is relative" in _state_message(env, relative)
    finally:  # stop the server and the worker, not only the shells that started them
        for process in background:
            _signal_group(process, signal.SIGTERM)
        for process in background:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
        for process in background:
            _signal_group(process, signal.SIGKILL)  # anything left of the group


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _trigger(env: dict[str, str], day: str, *params: str) -> str:
    extra = [arg for param in params for arg in ("--param", param)]
    done = subprocess.run(
        [PREFECT, "deployment", "run", "nightly/nightly", "--param", f"run_date={day}", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return re.search(r"UUID: ([0-9a-f-]{36})", done.stdout).group(1)  # type: ignore[union-attr]


def _client_call(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _final_states(env: dict[str, str], runs: list[str]) -> list[str] | None:
    code = (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        f"    print(' '.join(c.read_flow_run(r).state.type.value for r in {runs!r}))\n"
    )
    states = _client_call(env, code).split()
    return (
        states
        if all(s in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") for s in states)
        else None
    )


def _state_message(env: dict[str, str], run: str) -> str:
    code = (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        f"    print(c.read_flow_run({run!r}).state.message)\n"
    )
    return _client_call(env, code)


def _ran_together(env: dict[str, str], runs: list[str]) -> bool:
    """Whether the two runs' RUNNING spans overlapped (from their state histories)."""
    code = (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        f"    for r in {runs!r}:\n"
        "        states = c.read_flow_run_states(r)\n"
        "        start = min(s.timestamp for s in states if s.type.value == 'RUNNING')\n"
        "        end = max(s.timestamp for s in states if s.is_final())\n"
        "        print(start.timestamp(), end.timestamp())\n"
    )
    (a_start, a_end), (b_start, b_end) = (
        tuple(map(float, line.split())) for line in _client_call(env, code).splitlines()
    )
    return a_start < b_end and b_start < a_end
