"""Loading one source: its due files staged a chunk at a time, then written.

Per chunk: one validation, one bulk insert per staging table, one insert of the chunk's
``etl_batch`` rows, one progress line. Staging (``flows/staging_chunk.py``) runs here, or
on a Dask cluster for a history load (``flows/parallel.py``); writing is always here, in
file order, inside the run's transaction. What a file's arrival means (new, unchanged,
correction) is decided once, by ``warehouse.arrivals``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.expectations.results import FileResult
from rxstaff.expectations.suite import cross_check
from rxstaff.flows.landing import LandingFile, MisnamedFile
from rxstaff.flows.staging_chunk import FileOutcome, StagedFile, StagedFiles, plan_chunks
from rxstaff.flows.staging_chunk import stage_chunk as stage_here
from rxstaff.flows.summary import RunContext
from rxstaff.transforms.source import FILE_NO, Source
from rxstaff.warehouse import anomalies, batches
from rxstaff.warehouse.arrivals import Arrival
from rxstaff.warehouse.loader import bulk_insert, load_staged, with_batch_ids

# Files of one source are validated together: GX costs ~0.7 s per validation whatever its
# size. About 460,000 roster rows; a night's hundreds of one-line files make one chunk.
# Twice 0.4's 40 MiB: a 12.2M-row rebuild pays each chunk's fixed costs (a Parquet file,
# a query, a commit) half as often, 4% faster in five pairs; a worker peaks at ~0.9 GiB.
CHUNK_BYTES = 80 * 1024 * 1024
# "auto" validation: Great Expectations itself for a run of up to this much new data (a
# night's budget and training files, the roster of a pharmacy of up to ~20,000); above
# it the suites compiled to SQL, GX re-checking a sample of every file in a companion
# process, off the run's critical path: its import, ~1 s a validation and ~10,000 rows a
# second were 7 s of a 44,000-row night in the run's process. Under this bound the
# companion's own start (~9 s on two cores) costs more than it spares (docs/decisions.md).
AUTO_GX_MAX_BYTES = 4 * 1024 * 1024

# Stages chunks of one source somewhere (here, or on a cluster), yielding them in order.
# A cluster's stager submits every chunk when called (from the flow, not from a task).
Chunks = list[list[Arrival[LandingFile]]]
Stager = Callable[[Source, Chunks, RunContext, str], Iterator[StagedFiles]]


def gx_beside(due_bytes: int) -> bool:
    """Whether a run bringing this much is validated by SQL (``auto``), GX checking
    samples beside it."""
    return due_bytes > AUTO_GX_MAX_BYTES


def choose_validator(choice: str, beside: bool) -> str:
    """The validation engine: GX, or, for a run GX checks beside, the suites in SQL."""
    if choice != "auto":
        return choice
    return "sql" if beside else "gx"


def stage_in_process(
    src: Source, chunks: Chunks, ctx: RunContext, validator: str
) -> Iterator[StagedFiles]:
    """Each chunk staged in the flow's own process, one after the other."""
    for chunk in chunks:
        yield stage_here(src, chunk, ctx.reference, validator)


@dataclass(frozen=True)
class SourcePlan:
    """A source's due files, cut into chunks, and the engine that validates them."""

    source: Source
    due: list[Arrival[LandingFile]]
    chunks: Chunks
    validator: str


