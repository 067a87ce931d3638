"""``etl_anomaly``: what was kept but looks wrong, found on arrival or in the history."""

from __future__ import annotations

from datetime import date
from importlib import resources

import sqlalchemy as sa

from rxstaff.warehouse.schema import statements


def record_arrival(
    conn: sa.Connection, run_id: str, batch_id: int, kind: str, observed_on: date, detail: str
) -> None:
    """An anomaly seen as a file arrived (extra columns, a snapshot older than loaded)."""
    conn.execute(
        sa.text(
            "INSERT INTO etl_anomaly (run_id, batch_id, kind, observed_on, detail, origin) "
            "VALUES (:r, :b, :k, :d, :t, 'arrival')"
        ),
        {"r": run_id, "b": batch_id, "k": kind, "d": observed_on, "t": detail},
    )


def rebuild_history_anomalies(conn: sa.Connection, run_id: str) -> None:
    """Recompute what the roster history shows (vanished employees, ...) after the models
    and ``int_roster_change`` are up to date with staging: the checks read them."""
    sql = resources.files("rxstaff.warehouse").joinpath("audit", "history_anomalies.sql")
    for statement in statements(sql.read_text("utf-8")):
        conn.execute(sa.text(statement), {"run_id": run_id})


def counts(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(
        sa.text("SELECT kind, COUNT(*) FROM etl_anomaly GROUP BY kind ORDER BY kind")
    )
    return {kind: int(n) for kind, n in rows}
