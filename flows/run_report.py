"""What a run shows in the Prefect UI: its summary as artifacts, its name and tag.

The per-source table (files loaded, skipped, left for later, rejected; rows loaded and
quarantined), what needs attention (rejections with their reasons, a stale landing
folder, another run holding the warehouse), the anomalies kept, and the staffing report's
path: the same facts the console prints, where the operator of a deployment looks.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from rxstaff.flows.steps import in_flow_run
from rxstaff.warehouse.runs import NeedsAttention, RunSummary

ARTIFACT_KEY = "rxstaff-run"  # one key: the UI shows each run's version and its history


class _AttentionIsNoCrash(logging.Filter):
    """Prefect's engine ends every Failed run by logging its exception with a traceback
    ("Engine execution exited with unexpected exception"). A run that needs attention
    ended as designed: its reason is logged by the run and is its state's message, and a
    traceback would read as a crash. Other failures keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, NeedsAttention)


logging.getLogger("prefect.flow_runs").addFilter(_AttentionIsNoCrash())


def run_name() -> str:
    """Flow runs are named by the night they load (``nightly 2024-03-01``)."""
    day = flow_run.get_parameters().get("run_date") or date.today().isoformat()
    return f"nightly {day}"


def summary_rows(summary: RunSummary) -> list[dict[str, Any]]:
    return [
        {
            "source": name,
            "files loaded": s.files_loaded,
            "skipped (unchanged)": s.files_skipped,
            "left for later": s.files_deferred,
            "rejected": s.files_rejected,
            "rows loaded": s.rows_loaded,
            "rows quarantined": s.rows_quarantined,
        }
        for name, s in summary.sources.items()
    ]


def summary_markdown(summary: RunSummary) -> str:
    lines = [f"# rxstaff run {summary.run_id}", "", f"Warehouse: {summary.warehouse}", ""]
    lines.append(f"Outcome: **{'failed' if summary.failed else summary.status}**")
    if summary.new_warehouse:
        lines += ["", f"New warehouse at {summary.warehouse}: this run created it."]
    if summary.failed:
        lines += ["", f"Failure: {summary.failed}"]
    attention = summary.attention
    if attention:
        lines += ["", "## Needs attention", ""]
        lines += [f"- {item}" for item in attention.split("; ")]
    if summary.anomalies:
        lines += ["", "## Anomalies kept for review (etl_anomaly)", ""]
        lines += [f"- {kind}: {n}" for kind, n in summary.anomalies.items()]
    if summary.validation_docs:
        lines += [
            "",
            f"Validation results (Great Expectations Data Docs): `{summary.validation_docs}`",
        ]
    if summary.report:
        lines += ["", f"Staffing report: `{summary.report}`"]
    return "\n".join(lines)


def tag_run(tag: str) -> None:
    """Tag the flow run (``warehouse:duckdb``), where the UI filters runs, not each task
    run: a tagged task run asks the API for a concurrency slot as it starts and gives it
    back as it ends, which a history load's many task runs paid on the flow's thread. A
    scheduler that cannot take the tag costs a warning, never the run."""
    from prefect.client.orchestration import get_client

    run_id = flow_run.get_id()
    if run_id is None:
        return
    try:
        with get_client(sync_client=True) as client:
            tags = set(client.read_flow_run(run_id).tags) | {tag}
            client.update_flow_run(run_id, tags=sorted(tags))
    except Exception as error:
        get_run_logger().warning(f"could not tag the run {tag}: {error}")


def publish_artifacts(summary: RunSummary) -> None:
    """The run's summary as a table and a Markdown note, on its flow run. A scheduler that
    cannot take them costs a warning, never the run's own outcome."""
    if not in_flow_run():
        return
    try:
        _create(summary)
    except Exception as error:
        get_run_logger().warning(f"could not publish the run's artifacts: {error}")


def _create(summary: RunSummary) -> None:
    create_table_artifact(
        summary_rows(summary),
        key=ARTIFACT_KEY + "-sources",
        description=f"Files and rows per source, run {summary.run_id}",
    )
    create_markdown_artifact(
        summary_markdown(summary),
        key=ARTIFACT_KEY + "-summary",
        description=f"Outcome of run {summary.run_id}",
    )
