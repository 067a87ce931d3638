"""Raw extracts to clean string frames: the rules every source shares (sources.md)."""

from __future__ import annotations

import pandas as pd


def trim_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Leading and trailing spaces are not data; an empty cell is a null."""
    cleaned = {}
    for column in frame.columns:
        values = frame[column].astype("string").str.strip()
        cleaned[column] = values.mask(values == "")
    return pd.DataFrame(cleaned, index=frame.index)


def header_names(frame: pd.DataFrame) -> list[str]:
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
