"""What this run must read: the landing folder judged against what the warehouse holds."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rxstaff.extract.landing import LandingFile, RefusedFile, discover, due_by, landing_problem
from rxstaff.warehouse import arrivals
from rxstaff.warehouse.arrivals import Arrival, KnownFiles
from rxstaff.warehouse.landing_hashes import LandingHash


@dataclass(frozen=True)
class Discovery:
    judged: list[Arrival[LandingFile]]
    problem: tuple[str, str] | None  # a stale or empty landing folder
    refused: list[Arrival[RefusedFile]]  # rejected by name or unread (a link out, a FIFO)
    arriving: list[tuple[str, str]]  # (source, file name) still arriving: for a later run
    hashes: list[LandingHash] | None = None  # to record; None: as recorded
    hashed: int = 0  # files read and hashed by this discovery
    later: int = 0  # files dated after the run date: they wait for their night

    @property
    def due(self) -> list[Arrival[LandingFile]]:
        return [a for a in self.judged if a.due]

    @property
    def due_bytes(self) -> int:
        """The size of the files this run loads: what decides how it loads them."""
        return sum(a.file.size for a in self.due)


def find_due_files(
    landing: Path,
    known: KnownFiles,
    run_date: date,
    max_age_days: int,
    settle_seconds: float,
    rehash: bool = False,
    logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
) -> Discovery:
    """List and hash the landing folder (a file whose size and times are as the last run
    saw them keeps its hash, unless ``rehash``); judge each file due by the run date; say
    whether the folder is stale or empty."""
    log = logger or logging.getLogger("rxstaff.extract")
    found = discover(landing, settle_seconds, recorded={} if rehash else known.hashes)
    read = found.hashed
    log.info(
        f"{read:,} of {len(found.files):,} file(s) read and hashed; the others have the size "
        "and times the last run saw"
        if read < len(found.files)
        else f"{read:,} file(s) read and hashed"
    )
    for name in found.unrecognised:
        log.warning(f"ignored {name}: not a file name the landing contract knows")
    for _, name in found.arriving:
        log.info(f"{name} is still arriving: left for a later run")
    files = due_by(found, run_date)
    if len(files) < len(found.files):
        log.info(f"{len(found.files) - len(files)} file(s) dated later wait for their night")
    rosters = arrivals.loaded_dates(known.live, "roster")
    problem = landing_problem(found, rosters, run_date, max_age_days)
    if problem:
        log.error(f"{problem[0]}: {problem[1]}")
    hashes = found.hashes()
    changed = {h.file_name: h for h in hashes} != known.hashes
    return Discovery(
        arrivals.judge(files, known.live),
        problem,
        arrivals.judge(found.refused, known.live),
        found.arriving,
        hashes if changed else None,
        read,
        len(found.files) - len(files),
    )
