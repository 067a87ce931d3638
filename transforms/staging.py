"""Extract rows to staging frames and quarantine records, a chunk of files at a time.

prepare (each file) -> combine (a chunk) -> [validation, by expectations/] -> stage.
Personal and unknown columns are dropped in ``prepare``, so neither Great Expectations
nor any log ever sees them. A chunk holds many files: pandas and GX cost per call, and a
night can bring hundreds of one-line files. Rows carry ``_file_no`` (their file's place
in the chunk) and ``row_number`` (1 = the first row after the header).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from rxstaff.transforms import quarantine as q
from rxstaff.transforms.casting import RULE_SUFFIX, calendar_problems, cast, might_hold_nul
from rxstaff.transforms.raw_frame import (
    RawRows,
    TextRows,
    header_names,
    neutralise_formulas,
    trim_cells,
)
from rxstaff.transforms.source import FILE_NO, Reference, Source

FAILURE_COLUMNS = ["index", "rule", "detail", FILE_NO]


@dataclass
class PreparedFile:
    """One file's rows as strings, its declared columns only; or why it cannot load."""

    frame: RawRows
    rows_read: int
    extra_columns: list[str]
    missing: list[str] = field(default_factory=list)  # file-level errors
    row_numbers: list[int] | None = None  # data-row number of each row of frame; None: 1..n
    # Rows whose field count is not the header's: quarantine records (row_number, rule,
    # detail). Their values are never read into columns, so never echoed anywhere.
    misshapen: pd.DataFrame = field(default_factory=lambda: misshapen_records(0, []))


@dataclass
class StagedChunk:
    """Staging frames and quarantine records of a chunk, rows keyed by ``_file_no``."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    loaded: dict[int, int]  # file number -> rows staged
    quarantined: dict[int, int]  # file number -> rows quarantined


def missing_columns(source: Source, frame: pd.DataFrame | list[str]) -> list[str]:
    """File-level errors for required columns the file lacks (each rejects the file)."""
    present = set(frame.columns if isinstance(frame, pd.DataFrame) else frame)
    return [
        f"required column '{column}' is missing (expect_column_to_exist)"
        for column in source.required_columns
        if column not in present
    ]


def colliding_headers(raw: RawRows) -> list[str]:
    """File-level errors for headers that name one column once trimmed and case-folded."""
    seen: dict[str, list[str]] = {}
    for key, header in zip(header_names(raw), raw.columns, strict=True):
        seen.setdefault(key, []).append(str(header))
    return [
        f"headers {', '.join(repr(h) for h in names)} name the same column '{key}' "
        "(headers are matched without case or spaces)"
        for key, names in seen.items()
        if len(names) > 1
    ]


MISSHAPEN_RULE = "row_has_as_many_fields_as_the_header"


def misshapen_records(header_fields: int, misshapen: list[tuple[int, int]]) -> pd.DataFrame:
    """Quarantine records for rows with too few or too many fields (values shifted)."""
    if not misshapen:  # nearly every file: skip building a frame from nothing
        return _NO_MISSHAPEN.copy()
    return pd.DataFrame(
        {
            "row_number": pd.array([n for n, _ in misshapen], dtype="int64"),
            "rule": MISSHAPEN_RULE,
            "detail": [
                f"{fields} fields where the header has {header_fields}; values not read"
                for _, fields in misshapen
            ],
        },
        columns=q.QUARANTINE_COLUMNS,
    )


_NO_MISSHAPEN = pd.DataFrame(
    {"row_number": pd.array([], dtype="int64"), "rule": [], "detail": []},
    columns=q.QUARANTINE_COLUMNS,
)


def prepare(
    source: Source,
    raw: RawRows,
    row_numbers: list[int] | None = None,
    misshapen: list[tuple[int, int]] | None = None,
) -> PreparedFile:
    """Headers matched, personal and unknown columns dropped, missing ones named.

    Columns are chosen by header name first and taken in one step: a night brings
    hundreds of one-line files, and each pandas call costs more than such a file's rows.
    """
    shifted = misshapen_records(len(raw.columns), misshapen or [])
    rows_read = len(raw) + len(shifted)
    collisions = colliding_headers(raw)
    if collisions:
        empty = TextRows(raw.columns, []) if isinstance(raw, TextRows) else raw.iloc[:0]
        return PreparedFile(empty, rows_read, [], collisions)
    headers = header_names(raw)
    personal = set(source.personal_columns)
    present = [h for h in headers if h not in personal]
    known = source.known_columns(present)
    known_set, present_set = set(known), set(present)
    extras = [h for h in present if h not in known_set]
    missing = missing_columns(source, present)
    kept = [c for c in known if c in present_set]
    frame = _columns(raw, [headers.index(c) for c in kept], kept)
    return PreparedFile(frame, rows_read, extras, missing, row_numbers, shifted)


def _columns(raw: RawRows, positions: list[int], names: list[str]) -> RawRows:
    """The columns at ``positions``, renamed ``names``: a small file's rows stay lists."""
    if isinstance(raw, TextRows):
        return raw.take(positions, names)
    return raw.iloc[:, positions].set_axis(names, axis=1).reset_index(drop=True)


