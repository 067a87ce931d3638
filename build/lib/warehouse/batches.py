"""The audit trail of files: ``etl_batch`` rows and what each batch contributed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

# Staging tables each source writes to: a correction deletes its predecessor's rows here.
STAGING_TABLES = {
    "roster": ["stg_roster"],
    "budget": ["stg_budget_release"],
    "survey": ["stg_survey_respondent", "stg_survey_answer"],
    "survey_items": ["stg_survey_item"],
}


@dataclass(frozen=True)
class KnownFile:
    batch_id: int
    sha256: str
    status: str


def live_files(conn: sa.Connection) -> dict[tuple[str, str], KnownFile]:
    """The latest batch of every (source, file_name) that is loaded or was rejected."""
    rows = conn.execute(
        sa.text(
            "SELECT source, file_name, batch_id, sha256, status FROM etl_batch "
            "WHERE superseded_by IS NULL AND status IN ('loaded', 'rejected')"
        )
    )
    return {(s, f): KnownFile(b, h, st) for s, f, b, h, st in rows}


def next_batch_id(conn: sa.Connection) -> int:
    return int(
        conn.execute(sa.text("SELECT COALESCE(MAX(batch_id), 0) + 1 FROM etl_batch")).scalar()
    )


def newest_file_date(conn: sa.Connection, source: str) -> date | None:
    return conn.execute(
        sa.text(
            "SELECT MAX(file_date) FROM etl_batch WHERE source = :s AND status = 'loaded' "
            "AND superseded_by IS NULL"
        ),
        {"s": source},
    ).scalar()


def record_batch(conn: sa.Connection, **values: object) -> None:
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(sa.text(f"INSERT INTO etl_batch ({columns}) VALUES ({params})"), values)


def supersede(conn: sa.Connection, source: str, old_batch_id: int, new_batch_id: int) -> None:
    """A correction replaces everything the earlier version of the file contributed."""
    for table in STAGING_TABLES[source]:
        conn.execute(sa.text(f"DELETE FROM {table} WHERE batch_id = :b"), {"b": old_batch_id})
    conn.execute(
        sa.text("UPDATE etl_batch SET superseded_by = :new WHERE batch_id = :old"),
        {"new": new_batch_id, "old": old_batch_id},
    )


def now() -> datetime:
    return datetime.now().replace(microsecond=0)
