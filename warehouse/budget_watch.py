"""The budget watch's memory (``etl_budget_alert``): which seats waiting for budget
release have been reported past which threshold, so each crossing is sent once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse.loader import bulk_insert

TABLE = "etl_budget_alert"

# Seats in state awaiting_budget on as_of_date (the latest roster snapshot), how long
# each has waited since its budget was requested, with its job title and lineage.
WAITING = """
    SELECT v.vacancy_id, v.job_code, j.job_title, v.pharmacy_model, v.budget_requested_on,
           v.backfill_release_id, v.budget_amount, b.as_of_date,
           CAST(b.as_of_date - v.budget_requested_on AS INTEGER) AS days_waiting
    FROM fct_vacancy AS v
    JOIN dim_job AS j ON j.job_code = v.job_code
    CROSS JOIN (SELECT MAX(as_of_date) AS as_of_date FROM mart_vacancy_backlog) AS b
    WHERE v.state = 'awaiting_budget' AND v.budget_requested_on IS NOT NULL"""


def due(conn: sa.Connection, thresholds: tuple[int, ...]) -> list[dict[str, Any]]:
    """Each seat past a threshold it has not been reported past: its figures, the
    thresholds newly crossed, and the highest of them."""
    waiting = pd.read_sql(sa.text(WAITING), conn).to_dict("records")
    sent = pd.read_sql(sa.text(f"SELECT vacancy_id, threshold_days FROM {TABLE}"), conn)
    already = set(zip(sent.vacancy_id, sent.threshold_days.astype(int), strict=True))
    seats = []
    for seat in waiting:
        fresh = [
            t
            for t in thresholds
            if int(seat["days_waiting"]) >= t and (seat["vacancy_id"], t) not in already
        ]
        if fresh:
            seats.append(
                {
                    **{str(k): v for k, v in seat.items()},
                    "threshold_days": max(fresh),
                    "crossed": fresh,
                }
            )
    return seats


def record_sent(
    conn: sa.Connection, seats: list[dict[str, Any]], run_id: str, sent_to: list[str]
) -> None:
    """Every threshold each seat crossed, as sent (a lower one passed at the same time
    is not sent later)."""
    now = datetime.now().replace(microsecond=0)
    rows = [
        {"vacancy_id": seat["vacancy_id"], "threshold_days": t,
         "days_waiting": int(seat["days_waiting"]), "as_of_date": seat["as_of_date"],
         "run_id": run_id, "sent_to": ",".join(sent_to), "sent_at": now}
        for seat in seats
        for t in seat["crossed"]
    ]  # fmt: skip
    bulk_insert(conn, TABLE, pd.DataFrame(rows))
