"""The roster history kept compressed to its changes (``int_roster_change``), incrementally.

One row per employee per run of identical snapshots: a night that only adds snapshots
later than any loaded costs the night's rows, not five years'.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Literal

import sqlalchemy as sa

from rxstaff.warehouse.schema import statements, summarize_new_roster_ranges

How = Literal["append", "refresh", "none"]


def _script(name: str) -> list[str]:
    path = resources.files("rxstaff.warehouse").joinpath("roster_history", f"{name}.sql")
    return statements(path.read_text("utf-8"))


def update(conn: sa.Connection, new_dates: list[date], corrected: bool) -> How:
    """Bring the history up to date with this run's snapshots; how it was done.

    Only snapshots later than any loaded: append them. A correction, a snapshot older
    than the newest loaded, or a table not yet filled (a warehouse upgraded from schema
    2): rebuild from every staged row.
    """
    summarize_new_roster_ranges(conn)
    frontier, runs = conn.execute(
        sa.text("SELECT MAX(last_seen), COUNT(*) FROM int_roster_change")
    ).one()
    staged = conn.execute(sa.text("SELECT 1 FROM stg_roster LIMIT 1")).first() is not None
    stale = staged and not runs
    if corrected or stale or (new_dates and frontier and min(new_dates) <= frontier):
        for statement in _script("refresh"):
            conn.execute(sa.text(statement))
        return "refresh"
    for day in sorted(set(new_dates)):
        for statement in _script("append"):
            conn.execute(sa.text(statement), {"snapshot_date": day})
    return "append" if new_dates else "none"
