"""The landing folder: which extracts are there, each hashed, and their bytes (extract)."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.landing_hashes import LandingHash

# A file changed this recently may change again within its file system's clock tick with
# no change to its stats (git's "racily clean" files): it is read and hashed every time.
RACY_NS = 2 * 10**9


class LandingError(RuntimeError):
    """The landing folder itself cannot be used."""


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
class RefusedFile:
    """A file named like an extract that is rejected while the other files load: its name
    holds no real date (roster_2023-02-30.csv), or it is refused unread (a link out of the
    landing folder, a FIFO or a device). An unread file's ``sha256`` is that of what it is
    (``refusal_digest``), so the same refusal is not recorded again each night."""

    source: str
    file_name: str
    sha256: str
    reason: str
    file_date: date | None = None


@dataclass(frozen=True)
class Landing:
    files: list[LandingFile]
    unrecognised: list[str]
    refused: list[RefusedFile] = field(default_factory=list)
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
    files, claimed, refused, arriving = [], set(), [], []
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
            if not (match and (path.exists() or path.is_symlink())):  # what is not a file: below
                continue
            claimed.add(path)
            name = path.relative_to(landing).as_posix()
            if (done and path.name not in done) or _settling(path, settle_seconds, now):
                arriving.append((src.name, name))
                continue
            candidates.append(Candidate(src.name, path, name, match.group(1)))
    for found in _identify_all(candidates, recorded, landing.resolve()):
        if isinstance(found, LandingFile):
            files.append(found)
        elif isinstance(found, RefusedFile):
            refused.append(found)
    unrecognised = [
        str(path.relative_to(landing))
        for folder in sorted({s.folder for s in SOURCES.values()})
        for path in sorted((landing / folder).glob("*"))
        if path not in claimed and path.is_file()
    ]
    files.sort(key=lambda f: (order.index(f.source), f.file_date, f.file_name))
    # A file kept its recorded hash exactly when it saw the record (a racy one never does).
    hashed = sum(1 for f in files if f.seen is None or recorded.get(f.file_name) != f.seen)
    return Landing(files, unrecognised, refused, arriving, hashed)


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
    """Whether the landing folder needs attention: none of the contract's files (files still
    arriving are the contract's: the next run loads them), or a newest roster snapshot
    (arrived now or loaded before) older than ``max_age_days``."""
    arriving = f"{len(found.arriving)} file(s) still arriving, left for the next run"
    if not found.files and not found.arriving:
        return "empty landing", (
            "the landing folder holds no file the landing contract knows "
            "(roster/roster_YYYY-MM-DD.csv, budget/budget_releases_YYYY-MM-DD.csv, "
            "survey/engagement_survey_YYYY.csv, ...)"
        )
    arrived = [f.file_date for f in found.files if f.source == "roster" and f.file_date <= run_date]
    newest = max([*arrived, *loaded_roster_dates], default=None)
    if newest is None:
        waiting = f" ({arriving})" if found.arriving else ""
        return "stale landing", f"no roster snapshot has arrived yet{waiting}"
    age = (run_date - newest).days
    if age > max_age_days:
        return "stale landing", (
            f"the newest roster snapshot is of {newest}, {age} days before the run date "
            f"{run_date} (at most {max_age_days} allowed): is the HRIS export running?"
        )
    return None


def _identify_all(
    candidates: list[Candidate], recorded: Mapping[str, LandingHash], root: Path
) -> list[LandingFile | RefusedFile | None]:
    """Each candidate identified, in order, on a few threads: hashlib and file reads
    release the GIL, so a first run hashing years of files uses every core."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda c: _identify(c, recorded, root), candidates))


def _identify(
    found: Candidate, recorded: Mapping[str, LandingHash], root: Path
) -> LandingFile | RefusedFile | None:
    """The file as a dated extract; a file refused unread or by its name; None if it is
    gone."""
    try:
        refusal = unreadable(found.path, root)
        if refusal is not None:
            return RefusedFile(found.source, found.name, refusal_digest(refusal), refusal)
        try:
            return _landing_file(found, recorded)
        except LandingError as error:
            return RefusedFile(found.source, found.name, sha256(found.path), str(error))
    except FileNotFoundError:
        return None  # gone between listing and hashing: nothing to load


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def unreadable(path: Path, root: Path) -> str | None:
    """Why a file named like an extract is refused unread, or None to read it. A link is
    followed only to a file inside the landing folder (a link out could make the run read
    and load any file the worker can read); anything but a regular file could block the
    read forever (a FIFO) or never end (a device)."""
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root):
            return "refused unread: a link to a file outside the landing folder"
    mode = path.stat().st_mode
    for test, kind in _SPECIAL_FILES:
        if test(mode):
            return f"refused unread: {kind}, not a regular file"
    return None


def refusal_digest(reason: str) -> str:
    """The stand-in hash of a file refused unread: that of its reason."""
    return hashlib.sha256(reason.encode()).hexdigest()


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
