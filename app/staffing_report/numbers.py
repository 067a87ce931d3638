"""How the report states a number: a rate always with its n, an interval on a share, and
"too few to rate" below the smallest group it rates. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

Z95 = 1.959964
TOO_FEW = "too few to rate"


def missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def wilson(successes: float, n: float) -> tuple[float, float]:
    """Wilson's 95% score interval for a share: honest at 0, 1 and small n."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Share:
    """k of n: what a rate is, said with its n (and its interval where it is a share)."""

    k: float
    n: float
    interval: bool = True  # False for a rate over an average headcount (not a share)

    @property
    def rate(self) -> float | None:
        return None if self.n <= 0 else self.k / self.n

    def rated(self, min_n: int) -> bool:
        return self.n >= min_n and self.n > 0

    def text(self, min_n: int) -> str:
        n = _count(self.n)
        if self.n <= 0:
            return "none to rate (n=0)"
        if not self.rated(min_n):
            return f"{TOO_FEW} (n={n})"
        shown = f"{self.k / self.n:.1%} ({_count(self.k)} of {n}"
        if self.interval:
            low, high = wilson(self.k, self.n)
            shown += f"; 95% CI {low:.0%}-{high:.0%}"
        return shown + ")"


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def count(value: Any) -> str:
    return "-" if missing(value) else _count(float(value))


def days(value: Any) -> str:
    return "-" if missing(value) else f"{float(value):,.0f} days"


def money(value: Any) -> str:
    return "-" if missing(value) else f"${float(value):,.0f}"


def score(value: Any) -> str:
    return "-" if missing(value) else f"{float(value):.1f}"


def signed(value: Any) -> str:
    return "-" if missing(value) else f"{float(value):+.1f}"


def plain(value: Any) -> str:
    """A cell as people read it: counts with separators, one decimal, dates as ISO."""
    if missing(value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return str(value.isoformat())[:10]
    if isinstance(value, str):
        return value
    number = float(value)
    return _count(number) if number.is_integer() else f"{number:,.1f}"


def shares(k: pd.Series, n: pd.Series, min_n: int, interval: bool = True) -> list[str]:
    """Each row's k of n as text (see Share.text)."""
    return [
        Share(float(a), float(b), interval).text(min_n)
        for a, b in zip(k.fillna(0), n.fillna(0), strict=True)
    ]


def retained(rate: pd.Series, start: pd.Series, min_n: int) -> list[str]:
    """Retention as k of n: the marts give the rate and the cohort; k is their product."""
    return shares((rate.astype(float) * start).round(), start, min_n)
