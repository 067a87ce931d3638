"""The audit trail of runs: one ``etl_run`` row per run that reached the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    run_date: date
    started_at: datetime
    finished_at: datetime
    status: str  # succeeded, nothing new, rejected files, stale landing, empty landing, failed
    files_loaded: int
    files_skipped: int
    files_rejected: int
    rows_loaded: int
    rows_quarantined: int
    error: str | None = None
    flow_run_id: str | None = None  # the scheduler's (Prefect's) id of this run


def record_run(conn: sa.Connection, run: RunRecord) -> None:
    values = run.__dict__
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(sa.text(f"INSERT INTO etl_run ({columns}) VALUES ({params})"), values)
