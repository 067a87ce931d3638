"""The nightly flow: landing files to a validated, audited warehouse, all or nothing.

extract (discover, hash, decide) -> validate and stage each source -> build the models
-> publish (commit; a DuckDB history load renames its copy into place). A failure
anywhere rolls the whole run back and records the attempted files as failed; a rejected
file is recorded, the others still load, and the run ends failed so the scheduler alerts.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rxstaff import settings
from rxstaff.flows.landing import (
    SOURCE_ORDER,
    Landing,
    LandingFile,
    discover,
    read_extract,
    read_job_catalog,
)
from rxstaff.flows.stage import FILE_NO, FileResult, Prepared, Reference, prepare_file, stage_chunk
from rxstaff.flows.summary import RunRejectedFiles, RunSummary
from rxstaff.transforms.catalog import stage_catalog
from rxstaff.transforms.pseudonym import Pseudonymiser, fingerprint
from rxstaff.warehouse import batches
from rxstaff.warehouse.access import apply_grants
from rxstaff.warehouse.connection import create_engine, describe_target, with_retries
from rxstaff.warehouse.dictionary import apply_comments
from rxstaff.warehouse.loader import bulk_insert
from rxstaff.warehouse.models import (
    build_models,
    create_views,
    drop_views,
    load_job_catalog,
    update_roster_changes,
)
from rxstaff.warehouse.publish import LoadingCopy, duckdb_file, publish_read_copy
from rxstaff.warehouse.schema import upgrade
from rxstaff.warehouse.settings import check_secret

UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
# Files of one source are validated together: GX costs ~0.7 s per validation whatever its size.
CHUNK_ROWS = 250_000
# "auto" validation: Great Expectations up to this much new data per source, the vectorised
# engine (same suite) above it, where GX would take minutes (docs/decisions.md).
AUTO_GX_MAX_BYTES = 64 * 1024 * 1024
VALIDATION_CHOICES = ("auto", "gx", "vectorised")
# A run bringing more new data than this into a DuckDB file is a history load: it works on
# a copy committed chunk by chunk and published whole (warehouse/publish.py), which keeps
# memory to one chunk where one transaction would hold every uncommitted row.
BULK_LOAD_MIN_BYTES = 64 * 1024 * 1024


@dataclass
class RunContext:
    run_id: str
    run_date: date
    reference: Reference
    summary: RunSummary
    validation: str = "auto"
    started_at: datetime = field(default_factory=batches.now)
    batch_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    roster_dates: list[date] = field(default_factory=list)  # snapshots staged this run
    roster_corrected: bool = False  # a loaded roster file was replaced
    commit_each_chunk: bool = False  # a history load on a private copy of the warehouse


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
    validator = _validator(ctx.validation, [f for f, _ in todo])
    logger.info(f"{source}: {len(todo)} new or corrected file(s), validated with {validator}")
    loader = _SourceLoader(conn, source, ctx, validator, len(todo))
    for file, prior in todo:
        loader.add(file, prior)
    loader.flush()
    return loader.loaded


def _validator(choice: str, files: list[LandingFile]) -> str:
    """The validation engine: GX, or for a history load its vectorised twin."""
    if choice != "auto":
        return choice
    size = sum(f.path.stat().st_size for f in files)
    return "gx" if size <= AUTO_GX_MAX_BYTES else "vectorised"


class _SourceLoader:
    """Gathers a source's files into validation chunks and writes their batches.

    Per chunk: one validation, one bulk insert per staging table, one insert of the
    chunk's ``etl_batch`` rows, one progress line.
    """

    def __init__(
        self, conn: sa.Connection, source: str, ctx: RunContext, validator: str, total: int
    ) -> None:
        self.conn, self.source, self.ctx, self.total = conn, source, ctx, total
        self.validator = validator
        self.newest = batches.newest_file_date(conn, source)
        self.pending: list[Prepared] = []
        self.priors: list[batches.KnownFile | None] = []
        self.records: list[dict] = []
        self.pending_rows = 0
        self.done = 0
        self.loaded = 0

    def add(self, file: LandingFile, prior: batches.KnownFile | None) -> None:
        try:
            raw = read_extract(file.path)
        except UNREADABLE as error:
            problem = f"unreadable as UTF-8 CSV ({type(error).__name__}: {error})"
            self._record(FileResult(file, file_errors=[problem]), prior)
            return
        prepared = prepare_file(file, raw, len(self.pending))
        if isinstance(prepared, FileResult):
            self._record(prepared, prior)
            return
        self.pending.append(prepared)
        self.priors.append(prior)
        self.pending_rows += len(prepared.frame)
        if self.pending_rows >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        """Validate and stage the pending chunk, then write it."""
        batch_of: dict[int, int] = {}
        if self.pending:
            staged = stage_chunk(self.pending, self.ctx.reference, self.validator)
            for number, (result, prior) in enumerate(zip(staged.files, self.priors, strict=True)):
                batch_id = self._record(result, prior)
                if not result.file_errors:
                    batch_of[number] = batch_id
            for table, frame in [*staged.tables.items(), ("etl_quarantine", staged.quarantine)]:
                bulk_insert(self.conn, table, _with_batch_ids(frame, batch_of))
        if self.records:
            bulk_insert(self.conn, "etl_batch", pd.DataFrame(self.records))
        if self.ctx.commit_each_chunk:
            self.conn.commit()
        tally = self.ctx.summary.source(self.source)
        get_run_logger().info(
            f"{self.source}: {self.done}/{self.total} files, {tally.rows_loaded:,} rows loaded, "
            f"{tally.rows_quarantined:,} quarantined, {tally.files_rejected} file(s) rejected"
        )
        self.pending, self.priors, self.records, self.pending_rows = [], [], [], 0

    def _record(self, result: FileResult, prior: batches.KnownFile | None) -> int:
        self.done += 1
        batch_id = next(self.ctx.batch_ids)
        self.records.append(
            _batch_record(self.conn, result, prior, batch_id, self.newest, self.ctx, self.validator)
        )
        self.loaded += not result.file_errors
        return batch_id


def _with_batch_ids(frame: pd.DataFrame, batch_of: dict[int, int]) -> pd.DataFrame:
    """Swap each row's position-in-chunk file number for its file's batch_id."""
    batch_ids = frame[FILE_NO].map(batch_of)
    return frame.drop(columns=[FILE_NO]).assign(batch_id=batch_ids)[batch_ids.notna().to_numpy()]


def _batch_row(
    ctx: RunContext, file: LandingFile, batch_id: int, status: str, **values: object
) -> dict:
    """An ``etl_batch`` row for a file of this run; counts and error as given."""
    return {
        "batch_id": batch_id,
        "run_id": ctx.run_id,
        "source": file.source,
        "file_name": file.file_name,
        "file_date": file.file_date,
        "sha256": file.sha256,
        "rows_read": None,
        "rows_loaded": None,
        "rows_quarantined": None,
        "started_at": ctx.started_at,
        "finished_at": batches.now(),
        "status": status,
        "superseded_by": None,
        "validated_with": None,
        "error": None,
        **values,
    }


def _batch_record(
    conn: sa.Connection,
    result: FileResult,
    prior: batches.KnownFile | None,
    batch_id: int,
    newest: date | None,
    ctx: RunContext,
    validator: str,
) -> dict:
    """One file's ``etl_batch`` row: rejected, or loaded (superseding an earlier version)."""
    logger = get_run_logger()
    file = result.file
    tally = ctx.summary.source(file.source)
    record = _batch_row(
        ctx,
        file,
        batch_id,
        "loaded",
        rows_read=result.rows_read,
        rows_loaded=result.rows_loaded,
        rows_quarantined=result.rows_quarantined,
        validated_with=validator,
    )
    if result.file_errors:
        message = "; ".join(result.file_errors)
        logger.error(f"{file.file_name}: rejected: {message}")
        ctx.summary.rejections.append(f"{file.file_name}: {message}")
        tally.files_rejected += 1
        if prior and prior.status == "rejected":
            batches.supersede(conn, file.source, prior.batch_id, batch_id)
        return {
            **record,
            "rows_loaded": 0,
            "rows_quarantined": 0,
            "status": "rejected",
            "error": message,
        }
    if file.source == "roster":
        ctx.roster_dates.append(file.file_date)
        ctx.roster_corrected |= bool(prior and prior.status == "loaded")
    if prior:
        logger.info(
            f"{file.file_name}: correction of batch {prior.batch_id}; replacing what it contributed"
        )
        batches.supersede(conn, file.source, prior.batch_id, batch_id)
    _arrival_anomalies(conn, file, result, batch_id, newest, ctx.run_id)
    tally.files_loaded += 1
    tally.rows_loaded += result.rows_loaded
    tally.rows_quarantined += result.rows_quarantined
    logger.debug(
        f"{file.file_name}: {result.rows_loaded} rows loaded, {result.rows_quarantined} quarantined"
    )
    return record


