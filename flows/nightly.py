"""The nightly flow: landing files to a validated, audited warehouse, in one transaction.

extract (discover, hash, decide) -> validate and stage each source -> build the models
-> publish (commit). A failure anywhere rolls the whole run back and records the
attempted files as failed; a rejected file is recorded, the others still load, and the
run ends failed so the scheduler alerts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.landing import (
    SOURCE_ORDER,
    Landing,
    LandingFile,
    discover,
    read_extract,
    read_job_catalog,
)
from flows.stage import Prepared, Reference, StagedFile, prepare_file, stage_files
from flows.summary import RunRejectedFiles, RunSummary
from rxstaff import settings
from transforms.catalog import stage_catalog
from transforms.pseudonym import Pseudonymiser, fingerprint
from warehouse import batches
from warehouse.connection import create_engine, describe_target, with_retries
from warehouse.loader import bulk_insert
from warehouse.models import build_models, create_views, load_job_catalog
from warehouse.publish import publish_read_copy
from warehouse.schema import upgrade
from warehouse.settings import check_secret

UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
# Files of one source are validated together: GX costs ~0.7 s per validation whatever its size.
CHUNK_ROWS = 250_000
# "auto" validation: Great Expectations up to this much new data per source, the vectorised
# engine (same suite) above it, where GX would take minutes (docs/decisions.md).
AUTO_GX_MAX_BYTES = 64 * 1024 * 1024
VALIDATION_CHOICES = ("auto", "gx", "vectorised")


@dataclass
class RunContext:
    run_id: str
    run_date: date
    reference: Reference
    summary: RunSummary
    validation: str = "auto"


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def discover_landing_files(landing: Path) -> Landing:
    """List and hash the landing folder (I/O: retried)."""
    return discover(landing)


@task(cache_policy=NO_CACHE)
def load_source(conn: sa.Connection, source: str, files: list[LandingFile], ctx: RunContext) -> int:
    """Validate and stage every new or corrected file of one source; the batches loaded."""
    logger = get_run_logger()
    known = batches.live_files(conn)
    todo = []
    for file in files:
        prior = known.get((source, file.file_name))
        if prior and prior.sha256 == file.sha256:
            ctx.summary.source(source).files_skipped += 1
            if prior.status == "rejected":
                logger.warning(
                    f"{file.file_name}: unchanged since batch {prior.batch_id} rejected it; skipped"
                )
            continue
        todo.append((file, prior))
    if not todo:
        return 0
    engine = _engine(ctx.validation, [f for f, _ in todo])
    logger.info(f"{source}: {len(todo)} new or corrected file(s), validated with {engine}")
    loader = _SourceLoader(conn, source, ctx, engine, len(todo))
    for file, prior in todo:
        loader.add(file, prior)
    loader.flush()
    return loader.loaded


def _engine(choice: str, files: list[LandingFile]) -> str:
    if choice != "auto":
        return choice
    size = sum(f.path.stat().st_size for f in files)
    return "gx" if size <= AUTO_GX_MAX_BYTES else "vectorised"


class _SourceLoader:
    """Gathers a source's files into validation chunks and writes each file's batch."""

    def __init__(
        self, conn: sa.Connection, source: str, ctx: RunContext, engine: str, total: int
    ) -> None:
        self.conn, self.source, self.ctx, self.engine, self.total = conn, source, ctx, engine, total
        self.newest = batches.newest_file_date(conn, source)
        self.pending: list[tuple[Prepared, batches.KnownFile | None]] = []
        self.pending_rows = 0
        self.done = 0
        self.loaded = 0

    def add(self, file: LandingFile, prior: batches.KnownFile | None) -> None:
        started = batches.now()
        try:
            raw = read_extract(file.path)
        except UNREADABLE as error:
            problem = f"unreadable as UTF-8 CSV ({type(error).__name__}: {error})"
            self.write(StagedFile(file, file_errors=[problem]), prior, started)
            return
        prepared = prepare_file(file, raw, len(self.pending))
        if isinstance(prepared, StagedFile):
            self.write(prepared, prior, started)
            return
        self.pending.append((prepared, prior))
        self.pending_rows += len(prepared.frame)
        if self.pending_rows >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        started = batches.now()
        staged = stage_files([p for p, _ in self.pending], self.ctx.reference, self.engine)
        for one, (_, prior) in zip(staged, self.pending, strict=True):
            self.write(one, prior, started)
        self.pending, self.pending_rows = [], 0

    def write(self, staged: StagedFile, prior: batches.KnownFile | None, started: datetime) -> None:
        self.done += 1
        progress = f"{self.source} {self.done}/{self.total} {staged.file.file_name}"
        self.loaded += _write_batch(
            self.conn, staged, prior, self.newest, self.ctx, progress, started, self.engine
        )


def _write_batch(
    conn: sa.Connection,
    staged: StagedFile,
    prior: batches.KnownFile | None,
    newest: date | None,
    ctx: RunContext,
    progress: str,
    started: datetime,
    engine: str,
) -> int:
    """Record one file's batch: rejected, or loaded (replacing an earlier version)."""
    logger = get_run_logger()
    file = staged.file
    batch_id = batches.next_batch_id(conn)
    tally = ctx.summary.source(file.source)
    base = dict(
        batch_id=batch_id,
        run_id=ctx.run_id,
        source=file.source,
        file_name=file.file_name,
        file_date=file.file_date,
        sha256=file.sha256,
        rows_read=staged.rows_read,
        started_at=started,
        validated_with=engine,
    )
    if staged.file_errors:
        message = "; ".join(staged.file_errors)
        logger.error(f"{progress}: rejected: {message}")
        ctx.summary.rejections.append(f"{file.file_name}: {message}")
        tally.files_rejected += 1
        if prior and prior.status == "rejected":
            batches.supersede(conn, file.source, prior.batch_id, batch_id)
        batches.record_batch(
            conn,
            **base,
            rows_loaded=0,
            rows_quarantined=0,
            finished_at=batches.now(),
            status="rejected",
            error=message,
        )
        return 0
    if prior:
        logger.info(
            f"{progress}: correction of batch {prior.batch_id}; replacing what it contributed"
        )
        batches.supersede(conn, file.source, prior.batch_id, batch_id)
    for table, frame in staged.tables.items():
        bulk_insert(conn, table, frame.assign(batch_id=batch_id))
    if len(staged.quarantine):
        bulk_insert(conn, "etl_quarantine", staged.quarantine.assign(batch_id=batch_id))
    _arrival_anomalies(conn, file, staged, batch_id, newest, ctx.run_id)
    batches.record_batch(
        conn,
        **base,
        rows_loaded=staged.rows_loaded,
        rows_quarantined=staged.rows_quarantined,
        finished_at=batches.now(),
        status="loaded",
    )
    tally.files_loaded += 1
    tally.rows_loaded += staged.rows_loaded
    tally.rows_quarantined += staged.rows_quarantined
    logger.info(
        f"{progress}: {staged.rows_loaded} rows loaded, {staged.rows_quarantined} quarantined"
    )
    return 1


