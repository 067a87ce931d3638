"""Quarantine records: the rows set aside, with the rule each one broke."""

from __future__ import annotations

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS = ["row_number", "rule", "detail"]


def quarantine_records(failures: pd.DataFrame, row_numbers: pd.Series) -> pd.DataFrame:
    """One record per (row, rule) from (index, rule, detail) failures, in row order.

    ``row_numbers`` maps a failure's positional index to its 1-based data-row number
    in its file (1 = the first row after the header), as auditors count them.
    """
    if failures.empty:
        return pd.DataFrame(columns=["index", *QUARANTINE_COLUMNS])
    records = failures.drop_duplicates(["index", "rule"]).sort_values(["index", "rule"])
    positions = records["index"].astype("int64").to_numpy()
    return pd.DataFrame(
        {
            "index": positions,
            "row_number": row_numbers.to_numpy()[positions].astype("int64"),
            "rule": records["rule"].astype("string").to_numpy(),
            "detail": records["detail"].astype("string").to_numpy(),
        }
    )


def cast_failures(bad: pd.Series, rule: str, detail: str) -> pd.DataFrame:
    """Failures for rows a cast rejected after the suite passed (e.g. 2024-13-01T00:00)."""
    return pd.DataFrame({"index": np.flatnonzero(bad.to_numpy()), "rule": rule, "detail": detail})
