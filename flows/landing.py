"""The landing folder: which extracts are there, and reading them as strings (the I/O)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from rxstaff.flows.summary import LandingError
from rxstaff.transforms.raw_frame import RawRows, TextRows
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.landing_hashes import LandingHash

ARROW_MIN_BYTES = 1 << 20
# A file changed this recently may change again within its file system's clock tick with
# no change to its stats (git's "racily clean" files): it is read and hashed every time.
RACY_NS = 2 * 10**9
__all__ = ["Landing", "LandingError", "LandingFile", "discover", "due_by", "read_extract"]


@dataclass(frozen=True)
class LandingFile:
    source: str
    path: Path
    file_name: str  # relative to the landing folder, e.g. roster/roster_2024-01-05.csv
    file_date: date  # the date in the name; 1 January for a survey year
    sha256: str
    size: int = 0  # bytes, as discovered
    # its stats and hash, for the next run; None for a file changed too recently (RACY_NS)
    seen: LandingHash | None = field(default=None, compare=False)


class FileMoved(OSError):
    """A file vanished or changed between discovery and reading: left for the next run."""


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
    # Still arriving: a temporary suffix, no "done" marker where the folder uses them, or
    # modified within the settle time. Each waits for a later run.
    arriving: list[tuple[str, str]] = field(default_factory=list)  # (source, file name)
    hashed: int = 0  # dated files read and hashed (the others kept their recorded hash)

    def hashes(self) -> list[LandingHash]:
        """Each dated file's stats and hash as this discovery saw them."""
        return [f.seen for f in self.files if f.seen is not None]


class Candidate(NamedTuple):
    """A file named like an extract, not yet read: its source, path, name relative to the
    landing folder, and the date in its name."""

    source: str
    path: Path
    name: str
    stamp: str


IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".filepart")
DONE_SUFFIX = ".done"


def discover(
    landing: Path,
    settle_seconds: float = 0,
    now: float | None = None,
    recorded: Mapping[str, LandingHash] | None = None,
) -> Landing:
    """Every extract in the landing folder, in load order: by source, then oldest first.

    Each file is read and hashed, unless ``recorded`` (what the last committed run saw)
    holds its name with the same size, modification and change times and inode: its
    bytes are the ones hashed then (``warehouse/landing_hashes.py``).

    Files still arriving are left for a later run: a name with a temporary suffix
    (``.part``, ``.tmp``), a file modified less than ``settle_seconds`` ago, and, in a
    folder where the sender writes ``<file>.done`` markers, a file without its marker.
    """
    if not landing.is_dir():
        raise LandingError(f"landing folder {landing} does not exist or is not a folder")
    order = list(SOURCES)
    now = time.time() if now is None else now
    files, claimed, misnamed, arriving = [], set(), [], []
    recorded = recorded or {}
    candidates: list[Candidate] = []
    for src in SOURCES.values():
        folder = landing / src.folder
        done = {p.name[: -len(DONE_SUFFIX)] for p in folder.glob(f"*{DONE_SUFFIX}")}
        for path in sorted(folder.glob("*")):
            if path.name.endswith((*IN_PROGRESS_SUFFIXES, DONE_SUFFIX)):
                claimed.add(path)
                if not path.name.endswith(DONE_SUFFIX):
                    arriving.append((src.name, path.relative_to(landing).as_posix()))
                continue
            match = src.pattern.match(path.name)
            if not (match and path.is_file()):
                continue
            claimed.add(path)
            name = path.relative_to(landing).as_posix()
            if (done and path.name not in done) or _settling(path, settle_seconds, now):
                arriving.append((src.name, name))
                continue
            candidates.append(Candidate(src.name, path, name, match.group(1)))
    for found in _identify_all(candidates, recorded):
        if isinstance(found, LandingFile):
            files.append(found)
        elif isinstance(found, MisnamedFile):
            misnamed.append(found)
    unrecognised = [
        str(path.relative_to(landing))
        for folder in sorted({s.folder for s in SOURCES.values()})
        for path in sorted((landing / folder).glob("*"))
        if path not in claimed and path.is_file()
    ]
    files.sort(key=lambda f: (order.index(f.source), f.file_date, f.file_name))
    # A file kept its recorded hash exactly when it saw the record (a racy one never does).
    hashed = sum(1 for f in files if f.seen is None or recorded.get(f.file_name) != f.seen)
    return Landing(files, unrecognised, misnamed, arriving, hashed)


def _settling(path: Path, settle_seconds: float, now: float) -> bool:
    try:
        return settle_seconds > 0 and now - path.stat().st_mtime < settle_seconds
    except FileNotFoundError:
        return True


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