def _arrival_anomalies(
    conn: sa.Connection,
    file: LandingFile,
    staged: FileResult,
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
def build_warehouse(conn: sa.Connection, ctx: RunContext) -> list[str]:
    """Update the roster history, then rebuild facts and anomalies (set-based SQL)."""
    how = update_roster_changes(conn, ctx.roster_dates, ctx.roster_corrected)
    get_run_logger().info(f"roster history: {how}")
    return build_models(conn, ctx.run_id)


def _prepare(engine: sa.Engine, secret: str, catalog: pd.DataFrame, min_group_size: int) -> None:
    with engine.begin() as conn:
        drop_views(conn)  # recreated below, after any migration of the tables beneath them
        upgrade(conn)
        check_secret(conn, fingerprint(secret))
        load_job_catalog(conn, catalog)
        create_views(conn, min_group_size)
        apply_comments(conn)
        apply_grants(conn)


def _record_failure(
    engine: sa.Engine, files: list[LandingFile], ctx: RunContext, error: BaseException
) -> None:
    """After a rollback: the attempted files, marked failed, so the next run retries them."""
    message = f"{type(error).__name__}: {error}"[:2000]
    with engine.begin() as conn:
        known = batches.live_files(conn)
        for file in files:
            prior = known.get((file.source, file.file_name))
            if prior and prior.sha256 == file.sha256:
                continue
            row = _batch_row(ctx, file, batches.next_batch_id(conn), "failed", error=message)
            batches.record_batch(conn, **row)
        _record_run(conn, ctx, "failed", message)


def _record_run(
    conn: sa.Connection, ctx: RunContext, status: str, error: str | None = None
) -> None:
    totals = ctx.summary.sources.values()
    conn.execute(
        sa.text(
            "INSERT INTO etl_run VALUES (:run_id, :run_date, :started_at, :finished_at, :status, "
            ":loaded, :skipped, :rejected, :rows, :quarantined, :error)"
        ),
        {
            "run_id": ctx.run_id,
            "run_date": ctx.run_date,
            "started_at": ctx.started_at,
            "finished_at": batches.now(),
            "status": status,
            "loaded": sum(s.files_loaded for s in totals),
            "skipped": sum(s.files_skipped for s in totals),
            "rejected": sum(s.files_rejected for s in totals),
            "rows": sum(s.rows_loaded for s in totals),
            "quarantined": sum(s.rows_quarantined for s in totals),
            "error": error,
        },
    )


def _anomaly_counts(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(
        sa.text("SELECT kind, COUNT(*) FROM etl_anomaly GROUP BY kind ORDER BY kind")
    )
    return {kind: int(n) for kind, n in rows}


def _history_load_copy(url: str, due: list[LandingFile]) -> LoadingCopy | None:
    """A private copy to load into, when a DuckDB file is about to take a large history."""
    target = duckdb_file(url)
    if target is None:
        return None
    known: dict = {}
    if target.exists():
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                if sa.inspect(conn).has_table("etl_batch"):
                    known = batches.live_files(conn)
        finally:
            engine.dispose()
    new = sum(
        f.path.stat().st_size
        for f in due
        if getattr(known.get((f.source, f.file_name)), "sha256", None) != f.sha256
    )
    return LoadingCopy.start(target) if new > BULK_LOAD_MIN_BYTES else None


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

    group_size = settings.min_group_size(min_group_size)
    copy = _history_load_copy(url, due)
    if copy:
        logger.info(f"history load: working on {copy.work.name}, published whole at the end")
    engine = create_engine(copy.url if copy else url)
    with_retries(lambda: _prepare(engine, secret, job_catalog, group_size), url)
    try:
        with engine.connect() as conn:
            ctx.commit_each_chunk = copy is not None
            ctx.batch_ids = itertools.count(batches.next_batch_id(conn))
            loaded = sum(
                load_source(conn, source, [f for f in due if f.source == source], ctx)
                for source in SOURCE_ORDER
            )
            if loaded or not _has_models(conn):
                built = build_warehouse(conn, ctx)
                logger.info(f"rebuilt {len(built)} models")
            else:
                logger.info("no new or corrected file: the warehouse is unchanged")
            summary.anomalies = _anomaly_counts(conn)
            if loaded or summary.rejections:
                _record_run(conn, ctx, "rejected files" if summary.rejections else "succeeded")
            conn.commit()
    except Exception as error:
        summary.failed = f"{type(error).__name__}: {error}"
        logger.error(f"run {run_id} failed and was rolled back: {summary.failed}")
        engine.dispose()
        if copy:
            copy.abandon()
            engine = create_engine(url)
            _prepare(engine, secret, job_catalog, group_size)
        _record_failure(engine, due, ctx, error)
        raise
    finally:
        engine.dispose()
    if copy:
        copy.publish()
    if read_copy:
        publish_read_copy(url, Path(read_copy))
        logger.info(f"published a read-only copy for BI at {read_copy}")
    if summary.rejections:
        raise RunRejectedFiles(summary)
    return summary
