"""Every landing source, in the order a run loads them (codebooks before the surveys)."""

from __future__ import annotations

from rxstaff.transforms.release import BUDGET
from rxstaff.transforms.roster import ROSTER
from rxstaff.transforms.source import Source
from rxstaff.transforms.survey import SURVEY, SURVEY_ITEMS
from rxstaff.transforms.training import TRAINING

SOURCES: dict[str, Source] = {s.name: s for s in (ROSTER, BUDGET, SURVEY_ITEMS, SURVEY, TRAINING)}


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"no source named {name!r}; known: {', '.join(SOURCES)}") from None
