"""How the pack is laid out for this pharmacy: its name in the running header, the paper
it is printed on, and the smallest group it puts a rate on."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PHARMACY_ENV = "RXSTAFF_PHARMACY_NAME"
PAPER_ENV = "RXSTAFF_REPORT_PAPER"
MIN_N_ENV = "RXSTAFF_REPORT_MIN_N"
CHROMIUM_ENV = "RXSTAFF_CHROMIUM"
PAPERS = ("letter", "a4")


class ReportOptionError(ValueError):
    """A report setting that cannot be used: names the setting and what it takes."""


@dataclass(frozen=True)
class ReportOptions:
    pharmacy: str = "Specialty pharmacy"
    paper: str = "letter"  # letter | a4
    min_n: int = 10  # a rate on fewer people is shown as "too few to rate"
    chromium: str | None = None  # the PDF printer; None: the first Chromium on PATH

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ReportOptionError(f"paper must be letter or a4, not {self.paper!r}")
        if self.min_n < 1:
            raise ReportOptionError(f"the smallest group to rate must be 1 or more: {self.min_n}")


def from_environment(env: Mapping[str, str] = os.environ) -> ReportOptions:
    """$RXSTAFF_PHARMACY_NAME, $RXSTAFF_REPORT_PAPER (letter or a4),
    $RXSTAFF_REPORT_MIN_N (10) and $RXSTAFF_CHROMIUM, each with its default where unset."""
    raw_min = env.get(MIN_N_ENV, "10").strip()
    if not raw_min.isdigit():
        raise ReportOptionError(f"${MIN_N_ENV} must be a whole number, not {raw_min!r}")
    return ReportOptions(
        pharmacy=env.get(PHARMACY_ENV, "").strip() or ReportOptions.pharmacy,
        paper=env.get(PAPER_ENV, "letter").strip().lower(),
        min_n=int(raw_min),
        chromium=env.get(CHROMIUM_ENV) or None,
    )
