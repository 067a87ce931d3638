"""The roster history model, ``int_roster_change``, kept up to date incrementally.

One row per employee per run of identical snapshots: a night that only adds snapshots
later than any loaded costs the night's rows, not five years'
(``models/intermediate/int_roster_change.append.sql``); anything else rebuilds it from
every staged row with its SELECT, like any model table.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import sqlalchemy as sa

from rxstaff.warehouse.build import build_table
from rxstaff.warehouse.declarations import declarations
from rxstaff.warehouse.schema import statements, summarize_new_roster_ranges

How = Literal["append", "refresh", "none"]
MODEL = "int_roster_change"


def update(conn: sa.Connection, new_dates: list[date], corrected: bool) -> How:
    """Bring the history up to date with this run's snapshots; how it was done.

    Only snapshots later than any loaded: append them. A correction, a snapshot older
    than the newest loaded, or a table not yet filled (a warehouse upgraded from schema
    2, a table recreated): rebuild from every staged row.
    """
    summarize_new_roster_ranges(conn)
    frontier, runs = conn.execute(sa.text(f"SELECT MAX(last_seen), COUNT(*) FROM {MODEL}")).one()
    staged = conn.execute(sa.text("SELECT 1 FROM stg_roster LIMIT 1")).first() is not None
    stale = staged and not runs
    decl = declarations()[MODEL]
    if corrected or stale or (new_dates and frontier and min(new_dates) <= frontier):
        build_table(conn, decl)
        return "refresh"
    for day in sorted(set(new_dates)):
        for statement in statements(decl.script("append")):
            conn.execute(sa.text(statement), {"snapshot_date": day})
    return "append" if new_dates else "none"