def combine(
    frames: list[RawRows],
    file_dates: list[date],
    row_numbers: list[list[int] | None] | None = None,
) -> pd.DataFrame:
    """One chunk: trimmed cells, the file and row of each row, the values names bind."""
    raw = pd.concat(_as_frames(frames), ignore_index=True)
    chunk = trim_cells(raw)
    chunk[FILE_NO] = _file_numbers(frames)
    numbers = row_numbers or [None] * len(frames)
    chunk["row_number"] = np.concatenate(
        [
            np.asarray(n if n is not None else range(1, len(f) + 1), dtype="int64")
            for f, n in zip(frames, numbers, strict=True)
        ]
        or [np.empty(0, dtype="int64")]
    )
    return _with_binding_columns(chunk, file_dates)


def _as_frames(files: list[RawRows]) -> list[pd.DataFrame]:
    """One frame per run of consecutive small files with the same columns (nearly always
    all of a chunk's one-line files): concatenated, the same rows as a frame per file."""
    frames: list[pd.DataFrame] = []
    pending: list[TextRows] = []

    def flush() -> None:
        if pending:
            rows = [row for text in pending for row in text.rows]
            frames.append(TextRows(pending[0].columns, rows).to_frame())
            pending.clear()

    for raw in files:
        if isinstance(raw, TextRows):
            if pending and pending[0].columns != raw.columns:
                flush()
            pending.append(raw)
        else:
            flush()
            frames.append(raw)
    flush()
    return frames


def _file_numbers(frames: list[RawRows]) -> list[int]:
    return [n for n, frame in enumerate(frames) for _ in range(len(frame))]


def _with_binding_columns(chunk: pd.DataFrame, file_dates: list[date]) -> pd.DataFrame:
    """The values each row's file name binds (its date, its year), as columns for the suite."""
    file_no = chunk[FILE_NO].to_numpy()
    years = [d.year for d in file_dates]
    per_file = {
        "_file_date": [d.isoformat() for d in file_dates],
        "_file_year": [str(y) for y in years],
        "_year_start": [f"{y}-01-01" for y in years],
        "_next_year_start": [f"{y + 1}-01-01" for y in years],
    }
    for column, values in per_file.items():
        chunk[column] = pd.array(values, dtype="string")[file_no]
    return chunk


def stage(
    source: Source,
    chunk: pd.DataFrame,
    row_failures: pd.DataFrame,
    rejected_files: set[int],
    ref: Reference,
    misshapen: list[pd.DataFrame] | None = None,
) -> StagedChunk:
    """Stage the rows that passed; quarantine the rest, one record per (row, rule)."""
    failures = pd.concat(
        [_frame_or_empty(row_failures), cast_failures(source, chunk, row_failures, ref)],
        ignore_index=True,
    )
    bad_rows = set(failures["index"].astype("int64")) if len(failures) else set()
    keep = ~chunk.index.isin(list(bad_rows)) & ~chunk[FILE_NO].isin(list(rejected_files))
    good = chunk[keep].reset_index(drop=True)
    tables = stage_rows(source, neutralise_formulas(good, source.text_columns(good)), ref)
    quarantine = _quarantine(source, chunk, failures, rejected_files, ref)
    shifted = [
        records.assign(employee_key=None, **{FILE_NO: number})
        for number, records in enumerate(misshapen or [])
        if len(records) and number not in rejected_files
    ]
    if shifted:
        quarantine = pd.concat([quarantine, *shifted], ignore_index=True)
    loaded = good[FILE_NO].value_counts()
    quarantined = quarantine.drop_duplicates([FILE_NO, "row_number"])[FILE_NO].value_counts()
    return StagedChunk(tables, quarantine, _per_file(loaded), _per_file(quarantined))


