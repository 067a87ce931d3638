"""The validation projects kept for PostgreSQL warehouses under $RXSTAFF_GX_HOME: one per
<host>_<database>. A database dropped or moved leaves its project behind; these are
listed with their size and newest result, and the ones no run has written to for a while
can be pruned."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    path: Path
    size_bytes: int
    newest: float  # the newest file's modification time (seconds since the epoch)

    @property
    def idle_days(self) -> float:
        return (time.time() - self.newest) / 86400


def projects(home: Path) -> list[Project]:
    """Every project folder under ``home``, newest first."""
    if not home.is_dir():
        return []
    found = []
    for folder in (p for p in home.iterdir() if p.is_dir()):
        files = [p.stat() for p in folder.rglob("*") if p.is_file()]
        newest = max((s.st_mtime for s in files), default=folder.stat().st_mtime)
        found.append(Project(folder, sum(s.st_size for s in files), newest))
    return sorted(found, key=lambda p: p.newest, reverse=True)


def prune(home: Path, idle_days: float) -> list[Project]:
    """Remove the projects no run has written to for ``idle_days``; those removed."""
    gone = [p for p in projects(home) if p.idle_days > idle_days]
    for project in gone:
        shutil.rmtree(project.path)
    return gone
