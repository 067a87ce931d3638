"""Writing a source's staged chunks into the warehouse, in file order (load).

Per chunk: one insert of its ``etl_batch`` rows, one bulk insert per staging table and
of its quarantine, one progress line. Chunks are staged elsewhere (``transforms/chunk.py``,
in the run's process or on a Dask cluster); writing is always in the run's process,
inside its transaction, so a run staged in parallel writes what a sequential one does.
What a file's arrival means (new, unchanged, correction) is decided once, by
``warehouse.arrivals``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.transforms.chunk import FileOutcome, StagedFile, StagedFiles
from rxstaff.transforms.source import FILE_NO, Source
from rxstaff.warehouse import anomalies, batches
from rxstaff.warehouse.arrivals import Arrival
from rxstaff.warehouse.loader import bulk_insert, load_staged, with_batch_ids
from rxstaff.warehouse.runs import RunContext

Logger = logging.Logger | logging.LoggerAdapter[Any]


def count_skipped(
    arrivals: list[Arrival[Any]],
    ctx: RunContext,
    logger: Logger,
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


class ChunkWriter:
    """Writes staged chunks, in file order: batches, staging rows, quarantine, progress."""

    def __init__(
        self,
        conn: sa.Connection,
        src: Source,
        ctx: RunContext,
        validator: str,
        total: int,
        checkpoint: Callable[[], None],
        logger: Logger,
    ) -> None:
        self.conn, self.src, self.ctx, self.validator = conn, src, ctx, validator
        self.total, self.checkpoint, self.logger = total, checkpoint, logger
        self.newest = batches.newest_file_date(conn, src.name)
        self.records: list[dict[str, Any]] = []
        self.done = self.loaded = 0

    def write(self, arrivals: Sequence[Arrival[Any]], staged: StagedFiles) -> None:
        """One chunk: each file's batch, then its tables with batch ids, then progress."""
        batch_of: dict[int, int] = {}
        for arrival, file in zip(arrivals, staged.files, strict=True):
            batch_id = self._write_file(arrival, file)
            if batch_id is not None and file.number is not None and file.loaded:
                batch_of[file.number] = batch_id
        for table, frame in staged.tables.items():
            bulk_insert(self.conn, table, with_batch_ids(frame, batch_of, FILE_NO))
        for table, url in staged.spilled.items():  # staged on a cluster
            load_staged(self.conn, table, url, batch_of, FILE_NO)
        if self.records:
            bulk_insert(self.conn, "etl_batch", pd.DataFrame(self.records))
        self.checkpoint()
        tally = self.ctx.summary.source(self.src.name)
        self.logger.info(
            f"{self.src.name}: {self.done}/{self.total} files, {tally.rows_loaded:,} rows loaded, "
            f"{tally.rows_quarantined:,} quarantined, {tally.files_rejected} file(s) rejected"
        )
        self.records = []

    def _write_file(self, arrival: Arrival[Any], file: StagedFile) -> int | None:
        """A judged file's batch id (new); a deferred one is only counted and told."""
        if file.outcome is None:
            self.logger.warning(f"{arrival.file.file_name}: {file.moved}; left for the next run")
            self.ctx.summary.source(arrival.file.source).files_deferred += 1
            self.done += 1
            return None
        return self._record(arrival, file.outcome)

    def _record(self, arrival: Arrival[Any], result: FileOutcome) -> int:
        self.done += 1
        batch_id = next(self.ctx.batch_ids)
        self.records.append(self._batch_record(arrival, result, batch_id))
        self.loaded += not result.file_errors
        return batch_id

    def _batch_record(
        self, arrival: Arrival[Any], result: FileOutcome, batch_id: int
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

    def _arrival_anomalies(self, file: Any, result: FileOutcome, batch_id: int) -> None:
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


def reject_refused(
    conn: sa.Connection,
    arrivals: list[Arrival[Any]],
    ctx: RunContext,
    logger: Logger,
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
