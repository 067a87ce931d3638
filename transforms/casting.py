"""Casting validated strings to typed columns by their kind, and finding the cells a cast
would reject."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

RULE_SUFFIX = {"date": "is_calendar_date", "timestamp": "is_real_timestamp"}


def cast(
    values: pd.Series, kind: str, nullable: bool, pseudonyms: Callable[[pd.Series], pd.Series]
) -> pd.Series:
    """Validated text as the staging column of its kind holds it (``SQL_TYPES``)."""
    if kind == "key":
        return pseudonyms(values)
    if kind in ("date",):
        return to_date(values)
    if kind == "timestamp":
        return to_timestamp(values)
    if kind == "number":
        return to_float(values)
    if kind == "money":
        return to_float(values).round(2)
    if kind == "integer":
        return pd.to_numeric(values).astype("Int64" if nullable else "int64")
    if kind == "flag":
        return values.str.lower().eq("true").astype("boolean")
    return values.astype("string")  # code, text, id


def to_date(values: pd.Series) -> pd.Series:
    """Validated dates stay ISO text: the warehouse casts them on insert (DuckDB's CAST,
    PostgreSQL's COPY) faster than pandas builds date objects."""
    return values.astype("string")


def to_timestamp(values: pd.Series) -> pd.Series:
    """ISO 8601 timestamps as naive UTC."""
    return pd.to_datetime(values, format="ISO8601", utc=True).dt.tz_localize(None)


def to_float(values: pd.Series) -> pd.Series:
    """Validated numbers as floats, each distinct text parsed once (an FTE column of
    230,000 rows holds a handful of values)."""
    return by_distinct_value(values, lambda distinct: pd.to_numeric(distinct).astype("float64"))


def calendar_problems(
    values: pd.Series, kind: str, bounds: tuple[str, str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether it names no real day or instant, and whether its day lies outside
    ``bounds`` (ISO days, inclusive; a fake value is not also outside); nulls are neither.

    2023-02-30 passes an ISO date pattern; the cast is where the calendar is checked,
    in one vectorised call rather than GX's strptime per value, on each distinct value
    once (a snapshot's 50,000 rows hold one snapshot date and a few thousand hire dates).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=values.dtype)
    if kind == "date":
        parsed = pd.to_datetime(distinct, format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(distinct, format="ISO8601", errors="coerce", utc=True)
    fake = parsed.isna().to_numpy(dtype=bool)
    outside = np.zeros(len(distinct), dtype=bool)
    if bounds is not None:
        days = distinct.str.slice(0, 10)  # the date part of a date or a timestamp
        beyond = ((days < bounds[0]) | (days > bounds[1])).fillna(False)
        outside = beyond.to_numpy(dtype=bool) & ~fake
    # A null's code is -1: the extra False at the end of each answers it.
    return np.append(fake, False)[codes], np.append(outside, False)[codes]


def might_hold_nul(values: pd.Series) -> bool:
    """False only if no cell of ``values`` can hold a NUL byte: for Arrow-backed strings,
    one scan of the column's character buffers instead of a search cell by cell (a buffer
    may hold bytes outside the cells, so True means "look closer", never "found")."""
    array = values.array
    if not hasattr(array, "__arrow_array__"):
        return True
    arrow = array.__arrow_array__()
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True
        data = chunk.buffers()[2]
        if data is not None and not np.all(np.frombuffer(data, dtype=np.uint8)):
            return True
    return False


def by_distinct_value(values: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``convert`` applied to each distinct non-null value once, spread back over the rows
    (nulls stay null): the same result as converting every row, for a fraction of the cost."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not len(uniques):  # nothing but nulls: nothing to save
        return convert(values)
    converted = convert(pd.Series(uniques, dtype=values.dtype))
    spread = converted.to_numpy().take(np.where(codes < 0, 0, codes))
    return pd.Series(spread, index=values.index, dtype=converted.dtype).mask(codes < 0)
