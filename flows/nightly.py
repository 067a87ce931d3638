"""The nightly flow, step by step as the README's "What a run does" tells it.

1. Extract: discover and hash the landing folder; judge each file against the warehouse
   (new, unchanged or a correction: ``warehouse/arrivals.py``).
2. Validate and load each source, a chunk of files at a time (``flows/ingest.py``).
3. Build the roster history, the models and the history anomalies (``warehouse/``).
4. Commit, all or nothing (``warehouse/transaction.py``); publish the BI copy; tell.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment, flow_run
from prefect.states import Failed, State

from rxstaff import settings
from rxstaff.expectations.companion import Companion
from rxstaff.expectations.results import ValidationStore
from rxstaff.flows import alerts
from rxstaff.flows.ingest import (
    SourcePlan,
    choose_validator,
    gx_beside,
    ingest_source,
    plan_source,
    reject_misnamed,
    stage_in_process,
)
from rxstaff.flows.landing import (
    LandingError,
    LandingFile,
    MisnamedFile,
    discover,
    due_by,
    landing_problem,
)
from rxstaff.flows.options import RunOptions, resolve
from rxstaff.flows.parallel import staging_on_cluster
from rxstaff.flows.run_report import publish_artifacts, run_name, tag_run
from rxstaff.flows.staging_chunk import StagedFiles
from rxstaff.flows.summary import (
    NOTHING_STARTED,
    PublicationFailed,
    RunContext,
    RunRolledBack,
    RunSummary,
)
from rxstaff.flows.task_inputs import as_is
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse import (
    anomalies,
    arrivals,
    batches,
    build,
    landing_hashes,
    roster_history,
    runs,
)
from rxstaff.warehouse.arrivals import Arrival
from rxstaff.warehouse.connection import WarehouseUnavailable
from rxstaff.warehouse.publish import publish_for_audit, publish_for_bi
from rxstaff.warehouse.run_lock import RunLockBusy, run_lock
from rxstaff.warehouse.transaction import RunTransaction, Setup, record_after_failure

Arrivals = list[Arrival[LandingFile]]


@dataclass(frozen=True)
class Discovery:
    judged: Arrivals
    problem: tuple[str, str] | None  # a stale or empty landing folder
    misnamed: list[Arrival[MisnamedFile]]  # no real date in the name: rejected by name
    arriving: list[tuple[str, str]]  # (source, file name) still arriving: for a later run
    hashes: list[landing_hashes.LandingHash] | None = None  # to record; None: as recorded
    hashed: int = 0  # files read and hashed by this discovery

    @property
    def due_bytes(self) -> int:
        """The size of the files this run loads: what decides how it loads them."""
        return sum(a.file.size for a in self.judged if a.due)


def transient_io(task: object, task_run: object, state: State) -> bool:
    """Retry a read of the landing folder that failed for a passing reason (a network
    share's hiccup), never a folder that is not there or a warehouse that refuses us."""
    try:
        state.result()
    except (LandingError, WarehouseUnavailable):
        return False
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=transient_io, cache_policy=NO_CACHE)
def discover_files(
    landing: Path, url: str, run_date: date, max_age: int, rehash: bool = False
) -> Discovery:
    """List and hash the landing folder (a file whose size and times are as the last run
    saw them keeps its hash, unless ``rehash``); judge each file due by the run date; say
    whether the folder is stale or empty (I/O: retried)."""
    logger, known = get_run_logger(), arrivals.known_files(url)
    found = discover(landing, settings.settle_seconds(), recorded={} if rehash else known.hashes)
    read = found.hashed
    logger.info(
        f"{read:,} of {len(found.files):,} file(s) read and hashed; the others have the size "
        "and times the last run saw"
        if read < len(found.files)
        else f"{read:,} file(s) read and hashed"
    )
    for name in found.unrecognised:
        logger.warning(f"ignored {name}: not a file name the landing contract knows")
    for _, name in found.arriving:
        logger.info(f"{name} is still arriving: left for a later run")
    files = due_by(found, run_date)
    if len(files) < len(found.files):
        logger.info(f"{len(found.files) - len(files)} file(s) dated later wait for their night")
    rosters = arrivals.loaded_dates(known.live, "roster")
    problem = landing_problem(found, rosters, run_date, max_age)
    if problem:
        logger.error(f"{problem[0]}: {problem[1]}")
    hashes = found.hashes()
    changed = {h.file_name: h for h in hashes} != known.hashes
    return Discovery(
        arrivals.judge(files, known.live),
        problem,
        arrivals.judge(found.misnamed, known.live),
        found.arriving,
        hashes if changed else None,
        read,
    )


