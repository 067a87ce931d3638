"""Alerts through Prefect's own automations: with a real Prefect server (its trigger and
action services on), a real process worker and an rxstaff deployment, a worker killed
outright with its flow run (no hook of theirs can run) is heard of: the server marks the
silent run Crashed and its automation calls the webhook receiver and e-mails the SMTP
sink on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from email import message_from_bytes
from pathlib import Path

import pytest

from rxstaff import settings
from rxstaff.warehouse.run_lock import run_lock
from tests.helpers import generated
from tests.processes import ROOT, background_processes, free_port, wait_for
from tests.test_deployment import (
    _final_states,
    _healthy,
    _trigger,
    e2e_environment,
    flow_run_state,
)


def flow_run_processes(run_id: str) -> list[int]:
    """The processes a worker started for one flow run (they carry its id)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"PREFECT__FLOW_RUN_ID={run_id}".encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.slow  # a server, a worker and a heartbeat's silence: about three minutes
def test_a_worker_killed_outright_is_heard_of(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    receivers: tuple[list[dict], list[bytes]],
) -> None:
    posted, mails = receivers
    landing = generated(tmp_path_factory, "landing", 20, "2023-01-02", "2023-03-31", seed=3)
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    port = free_port()
    env = e2e_environment(
        tmp_path, port, RXSTAFF_LANDING=str(landing), RXSTAFF_WAREHOUSE_URL=url,
        RXSTAFF_RUN_LOCK_WAIT="900",  # the run waits for the lock this test holds
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY="30",
    )  # fmt: skip

    def run(line: str) -> None:
        done = subprocess.run(line, shell=True, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])

    with background_processes(ROOT, env, tmp_path / "logs") as start:
        start(f"prefect server start --host 127.0.0.1 --port {port}", "server")
        wait_for(lambda: _healthy(port), 180, "the Prefect server")
        run("prefect work-pool create rxstaff-etl --type process")
        run(
            f"rxstaff setup-alerts --webhook {os.environ['RXSTAFF_ALERT_WEBHOOK']} "
            f"--email-to {os.environ['RXSTAFF_ALERT_EMAIL_TO']} "
            f"--smtp {os.environ['RXSTAFF_ALERT_SMTP']} --silent-after 60"
        )
        run("prefect --no-prompt deploy --name nightly")
        with run_lock(settings.warehouse(url), "test-holds-the-warehouse", 5):
            start("prefect worker start --pool rxstaff-etl", "worker")
            flow_run = _trigger(env, "2023-04-01")
            wait_for(
                lambda: flow_run_state(env, flow_run, "type.value") == "RUNNING",
                180,
                "the run to start",
            )
            time.sleep(40)  # a heartbeat or more sent, then silence
            doomed = flow_run_processes(flow_run)
            assert doomed, "the flow run's process was not found"
            # The machine stops: the worker first (else it reports its child's death),
            # then the run's own process; no hook, no cleanup.
            os.killpg(os.getpgid(_worker_pid(tmp_path)), signal.SIGKILL)
            for pid in doomed:
                os.kill(pid, signal.SIGKILL)
            states = wait_for(lambda: _final_states(env, [flow_run]), 300, "Crashed")
            assert states == ["CRASHED"]
            wait_for(lambda: posted and mails, 60, "the alert")
    alert = posted[0]
    assert alert["state"] == "Crashed" and alert["flow_run_id"] == flow_run
    assert alert["source"] == "prefect automation" and "no heartbeat" in alert["what"]
    assert f"/runs/flow-run/{flow_run}" in alert["where_to_look"]
    mail = message_from_bytes(mails[0])
    assert "crashed" in mail["Subject"] and "nightly 2023-04-01" in mail["Subject"]


def _worker_pid(tmp_path: Path) -> int:
    """The worker's process (the shell that started it shares its group)."""
    done = subprocess.run(["pgrep", "-f", "prefect worker start --pool rxstaff-etl"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    mine = [int(pid) for pid in done.stdout.split() if _is_ours(int(pid), tmp_path)]
    assert mine, "no worker process"
    return mine[0]


def _is_ours(pid: int, tmp_path: Path) -> bool:
    try:
        return str(tmp_path).encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