def plan_source(
    src: Source,
    arrivals: list[Arrival[LandingFile]],
    ctx: RunContext,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> SourcePlan | None:
    """What of a source this run loads, and how; None when nothing of it is due."""
    due = count_skipped(arrivals, ctx, logger)
    if not due:
        return None
    validator = choose_validator(ctx.validation, ctx.gx_beside)
    return SourcePlan(src, due, plan_chunks(due, CHUNK_BYTES), validator)


def ingest_source(
    conn: sa.Connection,
    plan: SourcePlan,
    staged_chunks: Iterable[StagedFiles],
    ctx: RunContext,
    checkpoint: Callable[[], None],
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> int:
    """Write a source's staged chunks, in order; the number of batches loaded."""
    src = plan.source
    logger.info(
        f"{src.name}: {len(plan.due)} new or corrected file(s) in {len(plan.chunks)} "
        f"chunk(s), validated with {plan.validator}"
    )
    writer = _ChunkWriter(conn, src, ctx, plan.validator, len(plan.due), checkpoint, logger)
    for staged in staged_chunks:
        writer.write(staged)
    writer.cross_check()
    return writer.loaded


def count_skipped(
    arrivals: list[Arrival[Any]],
    ctx: RunContext,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> list[Arrival[Any]]:
    """Tally the files already loaded or rejected with the same content (warning about a
    rejected one sent again unchanged); the arrivals due."""
    for skipped in (a for a in arrivals if not a.due):
        ctx.summary.source(skipped.file.source).files_skipped += 1
        if skipped.prior and skipped.prior.status == "rejected":
            logger.warning(
                f"{skipped.file.file_name}: unchanged since batch {skipped.prior.batch_id} "
                "rejected it; skipped"
            )
    return [a for a in arrivals if a.due]


class _ChunkWriter:
    """Writes staged chunks, in file order: batches, staging rows, quarantine, progress."""

    def __init__(
        self,
        conn: sa.Connection,
        src: Source,
        ctx: RunContext,
        validator: str,
        total: int,
        checkpoint: Callable[[], None],
        logger: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self.conn, self.src, self.ctx, self.validator = conn, src, ctx, validator
        self.total, self.checkpoint, self.logger = total, checkpoint, logger
        self.newest = batches.newest_file_date(conn, src.name)
        self.records: list[dict[str, Any]] = []
        self.done = self.loaded = 0
        self.samples: list[pd.DataFrame] = []  # of the chunks another engine than GX judged
        self.files_sampled = 0

    def write(self, staged: StagedFiles) -> None:
        """One chunk: each file's batch, then its tables with batch ids, then progress."""
        batch_of: dict[int, int] = {}
        for file in staged.files:
            batch_id = self._write_file(file)
            if batch_id is not None and file.number is not None and file.loaded:
                batch_of[file.number] = batch_id
        self._keep_validation(staged)
        for table, frame in staged.tables.items():
            bulk_insert(self.conn, table, with_batch_ids(frame, batch_of, FILE_NO))
        for table, url in staged.spilled.items():  # staged on a cluster
            load_staged(self.conn, table, url, batch_of, FILE_NO)
        if self.records:
            bulk_insert(self.conn, "etl_batch", pd.DataFrame(self.records))
        if staged.sample is not None:
            self.samples.append(
                staged.sample.assign(**{FILE_NO: staged.sample[FILE_NO] + self.files_sampled})
            )
            self.files_sampled += len(staged.files)
        self.checkpoint()
        tally = self.ctx.summary.source(self.src.name)
        self.logger.info(
            f"{self.src.name}: {self.done}/{self.total} files, {tally.rows_loaded:,} rows loaded, "
            f"{tally.rows_quarantined:,} quarantined, {tally.files_rejected} file(s) rejected"
        )
        self.records = []

    def cross_check(self) -> None:
        """Great Expectations' word on a sample of every file another engine judged: here,
        or submitted to the run's companion process (the run waits for it to commit)."""
        if not self.samples:
            return
        sample, ctx = pd.concat(self.samples), self.ctx
        if ctx.companion is not None:
            ctx.companion.cross_check(self.src.name, sample, ctx.reference, self.validator)
            self.logger.info(
                f"{self.src.name}: Great Expectations checks {len(sample):,} sampled rows "
                "beside the run"
            )
            return
        checked = cross_check(self.src, sample, ctx.reference, self.validator)
        self.ctx.summary.source(self.src.name).gx_sample_rows += checked
        self.logger.info(f"{self.src.name}: Great Expectations agreed on {checked:,} sampled rows")

    def _write_file(self, file: StagedFile) -> int | None:
        """A judged file's batch id (new); a deferred one is only counted and told."""
        if file.outcome is None:
            self.logger.warning(
                f"{file.arrival.file.file_name}: {file.moved}; left for the next run"
            )
            self.ctx.summary.source(file.arrival.file.source).files_deferred += 1
            self.done += 1
            return None
        return self._record(file.arrival, file.outcome)

    def _keep_validation(self, staged: StagedFiles) -> None:
        """Each validated file's results in the run's Great Expectations store (counts only)."""
        store = self.ctx.validation_store
        if store is None:
            return
        for file in staged.files:
            if file.unexpected is None or file.outcome is None:
                continue
            store.record(
                FileResult(
                    suite_name=self.src.suite.removesuffix(".json"),
                    rules=staged.rules,
                    unexpected=file.unexpected,
                    rows=file.outcome.rows_read,
                    run_id=self.ctx.run_id,
                    file_name=file.arrival.file.file_name,
                    engine=self.validator,
                )
            )

    def _record(self, arrival: Arrival[LandingFile], result: FileOutcome) -> int:
        self.done += 1
        batch_id = next(self.ctx.batch_ids)
        self.records.append(self._batch_record(arrival, result, batch_id))
        self.loaded += not result.file_errors
        return batch_id

    def _batch_record(
        self, arrival: Arrival[LandingFile], result: FileOutcome, batch_id: int
    ) -> dict[str, Any]:
        """One file's ``etl_batch`` row: rejected, or loaded (superseding an earlier version)."""
        file, prior, ctx = arrival.file, arrival.prior, self.ctx
        tally = ctx.summary.source(file.source)
        record = batches.file_batch(
            file,
            batch_id,
            ctx.run_id,
            ctx.started_at,
            "loaded",
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_quarantined=result.rows_quarantined,
            validated_with=self.validator,
        )
        if result.file_errors:
            message = "; ".join(result.file_errors)
            self.logger.error(f"{file.file_name}: rejected: {message}")
            ctx.summary.rejections.append(f"{file.file_name}: {message}")
            tally.files_rejected += 1
            if prior and prior.status == "rejected":
                batches.supersede(
                    self.conn, self.src.tables, prior.batch_id, batch_id, self.src.private
                )
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
            self.logger.info(
                f"{file.file_name}: correction of batch {prior.batch_id}; "
                "replacing what it contributed"
            )
            batches.supersede(
                self.conn, self.src.tables, prior.batch_id, batch_id, self.src.private
            )
        self._arrival_anomalies(file, result, batch_id)
        tally.files_loaded += 1
        tally.rows_loaded += result.rows_loaded
        tally.rows_quarantined += result.rows_quarantined
        return record

    def _arrival_anomalies(self, file: LandingFile, result: FileOutcome, batch_id: int) -> None:
        run_id = self.ctx.run_id
        if result.extra_columns:
            detail = f"ignored column(s): {', '.join(result.extra_columns)}"
            anomalies.record_arrival(
                self.conn, run_id, batch_id, "extra_columns", file.file_date, detail
            )
        if file.source == "roster" and self.newest and file.file_date < self.newest:
            detail = f"snapshot of {file.file_date} arrived after the one of {self.newest}"
            anomalies.record_arrival(
                self.conn, run_id, batch_id, "snapshot_older_than_loaded", file.file_date, detail
            )


def reject_misnamed(
    conn: sa.Connection,
    arrivals: list[Arrival[MisnamedFile]],
    ctx: RunContext,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> None:
    """Files named like an extract but with no real date in the name: each is rejected by
    name with its reason (once; an unchanged copy sent again is skipped)."""
    for arrival in count_skipped(arrivals, ctx, logger):
        file, tally = arrival.file, ctx.summary.source(arrival.file.source)
        batch_id = next(ctx.batch_ids)
        if arrival.prior:
            batches.supersede(conn, (), arrival.prior.batch_id, batch_id)
        row = batches.file_batch(
            file, batch_id, ctx.run_id, ctx.started_at, "rejected",
            rows_loaded=0, rows_quarantined=0, error=file.reason,
        )  # fmt: skip
        batches.record_batch(conn, row)
        logger.error(f"{file.file_name}: rejected: {file.reason}")
        ctx.summary.rejections.append(f"{file.file_name}: {file.reason}")
        tally.files_rejected += 1
