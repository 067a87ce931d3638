"""Steps 2-4 of a run, inside its one transaction: load each source, build, commit."""

from __future__ import annotations

import itertools

from prefect import task
from prefect.cache_policies import NO_CACHE

from rxstaff.expectations.suite import choose_engine
from rxstaff.extract.due import Discovery
from rxstaff.flows.parallel import staging_on_cluster
from rxstaff.flows.staging import Validation, plan_source, stage_in_process, write_source
from rxstaff.flows.steps import run_logger, step
from rxstaff.settings import RunSettings
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse import anomalies, batches, build, landing_hashes, roster_history
from rxstaff.warehouse.ingest import count_skipped, reject_refused
from rxstaff.warehouse.runs import RunContext, record_run
from rxstaff.warehouse.transaction import RunTransaction, record_after_failure

load_source = task(
    write_source, cache_policy=NO_CACHE, name="load_source", task_run_name="load {plan.source.name}"
)


@task(cache_policy=NO_CACHE)
def build_models(tx: RunTransaction, ctx: RunContext) -> build.Built:
    """Roster history, then the model tables whose inputs changed, then the history
    anomalies (set-based SQL)."""
    how = roster_history.update(tx.conn, ctx.roster_dates, ctx.roster_corrected)
    run_logger().info(f"roster history: {how}")
    built = build.build_tables(tx.conn, tx.fingerprints)
    anomalies.rebuild_history_anomalies(tx.conn, ctx.run_id)
    return built


def load_and_commit(
    run: RunSettings, found: Discovery, ctx: RunContext, checks: Validation
) -> None:
    """Steps 2-4 inside one transaction: load each source, build, record the run, commit."""
    log = run_logger()
    with RunTransaction(run.warehouse, found.due_bytes) as tx:
        if tx.history_load:
            log.info("history load: on a private copy of the warehouse, published whole")
        if tx.prepare(run.setup):
            ctx.summary.new_warehouse = True
            log.warning(f"new warehouse at {run.warehouse.description}: its schema was created")
        ctx.batch_ids = itertools.count(batches.next_batch_id(tx.conn))
        loaded = load_due_sources(run, tx, found, ctx, checks)
        if checks.companion is not None:  # every result is recorded: Data Docs beside the build
            checks.companion.start_docs()
        reject_refused(tx.conn, found.refused, ctx, log)
        if found.hashes is not None:
            landing_hashes.record(tx.conn, found.hashes)
        rebuilt = (
            bool(loaded)
            or build.definitions_changed(tx.conn)
            or not build.has_rows(tx.conn, "dim_date")
        )
        if rebuilt:
            built: build.Built = step(build_models)(tx, ctx)
            log.info(
                f"rebuilt {len(built.rebuilt)} models; {len(built.unchanged)} read nothing "
                "that changed" + (f" ({', '.join(built.unchanged)})" if built.unchanged else "")
            )
        else:
            log.info("no new or corrected file, no new model: the models are unchanged")
        ctx.summary.anomalies = anomalies.counts(tx.conn)
        # The run's row first: the figures find the run they follow by its start
        record_run(tx.conn, ctx.record(ctx.summary.status, ctx.summary.attention))
        tx.publish(run.min_group_size, ctx.run_id, rebuilt)  # while the companion finishes
        if checks.companion is not None:  # GX's checks of the samples: before the commit
            for source, rows in checks.companion.settle().items():
                ctx.summary.source(source).gx_sample_rows += rows
                log.info(f"{source}: Great Expectations agreed on {rows:,} sampled rows")
        tx.commit()


def load_due_sources(
    run: RunSettings, tx: RunTransaction, found: Discovery, ctx: RunContext, checks: Validation
) -> int:
    """Each source with a due file loads in its own step, sources in their order. Staging
    starts first, for every source: a cluster is sent all the chunks at once, so its
    workers stage the small sources while the run writes the roster's chunks."""
    log, engine = run_logger(), choose_engine(run.validation, found.due_bytes)
    by_source = {name: [a for a in found.judged if a.file.source == name] for name in SOURCES}
    due = {name: count_skipped(files, ctx, log) for name, files in by_source.items()}
    plans = [plan_source(SOURCES[name], files, engine) for name, files in due.items() if files]
    with staging_on_cluster(run, found.due_bytes, ctx.summary) as cluster:
        stager = cluster or stage_in_process
        staged = [stager(p.source, p.chunks, run.reference, engine, run.run_id) for p in plans]
        return sum(
            step(load_source)(tx, plan, chunks, ctx, checks, run.reference)
            for plan, chunks in zip(plans, staged, strict=True)
        )


def record_failure(run: RunSettings, found: Discovery, ctx: RunContext) -> None:
    try:
        record_after_failure(
            run.warehouse, [a.file for a in found.due], ctx.record("failed", ctx.summary.failed)
        )
    except Exception as failure:  # the run's own error is the one to report
        run_logger().error(f"could not record the failure in the warehouse: {failure}")
