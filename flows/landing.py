"""The landing folder: which extracts are there, and reading them as strings (the I/O)."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

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


class MalformedCsv(ValueError):
    """The file is not CSV as RFC 4180 writes it (an unbalanced quote): the file's problem.
    Its message names the data row, never a value."""


@dataclass(frozen=True)
class Extract:
    """A file's well-formed rows as text, and the rows whose field count is not the
    header's (shifted values: quarantined whole, never read into columns)."""

    frame: pd.DataFrame
    row_numbers: list[int] | None = None  # data-row number of each row; None: 1..n
    misshapen: list[tuple[int, int]] = field(default_factory=list)  # (data row, fields)


def read_extract(path: Path) -> Extract:
    """An extract as text: RFC 4180, UTF-8 with or without BOM, LF or CRLF.

    A large file goes through Arrow (4x faster than Python's reader, but ~15 ms to start:
    a night brings one big roster and many one-line budget files). A file Arrow cannot
    read as a clean table (a row with too few or too many fields, a quoted line break, an
    unbalanced quote) is read again row by row, so every file gets the same verdict
    whatever its size, and no parser message ever quotes a row's values.
    """
    if path.stat().st_size > ARROW_MIN_BYTES and _distinct_headers(path) and _even_quotes(path):
        try:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                engine="pyarrow",
                encoding="utf-8-sig",
            )
            return Extract(frame)
        except (pd.errors.ParserError, ValueError):
            pass  # Arrow's messages quote the offending row: read it row by row instead
    return _read_row_by_row(path)


def _even_quotes(path: Path) -> bool:
    """RFC 4180 quotes come in pairs (an escaped one is doubled). An odd count is a quote
    never closed, which Arrow would read as one long value spanning rows, silently."""
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 23):
            count += block.count(b'"')
    return count % 2 == 0


def _distinct_headers(path: Path) -> bool:
    """Arrow renames a repeated header (a, a.1): such a file goes row by row, where the
    repeat is seen and the file rejected by name."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    return len({h.strip().lower() for h in header}) == len(header)


def _read_row_by_row(path: Path) -> Extract:
    rows: list[list[str]] = []
    numbers: list[int] = []
    misshapen: list[tuple[int, int]] = []
    number = 0
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise pd.errors.EmptyDataError("the file is empty: no header row")
            for row in reader:
                if not row:
                    continue  # a blank line is no row (as Arrow and pandas count them)
                number += 1
                if len(row) == len(header):
                    rows.append(row)
                    numbers.append(number)
                else:
                    misshapen.append((number, len(row)))
        except csv.Error:
            # Python's own message differs with the field's length; the verdict must not.
            raise MalformedCsv(
                f"malformed CSV: a quoted field after data row {number} is not closed "
                "where RFC 4180 expects (an unbalanced quote)"
            ) from None
    frame = pd.DataFrame(rows, columns=header, dtype="object")
    return Extract(frame, numbers, misshapen)


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
