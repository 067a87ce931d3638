"""The report's charts as Vega-Lite specifications: at most eight series, each in its own
colour of a palette told apart with any common colour-vision deficiency. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

# Okabe and Ito's palette: eight colours readers with any common colour-vision deficiency
# tell apart. A chart never has more series than colours: the smallest go into "other".
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"]
MAX_SERIES = len(PALETTE)
OTHER = "other"


def fewest_series(frame: pd.DataFrame, series: str, value: str) -> pd.DataFrame:
    """The frame with at most MAX_SERIES values of ``series``: the largest by total
    ``value`` kept, the rest summed into "other" (the total stays true)."""
    totals = frame.groupby(series)[value].sum().sort_values(ascending=False)
    if len(totals) <= MAX_SERIES:
        return frame
    kept = set(totals.index[: MAX_SERIES - 1])
    grouped = frame.assign(**{series: frame[series].where(frame[series].isin(kept), OTHER)})
    keys = [c for c in frame.columns if c not in (series, value)]
    summed: pd.DataFrame = grouped.groupby([*keys, series], as_index=False, dropna=False)[
        [value]
    ].sum()
    return summed


def series_colours(frame: pd.DataFrame, series: str) -> dict[str, Any]:
    """An explicit scale: each series of this chart its own palette colour."""
    names = sorted(str(v) for v in frame[series].dropna().unique())
    if OTHER in names:  # "other" last
        names = [n for n in names if n != OTHER] + [OTHER]
    if len(names) > MAX_SERIES:
        raise ValueError(f"{len(names)} series in one chart: at most {MAX_SERIES}")
    return {"domain": names, "range": PALETTE[: len(names)]}


def stacked_bars(frame: pd.DataFrame, x: str, y: str, series: str, label: str) -> dict[str, Any]:
    frame = fewest_series(frame, series, y)
    return _spec(frame, {"type": "bar"}, {
        "x": _years_across(x),
        "y": {"field": y, "type": "quantitative", "title": label, "stack": "zero"},
        "color": _colour(frame, series),
    })  # fmt: skip


def grouped_bars(frame: pd.DataFrame, x: str, y: str, series: str, label: str) -> dict[str, Any]:
    """Bars side by side (never stacked): for figures that do not add up, as medians."""
    return _spec(frame, {"type": "bar"}, {
        "x": _years_across(x),
        "xOffset": {"field": series},
        "y": {"field": y, "type": "quantitative", "title": label},
        "color": _colour(frame, series),
    })  # fmt: skip


def bars(frame: pd.DataFrame, x: str, y: str, label: str) -> dict[str, Any]:
    return _spec(frame, {"type": "bar", "color": PALETTE[0]}, {
        "y": {"field": x, "type": "nominal", "title": None, "sort": "-x",
              "axis": {"labelLimit": 360}},
        "x": {"field": y, "type": "quantitative", "title": label},
    }, height=max(60, 22 * len(frame)))  # fmt: skip


def lines(
    frame: pd.DataFrame, x: str, y: str, series: str, label: str, percent: bool = False
) -> dict[str, Any]:
    """One line per series; a point alone where a series has one figure."""
    frame = frame.dropna(subset=[y])
    axis = {"format": ".0%"} if percent else {}
    return _spec(frame, {"type": "line", "point": True}, {
        "x": _years_across(x),
        "y": {"field": y, "type": "quantitative", "title": label, "axis": axis},
        "color": _colour(frame, series),
    })  # fmt: skip


def _years_across(x: str) -> dict[str, Any]:
    """An ordinal x axis (years, months), its labels upright."""
    return {"field": x, "type": "ordinal", "title": x.replace("_", " "), "axis": {"labelAngle": 0}}


def _colour(frame: pd.DataFrame, series: str) -> dict[str, Any]:
    return {"field": series, "type": "nominal", "title": None,
            "scale": series_colours(frame, series), "legend": {"labelLimit": 320}}  # fmt: skip


def _spec(
    frame: pd.DataFrame, mark: dict[str, Any], encoding: dict[str, Any], height: int = 170
) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 440,
        "height": height,
        "data": {"values": _data(frame)},
        "mark": mark,
        "encoding": encoding,
        "config": {"font": "sans-serif", "legend": {"orient": "right"}},
    }


def _data(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.copy()
    for column in plain.columns:
        if pd.api.types.is_datetime64_any_dtype(plain[column]):
            plain[column] = plain[column].dt.strftime("%Y-%m-%d")
        elif plain[column].dtype == object:
            plain[column] = plain[column].map(_json_value)
    return plain.astype(object).where(plain.notna(), None).to_dict("records")  # type: ignore[return-value]


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