def stage_rows(source: Source, rows: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """Validated rows as the source's staging tables: ``row_number``, the values its files'
    names bind, each kept column cast by its kind (ids replaced by their keyed hashes),
    then any table derived from the rows (the survey's answers)."""
    keys = ref.pseudonyms.keys
    staged = {"row_number": rows["row_number"].astype("int64")}
    for bound in source.bound:
        staged[bound.name] = cast(rows[bound.binding], bound.kind, False, keys)
    for column in source.kept:
        values = column.clean(rows[column.name]) if column.clean else rows[column.name]
        staged[column.target] = cast(values, column.kind, column.nullable, keys)
    staged[FILE_NO] = rows[FILE_NO]
    tables = {source.table: pd.DataFrame(staged, index=rows.index).reset_index(drop=True)}
    for derived in source.derived:
        tables[derived.table.name] = derived.derive(rows, source)
    return tables


def _per_file(counts: pd.Series) -> dict[int, int]:
    return {int(k): int(v) for k, v in zip(counts.index, counts, strict=True)}


def _frame_or_empty(failures: pd.DataFrame) -> pd.DataFrame:
    return failures if len(failures) else pd.DataFrame(columns=FAILURE_COLUMNS)


def cast_failures(
    source: Source, chunk: pd.DataFrame, failures: pd.DataFrame, ref: Reference | None = None
) -> pd.DataFrame:
    """Dates and timestamps that match the suite's pattern but name no real day or instant,
    or a day outside the sanity bounds (year 0001 or 9999 would stretch every calendar)."""
    already = list(failures["index"]) if len(failures) else []
    fresh = ~chunk.index.isin(already)  # rows no rule has set aside yet
    found = []
    for column in source.known_columns(list(chunk.columns)):
        # A NUL byte is no text any reader can store (PostgreSQL's COPY refuses it).
        if not might_hold_nul(chunk[column]):
            continue
        nul = chunk[column].str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
        nul &= fresh
        if nul.any():
            found.append(
                q.cast_failures(
                    pd.Series(nul), f"{column}_has_no_nul_byte", f"{column} holds a NUL byte"
                )
            )
    bounds = (ref.earliest.isoformat(), ref.latest.isoformat()) if ref is not None else None
    for column, kind in source.calendar_columns:
        fake, outside = calendar_problems(chunk[column], kind, bounds)
        fake &= fresh
        if fake.any():
            found.append(
                q.cast_failures(
                    pd.Series(fake),
                    f"{column}_{RULE_SUFFIX[kind]}",
                    f"{column} is not a real {kind}",
                )
            )
        outside &= fresh
        if bounds is not None and outside.any():
            low, high = bounds
            found.append(
                q.cast_failures(
                    pd.Series(outside),
                    f"{column}_within_sanity_bounds",
                    f"{column} is outside {low} .. {high}",
                )
            )
    if not found:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    result = pd.concat(found, ignore_index=True)
    result[FILE_NO] = chunk[FILE_NO].to_numpy()[result["index"].to_numpy(dtype="int64")]
    return result


def _quarantine(
    source: Source,
    chunk: pd.DataFrame,
    failures: pd.DataFrame,
    rejected: set[int],
    ref: Reference,
) -> pd.DataFrame:
    """Quarantine records, rows of rejected files excluded; keyed sources keep the key."""
    if not len(failures):
        return pd.DataFrame(columns=[*q.QUARANTINE_COLUMNS, "employee_key", FILE_NO])
    failures = failures[~failures[FILE_NO].isin(list(rejected))]
    records = q.quarantine_records(failures, chunk["row_number"])
    positions = records.pop("index").to_numpy(dtype="int64")
    records[FILE_NO] = chunk[FILE_NO].to_numpy()[positions]
    records["employee_key"] = None
    if source.key_column:
        ids = chunk[source.key_column].iloc[positions].reset_index(drop=True)
        well_formed = ids.where(ids.str.fullmatch(r"E\d+", na=False))
        records["employee_key"] = ref.pseudonyms.keys(well_formed).to_numpy()
    return records