def _arrival_anomalies(
    conn: sa.Connection,
    file: LandingFile,
    staged: StagedFile,
    batch_id: int,
    newest: date | None,
    run_id: str,
) -> None:
    found = []
    if staged.extra_columns:
        found.append(("extra_columns", f"ignored column(s): {', '.join(staged.extra_columns)}"))
    if file.source == "roster" and newest and file.file_date < newest:
        found.append(
            (
                "snapshot_older_than_loaded",
                f"snapshot of {file.file_date} arrived after the one of {newest}",
            )
        )
    for kind, detail in found:
        conn.execute(
            sa.text(
                "INSERT INTO etl_anomaly (run_id, batch_id, kind, observed_on, detail, origin) "
                "VALUES (:r, :b, :k, :d, :t, 'arrival')"
            ),
            {"r": run_id, "b": batch_id, "k": kind, "d": file.file_date, "t": detail},
        )


@task(cache_policy=NO_CACHE)
def build_warehouse(conn: sa.Connection, run_id: str) -> list[str]:
    """Rebuild history, facts and anomalies from staging (set-based SQL in the warehouse)."""
    return build_models(conn, run_id)


def _prepare(engine: sa.Engine, secret: str, catalog: pd.DataFrame, min_group_size: int) -> None:
    with engine.begin() as conn:
        upgrade(conn)
        check_secret(conn, fingerprint(secret))
        load_job_catalog(conn, catalog)
        create_views(conn, min_group_size)