@task(cache_policy=NO_CACHE, task_run_name="load {source}")
def load_source(
    tx: RunTransaction,
    source: str,
    plan: SourcePlan,
    staged: Iterable[StagedFiles],
    ctx: RunContext,
) -> int:
    """Write one source's staged chunks (new and corrected files); the batches loaded."""
    return ingest_source(tx.conn, plan, staged, ctx, tx.checkpoint, get_run_logger())


@task(cache_policy=NO_CACHE)
def build_models(tx: RunTransaction, ctx: RunContext) -> build.Built:
    """Roster history, then the model tables whose inputs changed and the history
    anomalies (set-based SQL)."""
    how = roster_history.update(tx.conn, ctx.roster_dates, ctx.roster_corrected)
    get_run_logger().info(f"roster history: {how}")
    built = build.build_tables(tx.conn, tx.fingerprints)
    anomalies.rebuild_history_anomalies(tx.conn, ctx.run_id)
    return built


@task(cache_policy=NO_CACHE)
def publish_for_readers(url: str, read_copy: str | None, audit_copy: str | None) -> None:
    """Replace the copies for BI tools (BI relations only) and auditors, each whole."""
    if read_copy:
        publish_for_bi(url, Path(read_copy))
    if audit_copy:
        publish_for_audit(url, Path(audit_copy))


