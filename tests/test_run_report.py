"""What a run shows in Prefect: its name, its task runs by source, its tags, and its
summary as artifacts, read back from the real Prefect server the run reported to."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)

from tests.helpers import query, run_nightly

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_a_run_is_named_tagged_and_leaves_its_summary_as_artifacts(
    landing_small: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    rosters = sorted((landing_small / "roster").glob("*.csv"))
    rosters[2].write_text("snapshot_date\n2023-01-01\n")  # a file to reject
    code, summary = run_nightly(landing_small, db, prefect=True)
    assert code == 1
    flow_run_id = query(db, "SELECT flow_run_id FROM etl_run").flow_run_id[0]
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        for _ in range(60):  # task runs are recorded from events, a moment later
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
            if {"load roster", "load budget"} <= {t.name for t in tasks}:
                break
            time.sleep(0.5)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
    assert run.name == "nightly 2030-01-01"
    names = {t.name for t in tasks}
    assert {"load roster", "load budget"} <= names
    assert "warehouse:duckdb" in run.tags  # the run, where the UI filters; not each task run
    assert not any(t.tags for t in tasks)
    by_key = {a.key: a for a in artifacts}
    table = by_key["rxstaff-run-sources"].data
    rows = json.loads(table) if isinstance(table, str) else table
    roster = next(r for r in rows if r["source"] == "roster")
    assert roster["files loaded"] == summary.sources["roster"].files_loaded
    assert roster["rejected"] == 1
    note = by_key["rxstaff-run-summary"].data
    assert f"roster/{rosters[2].name}" in note and "Needs attention" in note
    assert f"New warehouse at DuckDB file {db}" in note  # this first run created it
