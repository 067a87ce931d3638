"""prefect.yaml deploys the nightly job, and it runs as the README's Scheduling section says.

The end-to-end test runs exactly the README's steps with real processes on loopback: a
Prefect server, the work pool, `prefect deploy` from prefect.yaml, a process worker with
the documented environment, two triggers of the deployment; then it reads the warehouse
the run built and the runs' final states, and checks that the concurrency limit kept the
two runs apart.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest
import yaml

from tests.processes import background_processes, free_port, readme_block, wait_for

ROOT = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))
OPERATIONS = "docs/operations.md"  # several pharmacies: the steps the README links to


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


def scheduling_steps(after: str = "## Scheduling", doc: str = "README.md") -> list[str]:
    """The shell lines of the first code block after ``after`` in the README (or ``doc``)."""
    block = readme_block(after, "```\n", doc)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def e2e_environment(tmp_path: Path, port: int, **rxstaff: str) -> dict[str, str]:
    """This machine's environment without any Prefect or rxstaff setting of the user's,
    pointed at a Prefect server on ``port``, with the given rxstaff settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RXSTAFF_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_API_PORT=str(port),
        RXSTAFF_ID_SECRET="e2e-secret-key",
        RXSTAFF_SETTLE_SECONDS="0",
        RXSTAFF_MAX_ROSTER_AGE_DAYS="36500",
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        **rxstaff,
    )
    return env


@pytest.mark.slow
def test_the_readme_scheduling_steps_run_a_deployment_end_to_end(
    tmp_path: Path, receivers: tuple[list[dict], list[bytes]]
) -> None:
    """The README's block, line by line as a person pastes it (its exports, its wait for
    the server, its sample pharmacy, its first run), then more runs of the deployment: two
    at once (the concurrency limit keeps them apart), one that needs attention (Failed, its
    reason logged without a traceback), one refused (a relative DuckDB path); then the
    README's monthly-pack lines, whose PDF reaches an SMTP sink on 127.0.0.1."""
    port = free_port()
    srv = tmp_path / "srv" / "rxstaff"  # does not exist yet: the README's steps make it
    env = e2e_environment(tmp_path, port)
    for own in ("RXSTAFF_ID_SECRET", "RXSTAFF_SETTLE_SECONDS", "RXSTAFF_MAX_ROSTER_AGE_DAYS"):
        env.pop(own)  # the README's lines set what a run needs
    with background_processes(ROOT, env, tmp_path / "logs") as start:
        for line in scheduling_steps():
            line = line.replace("4200", str(port)).replace("/srv/rxstaff", str(srv))
            if line.startswith("pip install"):
                continue  # the package is installed in this environment
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                env[name] = value
            elif line.endswith("&"):
                start(line.rstrip("& "), line.split()[1])
            else:
                done = subprocess.run(line, shell=True, cwd=ROOT, env=env, capture_output=True,
                                      text=True, timeout=600)  # fmt: skip
                assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
        warehouse = srv / "warehouse.duckdb"
        assert warehouse.exists()  # the README's own run made it
        runs = [_trigger(env, "2030-01-01"), _trigger(env, "2030-01-02")]
        states = wait_for(lambda: _final_states(env, runs), 420, "both runs to finish")
        assert states == ["COMPLETED", "COMPLETED"], states
        with duckdb.connect(str(warehouse), read_only=True) as con:
            runs_recorded = con.execute("SELECT status FROM etl_run ORDER BY started_at").fetchall()
            loaded = con.execute("SELECT COUNT(*) FROM fct_career_event").fetchone()[0]
        assert [r[0] for r in runs_recorded] == ["succeeded", "nothing new", "nothing new"]
        assert loaded > 0
        # By default each run keeps its validation results and Data Docs beside the file.
        docs = list((srv / "warehouse.gx").rglob("data_docs/local_site/index.html"))
        assert len(docs) == 1
        assert not _ran_together(env, runs), "the concurrency limit let two runs overlap"
        # A run that needs attention (a stale landing folder) ends Failed, its reason once.
        stale = _trigger(env, "2030-01-03", "max_roster_age_days=1")
        assert wait_for(lambda: _final_states(env, [stale]), 240, "the stale run") == ["FAILED"]
        assert "needs attention" in _state_message(env, stale)
        logs = _run_logs(env, stale)
        assert "HRIS export" in logs and "Traceback" not in logs, logs
        worker_log = (tmp_path / "logs" / "worker.log").read_text(errors="replace")
        assert "cannot be resolved into an exception" not in worker_log
        assert "Traceback" not in worker_log, worker_log[-3000:]
        # A relative DuckDB path would land in the worker's working folder: refused.
        relative = _trigger(env, "2030-01-03", "warehouse=duckdb:///warehouse.duckdb")
        assert wait_for(lambda: _final_states(env, [relative]), 240, "the refusal") == ["FAILED"]
        assert "is relative" in _state_message(env, relative)
        run_the_monthly_pack_steps(env, srv, receivers[1])


