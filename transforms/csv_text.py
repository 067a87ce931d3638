"""Extracts as text: RFC 4180 CSV, UTF-8 with or without BOM, LF or CRLF (no I/O)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rxstaff.transforms.raw_frame import RawRows, TextRows

# Smaller files go row by row: Arrow costs more to start than such a file takes to read.
ARROW_MIN_BYTES = 1 << 20
# The longest cell a file may hold, whatever its size or reader: the default limit of
# Python's CSV reader (which a library may raise for the whole process: checked here too).
# No extract's field comes near it.
MAX_CELL_CHARS = 131_072


class MalformedCsv(ValueError):
    """The file is not CSV as RFC 4180 writes it (an unbalanced quote): the file's problem.
    Its message names the data row, never a value."""


@dataclass(frozen=True)
class Extract:
    """A file's well-formed rows as text, and the rows whose field count is not the
    header's (shifted values: quarantined whole, never read into columns)."""

    raw: RawRows  # a frame from Arrow; a small file's rows as lists
    row_numbers: list[int] | None = None  # data-row number of each row; None: 1..n
    misshapen: list[tuple[int, int]] = field(default_factory=list)  # (data row, fields)

    @property
    def frame(self) -> pd.DataFrame:
        return self.raw.to_frame() if isinstance(self.raw, TextRows) else self.raw


def read_extract(data: bytes) -> Extract:
    """An extract as text: RFC 4180, UTF-8 with or without BOM, LF or CRLF.

    A large file goes through Arrow, faster than Python's reader but slower to start (a
    night brings one big roster and many one-line budget files). A file Arrow cannot
    read as a clean table (a row with too few or too many fields, a quoted line break, an
    unbalanced quote) is read again row by row, so every file gets the same verdict
    whatever its size, and no parser message ever quotes a row's values.
    """
    if (
        len(data) > ARROW_MIN_BYTES
        and _distinct_headers(data)
        and data.count(b'"') % 2 == 0
        and _longest_line(data) <= MAX_CELL_CHARS  # else a cell may be too long: row by row
    ):
        # RFC 4180 quotes come in pairs (an escaped one is doubled): an odd count is a
        # quote never closed, which Arrow would read as one long value spanning rows.
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                keep_default_na=False,
                engine="pyarrow",
                encoding="utf-8-sig",
            )
            return Extract(frame)
        except (pd.errors.ParserError, ValueError):
            pass  # Arrow's messages quote the offending row: read it row by row instead
    return _read_row_by_row(data)


def _text(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _too_long(row: int) -> MalformedCsv:
    return MalformedCsv(
        f"a cell in data row {row} is longer than {MAX_CELL_CHARS:,} characters, the most "
        "one cell may hold"
    )


def _longest_line(data: bytes) -> int:
    """The longest line's length in bytes: no cell on one line is longer (a character is
    at least a byte), so a file whose lines are all shorter than the limit needs no check
    of each cell."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], ends, [len(data)]))
    return int(np.diff(bounds).max()) - 1


def _distinct_headers(data: bytes) -> bool:
    """Arrow renames a repeated header (a, a.1): such a file goes row by row, where the
    repeat is seen and the file rejected by name."""
    header = next(csv.reader(_text(data)), [])
    return len({h.strip().lower() for h in header}) == len(header)


def _read_row_by_row(data: bytes) -> Extract:
    rows: list[list[str]] = []
    numbers: list[int] = []
    misshapen: list[tuple[int, int]] = []
    number = 0
    reader = csv.reader(_text(data), strict=True)
    try:
        header = next(reader, None)
        if not header:  # nothing, a byte-order mark alone, or a blank first line
            raise pd.errors.EmptyDataError("the file is empty: no header row")
        for row in reader:
            if not row:
                continue  # a blank line is no row (as Arrow and pandas count them)
            number += 1
            if max(map(len, row)) > MAX_CELL_CHARS:
                raise _too_long(number)
            if len(row) == len(header):
                rows.append(row)
                numbers.append(number)
            else:
                misshapen.append((number, len(row)))
    except csv.Error as error:
        # An unclosed quote also ends as a cell over the limit in a large file: the quotes'
        # count tells them apart (RFC 4180's come in pairs).
        if "field limit" in str(error) and data.count(b'"') % 2 == 0:
            raise _too_long(number + 1) from None
        # Python's own message differs with the field's length; the verdict must not.
        raise MalformedCsv(
            f"malformed CSV: a quoted field after data row {number} is not closed "
            "where RFC 4180 expects (an unbalanced quote)"
        ) from None
    return Extract(TextRows(header, rows), numbers, misshapen)
