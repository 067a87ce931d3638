"""Staging a chunk of one source's files: read, prepare, validate, cast, pseudonymise.

The CPU-heavy half of a load, kept apart from the warehouse: ``stage_chunk`` touches no
database and no run state, so it runs the same in the flow's process or on a Dask worker
(``flows/parallel.py``). What it returns says, file by file, what the warehouse writer
(``flows/ingest.py``) must record; the writer alone gives batch ids, in file order, so a
parallel run and a sequential one write the same rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from rxstaff.expectations.results import unexpected_by_rule
from rxstaff.expectations.suite import Outcome, Rule, sample_for_cross_check, validate_chunk
from rxstaff.flows.landing import (
    FileMoved,
    LandingFile,
    MalformedCsv,
    read_extract,
    read_landing_file,
)
from rxstaff.transforms import staging
from rxstaff.transforms.source import Reference, Source
from rxstaff.warehouse.arrivals import Arrival

UNREADABLE = (MalformedCsv, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
QUARANTINE_TABLE = "etl_quarantine"


@dataclass
class FileOutcome:
    """One file's fate: rejected with reasons, or loaded with its counts."""

    file: LandingFile
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    file_errors: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class StagedFile:
    """A file of the chunk: deferred (``moved`` says why), or judged (``outcome``)."""

    arrival: Arrival[LandingFile]
    outcome: FileOutcome | None = None
    moved: str | None = None
    number: int | None = None  # its rows' ``_file_no`` in the staged tables, if validated
    unexpected: Counter[str] | None = None  # failing rows by rule, for the validation store

    @property
    def loaded(self) -> bool:
        return self.outcome is not None and not self.outcome.file_errors


@dataclass
class StagedFiles:
    """What a chunk of files gives the warehouse: its files in order and its tables.

    ``tables`` holds the staging tables and ``etl_quarantine``, rows keyed by ``_file_no``;
    when staged on a cluster they are in Parquet files instead, named by ``spilled``.
    """

    files: list[StagedFile]
    tables: dict[str, pd.DataFrame]
    rules: list[Rule]
    sample: pd.DataFrame | None = None  # rows Great Expectations re-checks (not gx)
    spilled: dict[str, str] = field(default_factory=dict)


def plan_chunks(arrivals: list[Arrival[LandingFile]], max_bytes: int) -> list[list[Arrival]]:
    """Consecutive files up to ``max_bytes`` together (at least one file per chunk).

    Planned from the sizes discovery measured, before any file is read, so that every way
    of running a load (sequential, or on any number of workers) cuts the same chunks.
    """
    chunks: list[list[Arrival]] = []
    size = max_bytes
    for arrival in arrivals:
        if size + arrival.file.size > max_bytes and (not chunks or chunks[-1]):
            chunks.append([])
            size = 0
        chunks[-1].append(arrival)
        size += arrival.file.size
    return chunks


def stage_chunk(
    src: Source, arrivals: list[Arrival[LandingFile]], ref: Reference, validator: str
) -> StagedFiles:
    """Read, prepare, validate and stage a chunk of one source's files."""
    files: list[StagedFile] = []
    prepared: list[tuple[StagedFile, staging.PreparedFile]] = []
    for arrival in arrivals:
        staged, ready = _prepare_file(src, arrival)
        files.append(staged)
        if ready is not None:
            staged.number = len(prepared)
            prepared.append((staged, ready))
    if not prepared:
        return StagedFiles(files, {}, [])
    chunk = staging.combine(
        [p.frame for _, p in prepared],
        [s.arrival.file.file_date for s, _ in prepared],
        [p.row_numbers for _, p in prepared],
    )
    outcome = validate_chunk(src, chunk, ref, validator)
    result = staging.stage(
        src,
        chunk,
        outcome.row_failures,
        set(outcome.file_errors),
        ref,
        [p.misshapen for _, p in prepared],
    )
    for number, (staged, ready) in enumerate(prepared):
        staged.outcome = FileOutcome(
            staged.arrival.file,
            rows_read=ready.rows_read,
            rows_loaded=result.loaded.get(number, 0),
            rows_quarantined=result.quarantined.get(number, 0),
            file_errors=outcome.file_errors.get(number, []),
            extra_columns=ready.extra_columns,
        )
        staged.unexpected = _unexpected(outcome, number, ready.rows_read)
    sample = sample_for_cross_check(chunk) if validator != "gx" else None
    tables = {**result.tables, QUARANTINE_TABLE: result.quarantine}
    return StagedFiles(files, tables, outcome.rules, sample)


def _prepare_file(
    src: Source, arrival: Arrival[LandingFile]
) -> tuple[StagedFile, staging.PreparedFile | None]:
    """A file's rows ready to validate, or why it is deferred or rejected whole."""
    staged = StagedFile(arrival)
    try:
        extract = read_extract(read_landing_file(arrival.file))
    except FileMoved as moved:  # not this night's to load: the next run will see it
        staged.moved = str(moved)
        return staged, None
    except UNREADABLE as error:
        problem = f"unreadable as UTF-8 CSV ({type(error).__name__}: {error})"
        staged.outcome = FileOutcome(arrival.file, file_errors=[problem])
        return staged, None
    ready = staging.prepare(src, extract.raw, extract.row_numbers, extract.misshapen)
    if ready.missing:
        staged.outcome = FileOutcome(
            arrival.file,
            rows_read=ready.rows_read,
            file_errors=ready.missing,
            extra_columns=ready.extra_columns,
        )
        return staged, None
    return staged, ready


def _unexpected(outcome: Outcome, number: int, rows_read: int) -> Counter[str]:
    """A file's failing rows by rule (counts only); a file rejected by a rule failed it
    on every row."""
    unexpected = unexpected_by_rule(outcome.row_failures, number)
    rejected_by = " ".join(outcome.file_errors.get(number, []))
    for rule in outcome.rules:
        if f"rule {rule.rule} failed" in rejected_by:
            unexpected[rule.rule] += rows_read
    return unexpected
