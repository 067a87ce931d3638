"""Casting validated strings to typed columns. Only called on rows the suite passed."""

from __future__ import annotations

import pandas as pd


def to_date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="%Y-%m-%d").dt.date.astype("object")


def to_timestamp(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 timestamps as naive UTC, and a mask of cells that would not parse."""
    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    bad = parsed.isna() & values.notna()
    return parsed.dt.tz_localize(None), bad


def to_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values).astype("float64")
