"""The budget watch: after each committed run, the seats that have waited for budget
release longer than a threshold (RXSTAFF_BUDGET_WATCH_DAYS, 30 days by default) are sent
through the alert channels (webhook, e-mail), once per seat and threshold crossed.

A crossing is recorded as sent (``etl_budget_alert``) only once a channel took it, so a
watch that could not be sent is tried again by the next run. A watch never fails the run.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from rxstaff.flows import alerts
from rxstaff.flows.steps import run_logger
from rxstaff.settings import RunSettings
from rxstaff.warehouse.budget_watch import due, record_sent


@task(cache_policy=NO_CACHE)
def watch_budget(run: RunSettings) -> int:
    """Send the seats newly past a threshold; how many were sent."""
    channels = run.alerts
    if not run.budget_watch_days or not channels.any:
        return 0
    engine = run.warehouse.engine()
    try:
        with engine.begin() as conn:
            seats = due(conn, run.budget_watch_days)
            if not seats:
                return 0
            reached = alerts.send(message(run, seats), channels)
            if not reached:
                run_logger().error("the budget watch could not be sent; the next run tries again")
                return 0
            record_sent(conn, seats, run.run_id, reached)
    finally:
        engine.dispose()
    run_logger().info(f"budget watch: {len(seats)} seat(s) sent to {', '.join(reached)}")
    return len(seats)


def message(run: RunSettings, seats: list[dict[str, Any]]) -> dict[str, Any]:
    """One message for every seat newly past a threshold, each with its vacancy id, role,
    pharmacy model and days waiting (never a person)."""
    longest_first = sorted(seats, key=lambda s: -int(s["days_waiting"]))
    lines = [
        f"{s['vacancy_id']}: {s['job_title']}, {s['pharmacy_model']}, waiting "
        f"{s['days_waiting']} days for budget release (past {s['threshold_days']}; requested "
        f"{s['budget_requested_on']:%Y-%m-%d}, release {s['backfill_release_id']})"
        for s in longest_first
    ]
    return {
        "kind": "budget_watch",
        "subject": f"rxstaff budget watch: {len(seats)} seat(s) waiting for budget release",
        "run": f"nightly {run.run_date}",
        "what": "\n".join(lines),
        "where_to_look": "rxstaff trace VACANCY; the warehouse's fct_vacancy and "
        "etl_budget_alert rows",
        "seats": [
            {"vacancy_id": s["vacancy_id"], "role": s["job_title"],
             "pharmacy_model": s["pharmacy_model"], "days_waiting": int(s["days_waiting"]),
             "threshold_days": int(s["threshold_days"])}
            for s in longest_first
        ],
    }  # fmt: skip