def _identify_all(
    candidates: list[Candidate], recorded: Mapping[str, LandingHash]
) -> list[LandingFile | MisnamedFile | None]:
    """Each candidate identified, in order, on a few threads: hashlib and file reads
    release the GIL (a first run hashes 2.2 GB for five years: 9.5 s on one thread, 5.6 s
    on two, on a 2-core machine)."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda c: _identify(c, recorded), candidates))


def _identify(
    found: Candidate, recorded: Mapping[str, LandingHash]
) -> LandingFile | MisnamedFile | None:
    """The file as a dated extract; a name without a real date; None if it is gone."""
    try:
        try:
            return _landing_file(found, recorded)
        except LandingError as error:
            return MisnamedFile(found.source, found.name, sha256(found.path), str(error))
    except FileNotFoundError:
        return None  # gone between listing and hashing: nothing to load


def _landing_file(found: Candidate, recorded: Mapping[str, LandingHash]) -> LandingFile:
    source, path, name, stamp = found
    try:
        when = date.fromisoformat(stamp) if "-" in stamp else date(int(stamp), 1, 1)
    except ValueError as error:
        raise LandingError(f"the date in the file name is not a real date ({error})") from None
    # Stats first: a file written after them shows other stats to the next run.
    stats = path.stat()
    stat = (stats.st_size, stats.st_mtime_ns, stats.st_ctime_ns, _signed(stats.st_ino))
    racy = time.time_ns() - stats.st_ctime_ns < RACY_NS
    prior = recorded.get(name)
    if prior is not None and prior.same_file(*stat) and not racy:
        return LandingFile(source, path, name, when, prior.sha256, prior.size, prior)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    seen = None if racy else LandingHash(name, *stat, sha256=digest)
    return LandingFile(source, path, name, when, digest, len(data), seen)


def _signed(inode: int) -> int:
    """An inode number as a signed 64-bit integer (overlay file systems set the top bit)."""
    return inode - (1 << 64) if inode >= 1 << 63 else inode


def read_landing_file(file: LandingFile) -> bytes:
    """The file's bytes, exactly as discovered: the bytes parsed are the bytes hashed."""
    try:
        data = file.path.read_bytes()
    except FileNotFoundError:
        raise FileMoved("vanished after the run found it") from None
    if hashlib.sha256(data).hexdigest() != file.sha256:
        raise FileMoved("changed after the run found it (still being written?)")
    return data


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

    raw: RawRows  # a frame from Arrow; a small file's rows as lists
    row_numbers: list[int] | None = None  # data-row number of each row; None: 1..n
    misshapen: list[tuple[int, int]] = field(default_factory=list)  # (data row, fields)

    @property
    def frame(self) -> pd.DataFrame:
        return self.raw.to_frame() if isinstance(self.raw, TextRows) else self.raw


def read_extract(source: Path | bytes) -> Extract:
    """An extract as text: RFC 4180, UTF-8 with or without BOM, LF or CRLF.

    A large file goes through Arrow (4x faster than Python's reader, but ~15 ms to start:
    a night brings one big roster and many one-line budget files). A file Arrow cannot
    read as a clean table (a row with too few or too many fields, a quoted line break, an
    unbalanced quote) is read again row by row, so every file gets the same verdict
    whatever its size, and no parser message ever quotes a row's values.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    if len(data) > ARROW_MIN_BYTES and _distinct_headers(data) and data.count(b'"') % 2 == 0:
        # RFC 4180 quotes come in pairs (an escaped one is doubled): an odd count is a
        # quote never closed, which Arrow would read as one long value spanning rows.
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                keep_default_na=False,
                engine="pyarrow",
                encoding="utf-8-sig",
            )
            return Extract(frame)
        except (pd.errors.ParserError, ValueError):
            pass  # Arrow's messages quote the offending row: read it row by row instead
    return _read_row_by_row(data)


def _text(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _distinct_headers(data: bytes) -> bool:
    """Arrow renames a repeated header (a, a.1): such a file goes row by row, where the
    repeat is seen and the file rejected by name."""
    header = next(csv.reader(_text(data)), [])
    return len({h.strip().lower() for h in header}) == len(header)


def _read_row_by_row(data: bytes) -> Extract:
    rows: list[list[str]] = []
    numbers: list[int] = []
    misshapen: list[tuple[int, int]] = []
    number = 0
    reader = csv.reader(_text(data), strict=True)
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
    return Extract(TextRows(header, rows), numbers, misshapen)


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
