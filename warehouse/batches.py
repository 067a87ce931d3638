"""The audit trail of files: ``etl_batch`` rows and what each batch contributed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from rxstaff.warehouse.corrections import replace_rows

BATCH_COLUMNS = [
    "batch_id",
    "run_id",
    "source",
    "file_name",
    "file_date",
    "sha256",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "started_at",
    "finished_at",
    "status",
    "superseded_by",
    "validated_with",
    "error",
]


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def batch_row(**values: Any) -> dict[str, Any]:
    """A complete ``etl_batch`` row: the given values, the rest null."""
    unknown = set(values) - set(BATCH_COLUMNS)
    if unknown:
        raise ValueError(f"etl_batch has no column(s) {sorted(unknown)}")
    return {column: values.get(column) for column in BATCH_COLUMNS}


def next_batch_id(conn: sa.Connection) -> int:
    found = conn.execute(sa.text("SELECT COALESCE(MAX(batch_id), 0) + 1 FROM etl_batch")).scalar()
    return int(found or 1)


def newest_file_date(conn: sa.Connection, source: str) -> date | None:
    return conn.execute(
        sa.text(
            "SELECT MAX(file_date) FROM etl_batch WHERE source = :s AND status = 'loaded' "
            "AND superseded_by IS NULL"
        ),
        {"s": source},
    ).scalar()


def record_batch(conn: sa.Connection, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    params = ", ".join(f":{k}" for k in row)
    conn.execute(sa.text(f"INSERT INTO etl_batch ({columns}) VALUES ({params})"), row)


def supersede(
    conn: sa.Connection,
    tables: tuple[str, ...],
    old_batch_id: int,
    new_batch_id: int,
    private: bool = False,
) -> None:
    """A correction replaces everything the earlier version of the file contributed; the
    replaced rows stay readable, marked with the new batch (``corrections``)."""
    replace_rows(conn, tables, old_batch_id, new_batch_id, private)
    conn.execute(
        sa.text("UPDATE etl_batch SET superseded_by = :new WHERE batch_id = :old"),
        {"new": new_batch_id, "old": old_batch_id},
    )


class FileToLoad(Protocol):
    """A landing file as the audit trail knows it (flows' LandingFile is one)."""

    @property
    def source(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    @property
    def file_date(self) -> date | None: ...  # None: the name held no real date
    @property
    def sha256(self) -> str: ...


def record_failed_files(
    conn: sa.Connection, files: Sequence[FileToLoad], run_id: str, started_at: datetime, error: str
) -> None:
    """After a rollback: the files a run attempted, marked failed (the next run retries)."""
    first = next_batch_id(conn)
    for offset, file in enumerate(files):
        row = file_batch(file, first + offset, run_id, started_at, "failed", error=error[:2000])
        record_batch(conn, row)


def file_batch(
    file: FileToLoad,
    batch_id: int,
    run_id: str,
    started_at: datetime,
    status: str,
    **values: Any,
) -> dict[str, Any]:
    """A file's ``etl_batch`` row: who it is, which run, how it ended, and the counts given."""
    return batch_row(
        batch_id=batch_id,
        run_id=run_id,
        source=file.source,
        file_name=file.file_name,
        file_date=file.file_date,
        sha256=file.sha256,
        started_at=started_at,
        finished_at=now(),
        status=status,
        **values,
    )
