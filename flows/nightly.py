"""The nightly run, step by step as the README's "What a run does" tells it.

0. One run at a time per warehouse (``warehouse/run_lock.py``).
1. Extract: the landing folder judged against the warehouse (``extract/due.py``).
2. Validate and load each source, a chunk of files at a time (``flows/staging.py``).
3. Build the roster history, the models and the history anomalies (``warehouse/``).
4. Commit, all or nothing (``warehouse/transaction.py``); publish the copies; report.

Under Prefect each step is a task run of the ``nightly`` flow; ``run_night`` runs the
same steps as plain calls when no Prefect server is configured (``flows/steps.py``).
"""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment, flow_run
from prefect.states import Failed, State

from rxstaff import settings
from rxstaff.extract.due import Discovery, find_due_files
from rxstaff.extract.landing import LandingError
from rxstaff.flows import alerts
from rxstaff.flows.load import load_and_commit, record_failure
from rxstaff.flows.publish import publish_and_report
from rxstaff.flows.run_report import publish_artifacts, run_name, tag_run
from rxstaff.flows.staging import discard_results, validation_beside
from rxstaff.flows.steps import retry_condition, run_logger, step
from rxstaff.settings import RunRequest, RunSettings
from rxstaff.warehouse import arrivals
from rxstaff.warehouse.connection import WarehouseUnavailable
from rxstaff.warehouse.run_lock import RunLockBusy, run_lock
from rxstaff.warehouse.runs import (
    NOTHING_CHANGED,
    NeedsAttention,
    RunContext,
    RunRolledBack,
    RunStopped,
    RunSummary,
    stop_behind,
)


def transient_io(error: BaseException) -> bool:
    """A read of the landing folder that failed for a passing reason (a network share's
    hiccup), never a folder that is not there or a warehouse that refuses us."""
    return isinstance(error, OSError) and not isinstance(error, LandingError | WarehouseUnavailable)


@task(
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_condition(transient_io),
    cache_policy=NO_CACHE,
)
def discover_files(run: RunSettings) -> Discovery:
    """The landing folder judged against what the warehouse holds (I/O: retried)."""
    known, log = arrivals.known_files(run.warehouse), run_logger()
    age, settle = run.max_roster_age_days, run.settle_seconds
    return find_due_files(run.landing, known, run.run_date, age, settle, run.rehash, log)


@flow(
    name="nightly",
    log_prints=False,
    flow_run_name=run_name,
    # A hung run must not hold the deployment's single slot (and the run lock) forever.
    timeout_seconds=settings.run_timeout_seconds(),
    on_failure=[alerts.on_failure],
    on_crashed=[alerts.on_failure],
)
def nightly(
    landing: str | None = None,
    warehouse: str | None = None,
    run_date: date | None = None,
    min_group_size: int | None = None,
    catalog: str | None = None,
    read_copy: str | None = None,
    validation: str = "auto",
    paths: str | None = None,
    max_roster_age_days: int | None = None,
    audit_copy: str | None = None,
    report_dir: str | None = None,
    dask: str | None = None,
    staging_area: str | None = None,
    rehash: bool = False,
) -> RunSummary | State:
    """Load every new or corrected extract of the landing folder into the warehouse.

    Each parameter is `rxstaff nightly`'s option of the same name (`rxstaff nightly
    --help`); left empty, the worker's environment gives it (``landing``:
    $RXSTAFF_LANDING, ``warehouse``: $RXSTAFF_WAREHOUSE_URL, an absolute path for
    DuckDB). The pseudonymisation key comes from RXSTAFF_ID_SECRET, never from a
    parameter (Prefect records parameters). A run that needs attention (a rejected file,
    a stale or empty landing folder) ends Failed once what is there is loaded.
    """
    request = RunRequest(**locals())  # the parameters are the request's fields, by name
    run = settings.resolve(request, in_deployment=deployment.id is not None)
    tag_run(f"warehouse:{run.warehouse.backend}")
    summary = run_night(run, flow_run.get_id())
    if summary.attention:  # Failed, so the scheduler alerts: the message says what to do
        message = f"needs attention: {summary.attention}"
        return Failed(message=message, data=NeedsAttention(message, summary))
    return summary


def run_night(run: RunSettings, flow_run_id: str | None = None) -> RunSummary:
    """Every step of a run, under the warehouse's run lock; what the run did."""
    summary = RunSummary(run_id=run.run_id, warehouse=run.warehouse.description)
    ctx = RunContext(run.run_id, run.run_date, summary, flow_run_id=flow_run_id)
    try:
        with run_lock(run.warehouse, run.run_id, run.run_lock_wait):
            load_publish_report(run, ctx)
    except RunLockBusy as busy:  # nothing was read or changed: the holder's run goes on
        summary.busy = str(busy)
        run_logger().error(f"run {run.run_id} did not start: {busy}")
    finally:
        publish_artifacts(summary)
    return summary


def load_publish_report(run: RunSettings, ctx: RunContext) -> None:
    """Discover, load and commit; publish the copies; write the report."""
    log, summary = run_logger(), ctx.summary
    found: Discovery = step(discover_files)(run)
    summary.landing_problem, summary.files_hashed = found.problem, found.hashed
    for source, _ in found.arriving:
        summary.source(source).files_deferred += 1
    log.info(
        f"run {run.run_id}: {len(found.judged)} file(s) in {run.landing} -> {summary.warehouse}"
    )
    with validation_beside(run.validation, found.due_bytes, run.validation_project) as checks:
        try:
            load_and_commit(run, found, ctx, checks)
        except NOTHING_CHANGED:
            raise
        except (Exception, RunStopped) as raised:
            error = stop_behind(raised)
            summary.failed = f"{type(error).__name__}: {error}"
            log.error(f"run {run.run_id} failed and was rolled back: {summary.failed}")
            discard_results(checks)
            record_failure(run, found, ctx)
            raise RunRolledBack(summary.failed) from error
        if checks.store is not None and checks.store.keys:
            summary.validation_docs = str(checks.store.build_docs())
            log.info(f"validation results: {summary.validation_docs}")
    publish_and_report(run, summary)
