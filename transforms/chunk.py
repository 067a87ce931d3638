"""A chunk of one source's files, staged: parsed, prepared, then cast and pseudonymised.

No I/O: the caller reads each file's bytes (``rxstaff.extract``) and validates the
prepared rows (``rxstaff.expectations``) between ``prepare_chunk`` and ``stage_chunk``.
What comes out says, file by file and in the order given, what the warehouse writer must
record; the writer alone gives batch ids, so a run staged on a cluster and one staged in
its own process write the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar

import pandas as pd

from rxstaff.transforms import staging
from rxstaff.transforms.csv_text import MalformedCsv, read_extract
from rxstaff.transforms.source import FILE_NO, Reference, Source

UNREADABLE = (MalformedCsv, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
QUARANTINE_TABLE = "etl_quarantine"
T = TypeVar("T")


@dataclass(frozen=True)
class RawFile:
    """A file of the chunk as read: its bytes, or why it is left for a later run."""

    file_date: date
    data: bytes | None = None
    moved: str | None = None  # vanished or changed since discovery: deferred


@dataclass
class FileOutcome:
    """One file's fate: rejected with reasons, or loaded with its counts."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    file_errors: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class StagedFile:
    """A file of the chunk: deferred (``moved`` says why), or judged (``outcome``)."""

    outcome: FileOutcome | None = None
    moved: str | None = None
    number: int | None = None  # its rows' ``_file_no`` in the staged tables, if validated
    unexpected: Counter[str] | None = None  # failing rows by rule, for the validation store

    @property
    def loaded(self) -> bool:
        return self.outcome is not None and not self.outcome.file_errors


class NamedRule(Protocol):
    @property
    def rule(self) -> str: ...


class Validated(Protocol):
    """What validation found in a chunk (``expectations.suite.Outcome``)."""

    file_errors: dict[int, list[str]]  # file number -> reasons the whole file is rejected
    row_failures: pd.DataFrame  # index, rule, detail, _file_no
    rules: list[Any]  # the bound suite's rules (each with its ``rule`` name)


@dataclass
class StagedFiles:
    """What a chunk of files gives the warehouse: its files in order and its tables.

    ``tables`` holds the staging tables and ``etl_quarantine``, rows keyed by ``_file_no``;
    when staged on a cluster they are in Parquet files instead, named by ``spilled``.
    """

    files: list[StagedFile]
    tables: dict[str, pd.DataFrame]
    rules: list[Any]
    sample: pd.DataFrame | None = None  # rows Great Expectations re-checks (not gx)
    spilled: dict[str, str] = field(default_factory=dict)


@dataclass
class PreparedChunk:
    """The chunk's files, and the rows of those ready to validate, combined."""

    files: list[StagedFile]
    ready: list[staging.PreparedFile]  # in ``_file_no`` order
    rows: pd.DataFrame | None  # None: no file of the chunk is ready


def plan_chunks(items: Sequence[T], size: Callable[[T], int], max_bytes: int) -> list[list[T]]:
    """Consecutive items up to ``max_bytes`` together (at least one item per chunk; an
    empty file joins the chunk it falls in).

    Planned from the sizes discovery measured, before any file is read, so that every way
    of running a load (sequential, or on any number of workers) cuts the same chunks.
    """
    chunks: list[list[T]] = []
    filled = 0
    for item in items:
        bytes_ = size(item)
        if not chunks or (chunks[-1] and filled + bytes_ > max_bytes):
            chunks.append([])
            filled = 0
        chunks[-1].append(item)
        filled += bytes_
    return chunks


def prepare_chunk(src: Source, raw_files: list[RawFile]) -> PreparedChunk:
    """Each file parsed and prepared; the ready ones' rows combined for validation."""
    files: list[StagedFile] = []
    ready: list[staging.PreparedFile] = []
    dates: list[date] = []
    for raw in raw_files:
        staged, prepared = _prepare_file(src, raw)
        files.append(staged)
        if prepared is not None:
            staged.number = len(ready)
            ready.append(prepared)
            dates.append(raw.file_date)
    if not ready:
        return PreparedChunk(files, [], None)
    rows = staging.combine([p.frame for p in ready], dates, [p.row_numbers for p in ready])
    return PreparedChunk(files, ready, rows)


def stage_chunk(src: Source, chunk: PreparedChunk, found: Validated, ref: Reference) -> StagedFiles:
    """The validated chunk's staging tables and quarantine, and each file's counts."""
    if chunk.rows is None:
        return StagedFiles(chunk.files, {}, [])
    result = staging.stage(
        src,
        chunk.rows,
        found.row_failures,
        set(found.file_errors),
        ref,
        [p.misshapen for p in chunk.ready],
    )
    for staged in chunk.files:
        if staged.number is None:
            continue
        number, ready = staged.number, chunk.ready[staged.number]
        staged.outcome = FileOutcome(
            rows_read=ready.rows_read,
            rows_loaded=result.loaded.get(number, 0),
            rows_quarantined=result.quarantined.get(number, 0),
            file_errors=found.file_errors.get(number, []),
            extra_columns=ready.extra_columns,
        )
        staged.unexpected = _unexpected(found, number, ready.rows_read)
    tables = {**result.tables, QUARANTINE_TABLE: result.quarantine}
    return StagedFiles(chunk.files, tables, found.rules)


def _prepare_file(src: Source, raw: RawFile) -> tuple[StagedFile, staging.PreparedFile | None]:
    """A file's rows ready to validate, or why it is deferred or rejected whole."""
    if raw.data is None:  # not this night's to load: the next run will see it
        return StagedFile(moved=raw.moved), None
    try:
        extract = read_extract(raw.data)
    except UNREADABLE as error:
        problem = f"unreadable as UTF-8 CSV ({type(error).__name__}: {error})"
        return StagedFile(FileOutcome(file_errors=[problem])), None
    ready = staging.prepare(src, extract.raw, extract.row_numbers, extract.misshapen)
    problems = ready.missing or _empty_snapshot(src, ready.rows_read)
    if problems:
        outcome = FileOutcome(
            rows_read=ready.rows_read, file_errors=problems, extra_columns=ready.extra_columns
        )
        return StagedFile(outcome), None
    return StagedFile(), ready


def _empty_snapshot(src: Source, rows_read: int) -> list[str]:
    if src.snapshot and rows_read == 0:
        return [
            f"no data rows: a {src.name} snapshot lists every active employee, so an empty "
            "one is an export that lost its rows (the last snapshot loaded still stands)"
        ]
    return []


def _unexpected(found: Validated, number: int, rows_read: int) -> Counter[str]:
    """A file's failing rows by rule (counts only); a file rejected by a rule failed it
    on every row."""
    failures = found.row_failures
    unexpected: Counter[str] = Counter()
    if len(failures):
        unexpected.update(failures.loc[failures[FILE_NO] == number, "rule"])
    rejected_by = " ".join(found.file_errors.get(number, []))
    for rule in found.rules:
        if f"rule {rule.rule} failed" in rejected_by:
            unexpected[rule.rule] += rows_read
    return unexpected
