"""Splitting validated rows into the ones that load and the ones set aside."""

from __future__ import annotations

import pandas as pd

QUARANTINE_COLUMNS = ["row_number", "rule", "detail"]


def row_numbers(frame: pd.DataFrame) -> pd.Series:
    """1-based data-row numbers (1 = the first row after the header), as auditors count them."""
    return pd.Series(range(1, len(frame) + 1), index=frame.index, name="row_number")


def quarantine_records(failures: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows from (index, rule, detail) failures: one per row and rule."""
    if failures.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    records = failures.drop_duplicates(["index", "rule"]).sort_values(["index", "rule"])
    return pd.DataFrame(
        {
            "row_number": records["index"].astype("int64") + 1,
            "rule": records["rule"].astype("string"),
            "detail": records["detail"].astype("string"),
        }
    ).reset_index(drop=True)


def passing_rows(frame: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """Rows with no failure at all: a row with any bad value is quarantined whole."""
    bad = set(failures["index"].astype("int64")) if not failures.empty else set()
    keep = [i not in bad for i in range(len(frame))]
    return frame.reset_index(drop=True)[keep]


def cast_failures(frame: pd.DataFrame, bad: pd.Series, rule: str, detail: str) -> pd.DataFrame:
    """Failures for rows a cast rejected after the suite passed (e.g. 2024-13-01T00:00)."""
    indexes = [i for i, flag in enumerate(bad.to_numpy()) if flag]
    return pd.DataFrame({"index": indexes, "rule": rule, "detail": detail})