def _record_failure(
    engine: sa.Engine, files: list[LandingFile], run_id: str, error: BaseException
) -> None:
    """After a rollback: the attempted files, marked failed, so the next run retries them."""
    message = f"{type(error).__name__}: {error}"[:2000]
    with engine.begin() as conn:
        known = batches.live_files(conn)
        for file in files:
            prior = known.get((file.source, file.file_name))
            if prior and prior.sha256 == file.sha256:
                continue
            batches.record_batch(
                conn,
                batch_id=batches.next_batch_id(conn),
                run_id=run_id,
                source=file.source,
                file_name=file.file_name,
                file_date=file.file_date,
                sha256=file.sha256,
                started_at=batches.now(),
                finished_at=batches.now(),
                status="failed",
                error=message,
            )


def _anomaly_counts(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(
        sa.text("SELECT kind, COUNT(*) FROM etl_anomaly GROUP BY kind ORDER BY kind")
    )
    return {kind: int(n) for kind, n in rows}


def _has_models(conn: sa.Connection) -> bool:
    return bool(conn.execute(sa.text("SELECT COUNT(*) FROM dim_date")).scalar())


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
    url = settings.warehouse_url(warehouse)
    run_day = run_date or date.today()
    run_id = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    summary = RunSummary(run_id=run_id, warehouse=describe_target(url))
    secret = settings.id_secret()
    job_catalog = stage_catalog(read_job_catalog(Path(catalog) if catalog else None))
    reference = Reference(
        job_codes=job_catalog["job_code"].tolist(),
        job_families=sorted(job_catalog["job_family"].unique().tolist()),
        pseudonyms=Pseudonymiser(secret),
    )
    ctx = RunContext(run_id, run_day, reference, summary, validation)
    found = discover_landing_files(Path(landing))
    for name in found.unrecognised:
        logger.warning(f"ignored {name}: not a file name the landing contract knows")
    due = [f for f in found.files if f.file_date <= run_day]
    if len(due) < len(found.files):
        logger.info(
            f"{len(found.files) - len(due)} file(s) dated after {run_day} wait for a later run"
        )
    logger.info(f"run {run_id}: {len(due)} file(s) in {landing} -> {summary.warehouse}")

    engine = create_engine(url)
    group_size = settings.min_group_size(min_group_size)
    with_retries(lambda: _prepare(engine, secret, job_catalog, group_size), url)
    try:
        with engine.connect() as conn, conn.begin():
            loaded = sum(
                load_source(conn, source, [f for f in due if f.source == source], ctx)
                for source in SOURCE_ORDER
            )
            if loaded or not _has_models(conn):
                built = build_warehouse(conn, run_id)
                logger.info(f"rebuilt {len(built)} models")
            else:
                logger.info("no new or corrected file: the warehouse is unchanged")
            summary.anomalies = _anomaly_counts(conn)
    except Exception as error:
        summary.failed = f"{type(error).__name__}: {error}"
        logger.error(f"run {run_id} failed and was rolled back: {summary.failed}")
        _record_failure(engine, due, run_id, error)
        raise
    finally:
        engine.dispose()
    if read_copy:
        publish_read_copy(url, Path(read_copy))
        logger.info(f"published a read-only copy for BI at {read_copy}")
    if summary.rejections:
        raise RunRejectedFiles(summary)
    return summary
