"""The landing folder: which extracts are there, and reading them as strings (the I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal

import pandas as pd

from rxstaff.flows.summary import LandingError
from rxstaff.transforms.sources import SOURCES

ARROW_MIN_BYTES = 1 << 20
__all__ = ["Landing", "LandingError", "LandingFile", "discover", "due_by", "read_extract"]


@dataclass(frozen=True)
class LandingFile:
    source: str
    path: Path
    file_name: str  # relative to the landing folder, e.g. roster/roster_2024-01-05.csv
    file_date: date  # the date in the name; 1 January for a survey year
    sha256: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class MisnamedFile:
    """A file named like an extract whose name holds no real date (roster_2023-02-30.csv):
    rejected by name, while the other files load."""

    source: str
    file_name: str
    sha256: str
    reason: str
    file_date: date | None = None


@dataclass(frozen=True)
class Landing:
    files: list[LandingFile]
    unrecognised: list[str]
    misnamed: list[MisnamedFile] = field(default_factory=list)


def discover(landing: Path) -> Landing:
    """Every extract in the landing folder, in load order: by source, then oldest first."""
    if not landing.is_dir():
        raise LandingError(f"landing folder {landing} does not exist or is not a folder")
    order = list(SOURCES)
    files, claimed, misnamed = [], set(), []
    for src in SOURCES.values():
        for path in sorted((landing / src.folder).glob("*")):
            match = src.pattern.match(path.name)
            if match and path.is_file():
                claimed.add(path)
                try:
                    files.append(_landing_file(src.name, path, landing, match.group(1)))
                except LandingError as error:
                    name = path.relative_to(landing).as_posix()
                    misnamed.append(MisnamedFile(src.name, name, sha256(path), str(error)))
    unrecognised = [
        str(path.relative_to(landing))
        for folder in sorted({s.folder for s in SOURCES.values()})
        for path in sorted((landing / folder).glob("*"))
        if path not in claimed and path.is_file()
    ]
    files.sort(key=lambda f: (order.index(f.source), f.file_date, f.file_name))
    return Landing(files, unrecognised, misnamed)


def due_by(found: Landing, run_date: date) -> list[LandingFile]:
    """The files dated on or before the run date; later ones wait for a later run."""
    return [f for f in found.files if f.file_date <= run_date]


def landing_problem(
    found: Landing, loaded_roster_dates: list[date], run_date: date, max_age_days: int
) -> tuple[str, str] | None:
    """Whether the landing folder needs attention: none of the contract's files, or a newest
    roster snapshot (arrived now or loaded before) older than ``max_age_days``."""
    if not found.files:
        return "empty landing", (
            "the landing folder holds no file the landing contract knows "
            "(roster/roster_YYYY-MM-DD.csv, budget/budget_releases_YYYY-MM-DD.csv, "
            "survey/engagement_survey_YYYY.csv, ...)"
        )
    arrived = [f.file_date for f in found.files if f.source == "roster" and f.file_date <= run_date]
    newest = max([*arrived, *loaded_roster_dates], default=None)
    if newest is None:
        return "stale landing", "no roster snapshot has arrived yet"
    age = (run_date - newest).days
    if age > max_age_days:
        return "stale landing", (
            f"the newest roster snapshot is of {newest}, {age} days before the run date "
            f"{run_date} (at most {max_age_days} allowed): is the HRIS export running?"
        )
    return None


def _landing_file(source: str, path: Path, landing: Path, stamp: str) -> LandingFile:
    try:
        when = date.fromisoformat(stamp) if "-" in stamp else date(int(stamp), 1, 1)
    except ValueError as error:
        raise LandingError(f"the date in the file name is not a real date ({error})") from None
    return LandingFile(source, path, path.relative_to(landing).as_posix(), when, sha256(path))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_extract(path: Path) -> pd.DataFrame:
    """An extract as a frame of strings: RFC 4180, UTF-8 with or without BOM, LF or CRLF."""
    # Arrow parses a large file 4x faster than the C engine but costs ~15 ms to start: a
    # night brings one big roster and many one-line budget files. Every cell stays text
    # either way ("NA" is data).
    engine: Literal["pyarrow", "c"] = "pyarrow" if path.stat().st_size > ARROW_MIN_BYTES else "c"
    return pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=engine == "pyarrow",  # the C engine's fastest path; Arrow requires its default
        engine=engine,
        encoding="utf-8-sig",
    )


def read_job_catalog(path: Path | None = None) -> pd.DataFrame:
    """The job catalog: the project's reference copy unless a health system supplies its own."""
    return _read_reference("job_catalog.csv", path)


def read_career_paths(path: Path | None = None) -> pd.DataFrame:
    """The declared career paths: the shipped default unless the pharmacy supplies its own."""
    return _read_reference("career_paths.csv", path)


def _read_reference(name: str, path: Path | None) -> pd.DataFrame:
    if path is None:
        with resources.as_file(resources.files("rxstaff.reference").joinpath(name)) as shipped:
            return pd.read_csv(shipped, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)
