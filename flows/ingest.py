"""Loading one source: read, prepare, validate and stage its due files, a chunk at a time.

Per chunk: one validation, one bulk insert per staging table, one insert of the chunk's
``etl_batch`` rows, one progress line. What a file's arrival means (new, unchanged,
correction) is decided once, by ``warehouse.arrivals``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.expectations.results import unexpected_by_rule
from rxstaff.expectations.suite import (
    Outcome,
    cross_check,
    sample_for_cross_check,
    validate_chunk,
)
from rxstaff.flows.landing import (
    FileMoved,
    LandingFile,
    MalformedCsv,
    MisnamedFile,
    read_extract,
    read_landing_file,
)
from rxstaff.flows.summary import RunContext
from rxstaff.transforms import staging
from rxstaff.transforms.source import FILE_NO, Source
from rxstaff.warehouse import anomalies, batches
from rxstaff.warehouse.arrivals import Arrival
from rxstaff.warehouse.loader import bulk_insert

UNREADABLE = (MalformedCsv, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
# Files of one source are validated together: GX costs ~0.7 s per validation whatever its size.
CHUNK_ROWS = 250_000
# "auto" validation: Great Expectations up to this much new data per source, the vectorised
# engine (same suite) above it, where GX would take minutes (docs/decisions.md).
AUTO_GX_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class FileOutcome:
    """One file's fate: rejected with reasons, or loaded with its counts."""

    file: LandingFile
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    file_errors: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


def choose_validator(choice: str, files: list[LandingFile]) -> str:
    """The validation engine: GX, or for a history load its vectorised twin."""
    if choice != "auto":
        return choice
    return "gx" if sum(f.size for f in files) <= AUTO_GX_MAX_BYTES else "vectorised"


def ingest_source(
    conn: sa.Connection,
    src: Source,
    arrivals: list[Arrival[LandingFile]],
    ctx: RunContext,
    checkpoint: Callable[[], None],
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> int:
    """Load every due file of one source; the number of batches loaded."""
    due = count_skipped(arrivals, ctx, logger)
    if not due:
        return 0
    validator = choose_validator(ctx.validation, [a.file for a in due])
    logger.info(f"{src.name}: {len(due)} new or corrected file(s), validated with {validator}")
    loader = _ChunkLoader(conn, src, ctx, validator, len(due), checkpoint, logger)
    for arrival in due:
        loader.add(arrival)
    loader.flush()
    loader.cross_check()
    return loader.loaded


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


class _ChunkLoader:
    """Gathers a source's files into validation chunks and writes their batches."""

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
        self.pending: list[tuple[Arrival[LandingFile], staging.PreparedFile]] = []
        self.records: list[dict[str, Any]] = []
        self.pending_rows = self.done = self.loaded = 0
        self.samples: list[pd.DataFrame] = []  # of the chunks the vectorised engine judged
        self.files_sampled = 0

    def cross_check(self) -> None:
        """Great Expectations' word on a sample of every file the vectorised engine judged."""
        if not self.samples:
            return
        checked = cross_check(self.src, pd.concat(self.samples), self.ctx.reference)
        self.ctx.summary.source(self.src.name).gx_sample_rows += checked
        self.logger.info(f"{self.src.name}: Great Expectations agreed on {checked:,} sampled rows")

    def add(self, arrival: Arrival[LandingFile]) -> None:
        try:
            extract = read_extract(read_landing_file(arrival.file))
        except FileMoved as moved:  # not this night's to load: the next run will see it
            self.logger.warning(f"{arrival.file.file_name}: {moved}; left for the next run")
            self.ctx.summary.source(arrival.file.source).files_deferred += 1
            self.done += 1
            return
        except UNREADABLE as error:
            problem = f"unreadable as UTF-8 CSV ({type(error).__name__}: {error})"
            self._record(arrival, FileOutcome(arrival.file, file_errors=[problem]))
            return
        prepared = staging.prepare(self.src, extract.frame, extract.row_numbers, extract.misshapen)
        if prepared.missing:
            outcome = FileOutcome(
                arrival.file,
                rows_read=prepared.rows_read,
                file_errors=prepared.missing,
                extra_columns=prepared.extra_columns,
            )
            self._record(arrival, outcome)
            return
        self.pending.append((arrival, prepared))
        self.pending_rows += prepared.rows_read
        if self.pending_rows >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        """Validate and stage the pending chunk, then write it and its batches."""
        if self.pending:
            self._stage_pending()
        if self.records:
            bulk_insert(self.conn, "etl_batch", pd.DataFrame(self.records))
        self.checkpoint()
        tally = self.ctx.summary.source(self.src.name)
        self.logger.info(
            f"{self.src.name}: {self.done}/{self.total} files, {tally.rows_loaded:,} rows loaded, "
            f"{tally.rows_quarantined:,} quarantined, {tally.files_rejected} file(s) rejected"
        )
        self.pending, self.records, self.pending_rows = [], [], 0

    def _stage_pending(self) -> None:
        frames = [p.frame for _, p in self.pending]
        chunk = staging.combine(
            frames,
            [a.file.file_date for a, _ in self.pending],
            [p.row_numbers for _, p in self.pending],
        )
        outcome = validate_chunk(self.src, chunk, self.ctx.reference, self.validator)
        if self.validator == "vectorised":  # GX still judges a sample of every file
            self.samples.append(sample_for_cross_check(chunk, self.files_sampled))
            self.files_sampled += len(self.pending)
        staged = staging.stage(
            self.src,
            chunk,
            outcome.row_failures,
            set(outcome.file_errors),
            self.ctx.reference,
            [p.misshapen for _, p in self.pending],
        )
        self._keep_validation(outcome)
        batch_of: dict[int, int] = {}
        for number, (arrival, prepared) in enumerate(self.pending):
            result = FileOutcome(
                arrival.file,
                rows_read=prepared.rows_read,
                rows_loaded=staged.loaded.get(number, 0),
                rows_quarantined=staged.quarantined.get(number, 0),
                file_errors=outcome.file_errors.get(number, []),
                extra_columns=prepared.extra_columns,
            )
            batch_id = self._record(arrival, result)
            if not result.file_errors:
                batch_of[number] = batch_id
        for table, frame in [*staged.tables.items(), ("etl_quarantine", staged.quarantine)]:
            bulk_insert(self.conn, table, _with_batch_ids(frame, batch_of))

    def _keep_validation(self, outcome: Outcome) -> None:
        """Each file's results in the run's Great Expectations store (counts only)."""
        store = self.ctx.validation_store
        if store is None:
            return
        for number, (arrival, prepared) in enumerate(self.pending):
            unexpected = unexpected_by_rule(outcome.row_failures, number)
            rejected_by = " ".join(outcome.file_errors.get(number, []))
            for rule in outcome.rules:  # a file rejected by a rule failed it on every row
                if f"rule {rule.rule} failed" in rejected_by:
                    unexpected[rule.rule] += prepared.rows_read
            store.record(
                self.src.suite.removesuffix(".json"),
                outcome.rules,
                unexpected,
                prepared.rows_read,
                self.ctx.run_id,
                arrival.file.file_name,
                self.validator,
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


def _with_batch_ids(frame: pd.DataFrame, batch_of: dict[int, int]) -> pd.DataFrame:
    """Swap each row's position-in-chunk file number for its file's batch_id."""
    batch_ids = frame[FILE_NO].map(batch_of)
    return frame.drop(columns=[FILE_NO]).assign(batch_id=batch_ids)[batch_ids.notna().to_numpy()]


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