@task(cache_policy=NO_CACHE)
def write_staffing_report(url: str, out: str) -> str:
    """The staffing report of the warehouse as this run left it; the HTML file's path."""
    from rxstaff.staffing_report import write_report
    from rxstaff.warehouse.connection import describe_target
    from rxstaff.warehouse.reading import existing_warehouse

    with existing_warehouse(url) as conn:
        files = write_report(conn, Path(out), describe_target(url))
    if files.pdf_problem:
        get_run_logger().warning(files.pdf_problem)
    return str(files.html)


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

    ``landing`` defaults to $RXSTAFF_LANDING and ``warehouse`` to $RXSTAFF_WAREHOUSE_URL (a
    worker's settings); a deployment refuses a relative DuckDB path.

    Files dated after ``run_date`` (default: today) wait for a later run, so a past night
    can be replayed exactly. ``read_copy`` (or $RXSTAFF_READ_COPY) publishes a DuckDB file of
    the BI relations for BI tools, ``audit_copy`` (or $RXSTAFF_AUDIT_COPY) one with the audit
    trail too. A landing folder with no file the contract knows, or whose
    newest roster is older than ``max_roster_age_days`` (default 10) on the run date, ends
    the run failed once what is there is loaded. The pseudonymisation key comes from
    RXSTAFF_ID_SECRET, never from a parameter (Prefect records parameters). ``report_dir``
    (or $RXSTAFF_REPORT_DIR) writes the staffing report there after a committed run.
    ``dask`` (or $RXSTAFF_DASK) says where a history load's staging runs: ``auto`` (a
    local Dask cluster for 512 MB or more of new files), ``off``, ``local``, or a
    scheduler's address; its workers write Parquet to ``staging_area`` (or
    $RXSTAFF_STAGING_AREA; a private temporary folder by default). A landing file whose
    size and times are as the last committed run saw them keeps the hash that run made;
    ``rehash`` reads and hashes every file all the same.
    """
    logger = get_run_logger()
    in_deployment = deployment.id is not None
    run = resolve(warehouse, run_date, min_group_size, catalog, validation, paths, in_deployment)
    landing = settings.landing(landing)
    ctx, summary = run.ctx, run.ctx.summary
    ctx.flow_run_id = flow_run.get_id()
    ctx.dask, ctx.staging_area = settings.dask(dask), settings.staging_area(staging_area)
    ctx.rehash = rehash
    settings.dask_workers()  # a bad setting stops the run here, before anything is read
    settings.postgres_session(run.url)
    max_age = settings.max_roster_age_days(max_roster_age_days)
    tag_run(f"warehouse:{warehouse_kind(run.url)}")
    try:
        with run_lock(run.url, ctx.run_id, settings.run_lock_wait()):
            load_publish_report(run, landing, max_age, read_copy, audit_copy, report_dir)
    except RunLockBusy as busy:  # nothing was read or changed: the holder's run goes on
        summary.busy = str(busy)
        logger.error(f"run {ctx.run_id} did not start: {busy}")
    finally:
        publish_artifacts(summary)
    if summary.attention:
        # Failed, so the scheduler alerts; returned, not raised: what needs attention is
        # the message, and nothing broke that a traceback could explain.
        return Failed(message=f"needs attention: {summary.attention}", data=summary)
    return summary


def load_publish_report(
    run: RunOptions,
    landing: str,
    max_age: int,
    read_copy: str | None,
    audit_copy: str | None,
    report_dir: str | None,
) -> None:
    """Under the run lock: discover, load and commit, publish the copies, write the report."""
    logger, ctx = get_run_logger(), run.ctx
    summary = ctx.summary
    found = discover_files(Path(landing), run.url, ctx.run_date, max_age, ctx.rehash)
    judged, summary.landing_problem = found.judged, found.problem
    summary.files_hashed = found.hashed
    for source, _ in found.arriving:
        summary.source(source).files_deferred += 1
    logger.info(f"run {ctx.run_id}: {len(judged)} file(s) in {landing} -> {summary.warehouse}")
    ctx.gx_beside = gx_beside(found.due_bytes)
    with validation_beside(ctx, settings.validation_project(run.url)):
        try:
            load_and_commit(run.url, found, run.setup, ctx)
        except NOTHING_STARTED:
            raise
        except Exception as error:
            summary.failed = f"{type(error).__name__}: {error}"
            logger.error(f"run {ctx.run_id} failed and was rolled back: {summary.failed}")
            record_failure(run.url, judged, ctx)
            raise RunRolledBack(summary.failed) from error
        if ctx.validation_store is not None and ctx.validation_store.keys:
            summary.validation_docs = str(ctx.validation_store.build_docs())
            logger.info(f"validation results: {summary.validation_docs}")
    read_copy, audit_copy = settings.copies(read_copy, audit_copy)
    if read_copy or audit_copy:
        try:
            publish_for_readers(run.url, read_copy, audit_copy)
        except Exception as error:
            summary.failed = f"the run committed, but publishing its copies failed: {error}"
            raise PublicationFailed(summary.failed) from error
    out = settings.report_dir(report_dir)
    if out:
        try:
            summary.report = write_staffing_report(run.url, out)
        except Exception as error:  # the run committed: a report problem does not undo it
            summary.report_problem = f"the run committed, but its report failed: {error}"
            logger.error(summary.report_problem)


@contextmanager
def validation_beside(ctx: RunContext, project: Path | None) -> Iterator[None]:
    """Within: the run's validation store. A run validated by SQL (over 4 MiB of new
    files) hands its Great Expectations work (results, sample checks, Data Docs) to a
    companion process, which imports GX while the run stages; any other run keeps it in
    this process."""
    # The engine the run's sources are validated by decides (a run validated by GX itself
    # has no sample for a companion to check).
    if not ctx.gx_beside or choose_validator(ctx.validation, ctx.gx_beside) == "gx":
        ctx.validation_store = ValidationStore(project) if project else None
        yield
        return
    companion = Companion(project)
    ctx.companion, ctx.validation_store = companion, companion if project else None
    try:
        yield
    finally:
        ctx.companion = None
        companion.close()


def warehouse_kind(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name()


def load_and_commit(url: str, found: Discovery, setup: Setup, ctx: RunContext) -> None:
    """Steps 2-4 inside one transaction: load each source, build, record the run, commit."""
    logger, judged = get_run_logger(), found.judged
    with RunTransaction(url, found.due_bytes) as tx:
        if tx.history_load:
            logger.info("history load: on a private copy of the warehouse, published whole")
        tx.prepare(setup)
        ctx.batch_ids = itertools.count(batches.next_batch_id(tx.conn))
        with staging_on_cluster(ctx, found.due_bytes):
            if ctx.stager:
                logger.info(f"staging on Dask ({ctx.dask}), Parquet in the staging area")
            loaded = sum(load_due_sources(tx, judged, ctx))
        if ctx.companion is not None:  # every result is recorded: Data Docs beside the build
            ctx.companion.start_docs()
        reject_misnamed(tx.conn, found.misnamed, ctx, logger)
        if found.hashes is not None:
            landing_hashes.record(tx.conn, found.hashes)
        rebuilt = bool(loaded) or not build.has_rows(tx.conn, "dim_date")
        if rebuilt:
            built = build_models(as_is(tx), as_is(ctx))
            logger.info(
                f"rebuilt {len(built.rebuilt)} models; {len(built.unchanged)} read nothing "
                "that changed" + (f" ({', '.join(built.unchanged)})" if built.unchanged else "")
            )
        else:
            logger.info("no new or corrected file: the models are unchanged")
        ctx.summary.anomalies = anomalies.counts(tx.conn)
        # The run's row first: the figures find the run they follow by its start
        runs.record_run(tx.conn, ctx.record(ctx.summary.status, ctx.summary.attention))
        tx.publish(setup.min_group_size, ctx.run_id, rebuilt)  # while the companion finishes
        if ctx.companion is not None:  # GX's checks of the samples: before the commit
            for source, rows in ctx.companion.settle().items():
                ctx.summary.source(source).gx_sample_rows += rows
                logger.info(f"{source}: Great Expectations agreed on {rows:,} sampled rows")
        tx.commit()


def load_due_sources(tx: RunTransaction, judged: Arrivals, ctx: RunContext) -> list[int]:
    """Each source with a new or corrected file loads in its own task run; a source with
    none is only tallied here (a task run costs ~0.2 s with a real Prefect server).
    Staging starts here, in the flow, for every source before the first is written: a
    cluster is sent all the chunks at once, so its workers stage the small sources while
    the flow writes the roster's chunks (in process, staging stays lazy, chunk by chunk).
    Each source's task run writes its chunks as they come back, sources in their order."""
    logger = get_run_logger()
    stager = ctx.stager or stage_in_process
    plans = [
        plan
        for name, src in SOURCES.items()
        if (plan := plan_source(src, [a for a in judged if a.file.source == name], ctx, logger))
    ]
    staged = [stager(plan.source, plan.chunks, ctx, plan.validator) for plan in plans]
    return [
        load_source(as_is(tx), plan.source.name, as_is(plan), as_is(chunks), as_is(ctx))
        for plan, chunks in zip(plans, staged, strict=True)
    ]


def record_failure(url: str, judged: Arrivals, ctx: RunContext) -> None:
    attempted = [a.file for a in judged if a.due]
    try:
        record_after_failure(url, attempted, ctx.record("failed", ctx.summary.failed))
    except Exception as failure:  # the run's own error is the one to report
        get_run_logger().error(f"could not record the failure in the warehouse: {failure}")
