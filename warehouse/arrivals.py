"""The one rule for a landing file against the warehouse: new, unchanged or a correction.

A file is known by (source, file name). Its live batch is the latest that was loaded or
rejected and not superseded; a failed batch is not live, so a failed file is retried.
Same content as the live batch: skipped. Different content: a correction, which
supersedes the live batch. No live batch: new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Generic, Literal, TypeVar

import sqlalchemy as sa

from rxstaff.warehouse import landing_hashes
from rxstaff.warehouse.batches import FileToLoad
from rxstaff.warehouse.connection import Warehouse

Verdict = Literal["new", "unchanged", "correction"]


@dataclass(frozen=True)
class KnownFile:
    batch_id: int
    sha256: str
    status: str  # loaded or rejected
    file_date: date | None = None


F = TypeVar("F", bound=FileToLoad)


@dataclass(frozen=True)
class Arrival(Generic[F]):
    file: F
    verdict: Verdict
    prior: KnownFile | None  # the live batch a correction (or a skip) refers to

    @property
    def due(self) -> bool:
        """Whether this run must read the file."""
        return self.verdict != "unchanged"


def live_files(conn: sa.Connection) -> dict[tuple[str, str], KnownFile]:
    """The live batch of every (source, file_name) the warehouse knows."""
    rows = conn.execute(
        sa.text(
            "SELECT source, file_name, batch_id, sha256, status, file_date FROM etl_batch "
            "WHERE superseded_by IS NULL AND status IN ('loaded', 'rejected')"
        )
    )
    return {(s, f): KnownFile(int(b), h, st, d) for s, f, b, h, st, d in rows}


def loaded_dates(known: dict[tuple[str, str], KnownFile], source: str) -> list[date]:
    """The file dates of a source's live loaded batches."""
    return [
        k.file_date
        for (s, _), k in known.items()
        if s == source and k.status == "loaded" and k.file_date is not None
    ]


def judge(files: list[F], known: dict[tuple[str, str], KnownFile]) -> list[Arrival[F]]:
    """Each file's verdict against what the warehouse holds."""
    return [_judge_one(f, known.get((f.source, f.file_name))) for f in files]


def _judge_one(file: F, prior: KnownFile | None) -> Arrival[F]:
    if prior is None:
        return Arrival(file, "new", None)
    if prior.sha256 == file.sha256:
        return Arrival(file, "unchanged", prior)
    return Arrival(file, "correction", prior)


@dataclass(frozen=True)
class KnownFiles:
    live: dict[tuple[str, str], KnownFile]  # by (source, file name)
    hashes: dict[str, landing_hashes.LandingHash]  # by file name: what the last committed run saw


def known_files(warehouse: Warehouse) -> KnownFiles:
    """The live batches and recorded landing hashes of a warehouse that may not exist yet
    (then: none)."""
    if warehouse.file is not None and not warehouse.file.exists():
        return KnownFiles({}, {})  # connecting would create the file
    engine = warehouse.engine()

    def read() -> KnownFiles:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("etl_batch"):
                return KnownFiles({}, {})
            return KnownFiles(live_files(conn), landing_hashes.recorded(conn))

    try:
        return warehouse.with_retries(read)
    finally:
        engine.dispose()
