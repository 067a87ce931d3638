"""The nightly flow, step by step as the README's "What a run does" tells it.

1. Extract: discover and hash the landing folder; judge each file against the warehouse
   (new, unchanged, correction: ``warehouse/arrivals.py``).
2. Validate and load each source, a chunk of files at a time (``flows/ingest.py``).
3. Build the roster history, the models and the history anomalies (``warehouse/``).
4. Commit, all or nothing (``warehouse/transaction.py``); publish the BI copy; tell.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rxstaff import settings
from rxstaff.flows.ingest import VALIDATION_CHOICES, ingest_source
from rxstaff.flows.landing import Landing, LandingFile, discover, due_by, read_job_catalog
from rxstaff.flows.summary import (
    NOTHING_STARTED,
    PublicationFailed,
    RunContext,
    RunRejectedFiles,
    RunRolledBack,
    RunSummary,
)
from rxstaff.transforms.catalog import reference, stage_catalog
from rxstaff.transforms.pseudonym import fingerprint
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse import anomalies, arrivals, batches, build, roster_history, runs
from rxstaff.warehouse.arrivals import Arrival
from rxstaff.warehouse.connection import describe_target
from rxstaff.warehouse.publish import publish_read_copy
from rxstaff.warehouse.transaction import RunTransaction, Setup, record_after_failure


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def discover_landing(landing: Path) -> Landing:
    """List and hash the landing folder (I/O: retried)."""
    return discover(landing)


@task(cache_policy=NO_CACHE)
def load_source(
    tx: RunTransaction, source: str, due: list[Arrival[LandingFile]], ctx: RunContext
) -> int:
    """Validate and stage one source's new and corrected files; the batches loaded."""
    return ingest_source(tx.conn, SOURCES[source], due, ctx, tx.checkpoint, get_run_logger())


@task(cache_policy=NO_CACHE)
def build_models(tx: RunTransaction, ctx: RunContext) -> list[str]:
    """Roster history, then every model table and the history anomalies (set-based SQL)."""
    how = roster_history.update(tx.conn, ctx.roster_dates, ctx.roster_corrected)
    get_run_logger().info(f"roster history: {how}")
    built = build.build_tables(tx.conn)
    anomalies.rebuild_history_anomalies(tx.conn, ctx.run_id)
    return built


@task(cache_policy=NO_CACHE)
def publish_for_readers(url: str, read_copy: str) -> None:
    """Replace the read-only copy for BI tools, whole."""
    publish_read_copy(url, Path(read_copy))


@flow(name="nightly", log_prints=False)
def nightly(
    landing: str,
    warehouse: str | None = None,
    run_date: date | None = None,
    min_group_size: int | None = None,
    catalog: str | None = None,
    read_copy: str | None = None,
    validation: str = "auto",
) -> RunSummary:
    """Load every new or corrected extract of the landing folder into the warehouse.

    Files dated after ``run_date`` (default: today) wait for a later run, so a past night
    can be replayed exactly. The pseudonymisation key comes from RXSTAFF_ID_SECRET,
    never from a parameter (Prefect records parameters).
    """
    logger = get_run_logger()
    if validation not in VALIDATION_CHOICES:
        raise ValueError(f"validation must be one of {VALIDATION_CHOICES}, not {validation!r}")
    url, secret = settings.warehouse_url(warehouse), settings.id_secret()
    job_catalog = stage_catalog(read_job_catalog(Path(catalog) if catalog else None))
    setup = Setup(fingerprint(secret), job_catalog, settings.min_group_size(min_group_size))
    run_id = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    summary = RunSummary(run_id=run_id, warehouse=describe_target(url))
    ctx = RunContext(
        run_id, run_date or date.today(), reference(job_catalog, secret), summary, validation
    )

    found = discover_landing(Path(landing))
    for name in found.unrecognised:
        logger.warning(f"ignored {name}: not a file name the landing contract knows")
    files = due_by(found, ctx.run_date)
    if len(files) < len(found.files):
        logger.info(f"{len(found.files) - len(files)} file(s) dated later wait for their night")
    judged = arrivals.judge(files, arrivals.known_files(url))
    logger.info(f"run {run_id}: {len(files)} file(s) in {landing} -> {summary.warehouse}")
    try:
        _load(url, judged, setup, ctx)
    except NOTHING_STARTED:
        raise
    except Exception as error:
        summary.failed = f"{type(error).__name__}: {error}"
        logger.error(f"run {run_id} failed and was rolled back: {summary.failed}")
        _record_failure(url, judged, ctx)
        raise RunRolledBack(summary.failed) from error
    if read_copy:
        try:
            publish_for_readers(url, read_copy)
        except Exception as error:
            summary.failed = f"committed, but publishing {read_copy} failed: {error}"
            raise PublicationFailed(summary.failed) from error
        logger.info(f"published a read-only copy for BI at {read_copy}")
    if summary.rejections:
        raise RunRejectedFiles(summary)
    return summary


def _load(url: str, judged: list[Arrival[LandingFile]], setup: Setup, ctx: RunContext) -> None:
    """Steps 2-4 inside one transaction: load, build, record, commit."""
    logger = get_run_logger()
    new_bytes = sum(a.file.size for a in judged if a.due)
    with RunTransaction(url, new_bytes) as tx:
        if tx.history_load:
            logger.info("history load: working on a private copy, published whole at the end")
        tx.prepare(setup)
        ctx.batch_ids = iter(range(batches.next_batch_id(tx.conn), 1 << 62))
        loaded = sum(
            load_source(tx, name, [a for a in judged if a.file.source == name], ctx)
            for name in SOURCES
        )
        if loaded or not build.has_rows(tx.conn, "dim_date"):
            logger.info(f"rebuilt {len(build_models(tx, ctx))} models")
        else:
            logger.info("no new or corrected file: the warehouse is unchanged")
        ctx.summary.anomalies = anomalies.counts(tx.conn)
        if loaded or ctx.summary.rejections:
            status = "rejected files" if ctx.summary.rejections else "succeeded"
            runs.record_run(tx.conn, ctx.record(status))
        tx.commit(setup.min_group_size)


def _record_failure(url: str, judged: list[Arrival[LandingFile]], ctx: RunContext) -> None:
    """After the rollback, in the warehouse as it was: the attempted files and the run."""
    error = ctx.summary.failed or "failed"

    def write(conn: sa.Connection) -> None:
        attempted = [a.file for a in judged if a.due]
        batches.record_failed_files(conn, attempted, ctx.run_id, ctx.started_at, error)
        runs.record_run(conn, ctx.record("failed", error[:2000]))

    try:
        record_after_failure(url, write)
    except Exception as failure:  # the run's own error is the one to report
        get_run_logger().error(f"could not record the failure in the warehouse: {failure}")
