"""prefect.yaml declares a deployable nightly job."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_nightly_deployment_is_scheduled_and_exclusive() -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    deployment = next(d for d in config["deployments"] if d["name"] == "nightly")
    schedule = deployment["schedules"][0]
    assert len(schedule["cron"].split()) == 5
    ZoneInfo(schedule["timezone"])  # an IANA zone
    assert deployment["concurrency_limit"] == 1
    from prefect.flows import load_flow_from_entrypoint

    here = os.getcwd()
    os.chdir(ROOT)  # a worker runs the entrypoint from its clone of the repository
    try:
        flow = load_flow_from_entrypoint(deployment["entrypoint"])
    finally:
        os.chdir(here)
    assert flow.name == "nightly"
    assert set(deployment["parameters"]) <= set(flow.parameters.properties)


def test_pull_step_clones_and_installs() -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    steps = [next(iter(step)) for step in config["pull"]]
    assert steps[0] == "prefect.deployments.steps.git_clone"
    assert (
        "pip install" in config["pull"][1]["prefect.deployments.steps.run_shell_script"]["script"]
    )
