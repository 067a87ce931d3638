"""Raw extracts to clean string frames: the rules every source shares (sources.md)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TextRows:
    """A small file's rows as Python lists, headers as written.

    A night brings hundreds of one-line files, and each DataFrame (built, then cut to the
    declared columns) costs more than such a file's rows: these become one frame per
    chunk in ``staging.combine``, with the same cells and dtype as a frame per file.
    """

    columns: list[str]
    rows: list[list[str]]

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, positions: list[int], names: list[str]) -> TextRows:
        """The columns at ``positions``, renamed ``names``."""
        return TextRows(names, [[row[i] for i in positions] for row in self.rows])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.columns, dtype="object")


RawRows = pd.DataFrame | TextRows


def trim_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Leading and trailing spaces are not data; an empty cell is a null."""
    cleaned = {}
    for column in frame.columns:
        values = frame[column].astype("string").str.strip()
        cleaned[column] = values.mask(values == "")
    return pd.DataFrame(cleaned, index=frame.index)


def header_names(frame: RawRows) -> list[str]:
    """The frame's headers as matched: trimmed and case-folded."""
    return [str(c).strip().lower() for c in frame.columns]


# A cell starting with one of these is run as a formula when a BI export is opened in a
# spreadsheet (=HYPERLINK(...) phones home): OWASP's CSV-injection advice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Free text that would start a formula gets a leading apostrophe: shown as typed,
    never evaluated. The value is kept (a department is still that department)."""
    result = frame.copy(deep=False)
    for column in columns:
        values = result[column].astype("string")
        risky = values.str.startswith(FORMULA_STARTS).fillna(False)
        if risky.any():
            result[column] = values.mask(risky, "'" + values)
    return result
