"""The landing folder: which extracts are there, and reading them as strings."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import pandas as pd

# source -> (sub-folder, file-name pattern with the date or year as group 1)
PATTERNS = {
    "roster": ("roster", re.compile(r"^roster_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE)),
    "budget": ("budget", re.compile(r"^budget_releases_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE)),
    "survey": ("survey", re.compile(r"^engagement_survey_(\d{4})\.csv$", re.IGNORECASE)),
    "survey_items": ("survey", re.compile(r"^survey_items_(\d{4})\.csv$", re.IGNORECASE)),
}
SOURCE_ORDER = ["roster", "budget", "survey_items", "survey"]
ARROW_MIN_BYTES = 1 << 20


class LandingError(RuntimeError):
    """The landing folder itself cannot be used."""


@dataclass(frozen=True)
class LandingFile:
    source: str
    path: Path
    file_name: str  # relative to the landing folder, e.g. roster/roster_2024-01-05.csv
    file_date: date  # the date in the name; 1 January for a survey year
    sha256: str


@dataclass(frozen=True)
class Landing:
    files: list[LandingFile]
    unrecognised: list[str]


def discover(landing: Path) -> Landing:
    """Every extract in the landing folder, oldest first within each source."""
    if not landing.is_dir():
        raise LandingError(f"landing folder {landing} does not exist or is not a folder")
    files, unrecognised = [], []
    claimed: set[Path] = set()
    for source in SOURCE_ORDER:
        folder, pattern = PATTERNS[source]
        for path in sorted((landing / folder).glob("*")):
            match = pattern.match(path.name)
            if match and path.is_file():
                files.append(_landing_file(source, path, landing, match.group(1)))
                claimed.add(path)
    for folder in {f for f, _ in PATTERNS.values()}:
        for path in sorted((landing / folder).glob("*")):
            if path not in claimed and path.is_file():
                unrecognised.append(str(path.relative_to(landing)))
    files.sort(key=lambda f: (SOURCE_ORDER.index(f.source), f.file_date, f.file_name))
    return Landing(files, unrecognised)


def _landing_file(source: str, path: Path, landing: Path, stamp: str) -> LandingFile:
    try:
        when = date.fromisoformat(stamp) if "-" in stamp else date(int(stamp), 1, 1)
    except ValueError as error:
        raise LandingError(
            f"{path}: the date in the file name is not a real date ({error})"
        ) from None
    return LandingFile(source, path, path.relative_to(landing).as_posix(), when, sha256(path))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_extract(path: Path, attempts: int = 3) -> pd.DataFrame:
    """An extract as a frame of strings: RFC 4180, UTF-8 with or without BOM, LF or CRLF.

    Transient read errors (a network share hiccup) are retried; a malformed file is not.
    """
    for attempt in range(1, attempts + 1):
        try:
            # Arrow parses a large file 4x faster than the C engine but costs ~15 ms to start:
            # a night brings one big roster and many one-line budget files. Every cell
            # stays text either way ("NA" is data).
            engine = "pyarrow" if path.stat().st_size > ARROW_MIN_BYTES else "c"
            options = {"na_filter": False} if engine == "c" else {}
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                engine=engine,
                encoding="utf-8-sig",
                **options,
            )
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError):
            raise
        except OSError:
            if attempt == attempts:
                raise
            time.sleep(attempt)
    raise AssertionError("unreachable")


def read_job_catalog(path: Path | None = None) -> pd.DataFrame:
    """The job catalog: the project's reference copy unless a health system supplies its own."""
    if path is None:
        with resources.as_file(
            resources.files("rxstaff").joinpath("reference", "job_catalog.csv")
        ) as p:
            return pd.read_csv(p, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)