def run_the_monthly_pack_steps(env: dict[str, str], srv: Path, mails: list[bytes]) -> None:
    """The README's monthly-pack lines, with the worker above: the pack is written where
    the run was told, and its PDF is e-mailed to the run's list through the SMTP server
    that `setup-alerts` stored (here the sink of the ``receivers`` fixture)."""
    from email import message_from_bytes

    sink = os.environ["RXSTAFF_ALERT_SMTP"]
    for line in scheduling_steps("**The monthly pack.**"):
        line = line.replace("smtp.example.org:25", sink).replace("/srv/rxstaff", str(srv))
        done = subprocess.run(line, shell=True, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
    assert (srv / "pack" / "staffing_report.pdf").exists()
    sent = [message_from_bytes(m) for m in mails]
    pack = [m for m in sent if "director@example.org" in m["To"]]
    assert len(pack) == 1, [m["Subject"] for m in sent]
    parts = {part.get_content_type(): part for part in pack[0].walk()}
    assert "What the pack finds" in parts["text/plain"].get_payload(decode=True).decode()
    attached = parts["application/pdf"].get_payload(decode=True)
    assert attached == (srv / "pack" / "staffing_report.pdf").read_bytes()


@pytest.mark.slow
def test_two_pharmacies_share_one_work_pool_and_two_workers(tmp_path: Path) -> None:
    """The "Many pharmacies" steps of docs/operations.md: two deployments, one pool, two
    process workers; the two runs go at once, one per worker, each into its own warehouse; a
    run of one that fails leaves its warehouse as it was and the other's run commits."""
    from datetime import date

    from rxstaff.sample import Options, generate

    srv = tmp_path / "srv" / "rxstaff"
    sizes = {"north": 150, "south": 100}  # runs of a few seconds each: time to overlap
    for seed, (pharmacy, employees) in enumerate(sizes.items(), start=21):
        generate(
            Options(
                out=srv / pharmacy / "landing", employees=employees, start=date(2023, 1, 2),
                end=date(2023, 6, 30), seed=seed, bad_rows=0.0,
            )
        )  # fmt: skip
    project = (
        tmp_path / "project"
    )  # this repository's prefect.yaml, the entries of those steps added
    project.mkdir()
    entries = readme_block("## Many pharmacies", "```yaml\n", OPERATIONS).replace(
        "/srv/rxstaff", str(srv)
    )
    (project / "prefect.yaml").write_text((ROOT / "prefect.yaml").read_text() + entries)
    port = free_port()
    env = e2e_environment(tmp_path, port, RXSTAFF_VALIDATION_DOCS="off")
    env["PREFECT_WORKER_QUERY_SECONDS"] = "2"  # both workers poll soon after the triggers

    def run(line: str) -> str:
        done = subprocess.run(line, shell=True, cwd=project, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    with background_processes(project, env, tmp_path / "logs") as start:
        start(f"prefect server start --host 127.0.0.1 --port {port}", "server")
        wait_for(lambda: _healthy(port), 120, "the Prefect server")
        run("prefect work-pool create rxstaff-etl --type process")
        deployments = []
        workers = []
        for line in scheduling_steps("Then deploy them all", OPERATIONS):
            if line.endswith("&"):
                workers.append(line.split("--name")[1].split()[0])
                start(line.rstrip("& "), workers[-1])
            elif line.startswith("prefect deployment run"):
                deployments.append(line.split()[-1])
            else:
                run(line)
        assert deployments == ["nightly/north", "nightly/south"], deployments
        # As an operator would see them: both workers up before the runs (a worker slow to
        # start on a busy machine would take its run after the other had finished). The
        # runs are created as the README's `prefect deployment run` lines create them, in
        # one process: two CLI starts a few seconds apart let a short run end first.
        wait_for(lambda: _online(env, "rxstaff-etl") >= set(workers), 120, "workers")
        runs = _run_deployments(env, deployments, {"run_date": "2030-01-01"})
        states = wait_for(lambda: _final_states(env, runs), 420, "both runs to finish")
        assert states == ["COMPLETED", "COMPLETED"], states
        for worker in ("etl-1", "etl-2"):  # --limit 1: each worker ran one of the runs
            text = (tmp_path / "logs" / f"{worker}.log").read_text(errors="replace")
            ran = [r for r in runs if f"/runs/flow-run/{r}" in text]  # the run's own log line
            assert len(ran) == 1, (worker, text[-3000:])
        assert _ran_together(env, runs), "two workers, yet the runs did not overlap"
        employees = {}
        for pharmacy in sizes:
            with duckdb.connect(str(srv / pharmacy / "warehouse.duckdb"), read_only=True) as con:
                employees[pharmacy] = con.execute(
                    "SELECT COUNT(DISTINCT employee_key) FROM stg_roster"
                ).fetchone()[0]
        assert employees["north"] > employees["south"] >= sizes["south"]  # each its own files
        south = srv / "south" / "warehouse.duckdb"
        before = south.read_bytes()
        # Again: south's run fails (a catalog that is not there), north's commits.
        again = [
            run("prefect deployment run nightly/north --param run_date=2030-01-02"),
            run("prefect deployment run nightly/south --param run_date=2030-01-02 "
                "--param catalog=/nonexistent/job_catalog.csv"),
        ]  # fmt: skip
        ids = [re.search(r"UUID: ([0-9a-f-]{36})", o).group(1) for o in again]  # type: ignore[union-attr]
        assert wait_for(lambda: _final_states(env, ids), 300, "the second runs") == [
            "COMPLETED", "FAILED",
        ]  # fmt: skip
        assert south.read_bytes() == before
        with duckdb.connect(str(srv / "north" / "warehouse.duckdb"), read_only=True) as con:
            assert con.execute("SELECT COUNT(*) FROM etl_run").fetchone()[0] == 2


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


def _run_deployments(env: dict[str, str], names: list[str], parameters: dict) -> list[str]:
    """Flow runs of the deployments, created one after the other; their ids."""
    code = (
        "from prefect.deployments import run_deployment\n"
        f"for name in {names!r}:\n"
        f"    print(run_deployment(name, parameters={parameters!r}, timeout=0).id)\n"
    )
    return _client_call(env, code).split()


def _client_call(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _online(env: dict[str, str], pool: str) -> set[str]:
    """The names of the pool's workers that are polling it."""
    code = (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        f"    found = c.read_workers_for_work_pool({pool!r})\n"
        "    up = [w.name for w in found if getattr(w.status, 'value', w.status) == 'ONLINE']\n"
        "    print(' '.join(up))\n"
    )
    return set(_client_call(env, code).split())


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


def _run_logs(env: dict[str, str], run: str) -> str:
    """Every log line of a flow run, as the server stores them."""
    code = (
        "from prefect.client.orchestration import get_client\n"
        "from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId\n"
        "with get_client(sync_client=True) as c:\n"
        f"    found = c.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[{run!r}])))\n"
        "    print('\\n'.join(log.message for log in found))\n"
    )
    return _client_call(env, code)


def _state_message(env: dict[str, str], run: str) -> str:
    return flow_run_state(env, run, "message")


def flow_run_state(env: dict[str, str], run: str, field: str) -> str:
    """One field of a flow run's state (``message``, ``type.value``), as the server has it."""
    code = (
        "from prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        f"    print(c.read_flow_run({run!r}).state.{field})\n"
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
