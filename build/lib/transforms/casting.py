"""Casting validated strings to typed columns, and finding the cells a cast would reject."""

from __future__ import annotations

import pandas as pd

RULE_SUFFIX = {"date": "is_calendar_date", "timestamp": "is_real_timestamp"}


def to_date(values: pd.Series) -> pd.Series:
    """Validated dates stay ISO text: the warehouse casts them on insert (DuckDB's CAST,
    PostgreSQL's COPY) faster than pandas builds date objects."""
    return values.astype("string")


def to_timestamp(values: pd.Series) -> pd.Series:
    """ISO 8601 timestamps as naive UTC."""
    return pd.to_datetime(values, format="ISO8601", utc=True).dt.tz_localize(None)


def to_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values).astype("float64")


def unparseable(values: pd.Series, kind: str) -> pd.Series:
    """Cells that look right to the suite's pattern but name no real day or instant.

    2023-02-30 passes an ISO date pattern; the cast is where the calendar is checked,
    in one vectorised call rather than GX's strptime per value.
    """
    if kind == "date":
        parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    return parsed.isna() & values.notna()
