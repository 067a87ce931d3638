"""Building the warehouse models and BI views from staging, in SQL, in dependency order."""

from __future__ import annotations

from datetime import date
from importlib import resources

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse.loader import bulk_insert
from rxstaff.warehouse.schema import statements

VIEWS = [
    "mart_retention_annual",
    "mart_career_progression",
    "mart_new_positions",
    "mart_backfill_delays",
    "mart_engagement",
]


def model_scripts() -> list[tuple[str, str]]:
    """(name, sql) of each model, in the order their numeric prefixes give."""
    folder = resources.files("rxstaff.warehouse").joinpath("sql", "models")
    scripts = sorted(
        (e.name, e.read_text("utf-8")) for e in folder.iterdir() if e.name.endswith(".sql")
    )
    return [(name.split("_", 1)[1].removesuffix(".sql"), sql) for name, sql in scripts]


def view_sql(name: str, min_group_size: int) -> str:
    text = (
        resources.files("rxstaff.warehouse")
        .joinpath("sql", "views", f"{name}.sql")
        .read_text("utf-8")
    )
    return text.replace("{min_group_size}", str(int(min_group_size)))


def load_job_catalog(conn: sa.Connection, catalog: pd.DataFrame) -> None:
    conn.execute(sa.text("DELETE FROM dim_job"))
    bulk_insert(conn, "dim_job", catalog)


def _script(*parts: str) -> str:
    return resources.files("rxstaff.warehouse").joinpath("sql", *parts).read_text("utf-8")


def update_roster_changes(conn: sa.Connection, new_dates: list[date], corrected: bool) -> str:
    """Bring the compressed roster history up to date; how: append, refresh or none.

    A night that only adds snapshots later than any loaded appends them (cost: the
    night's rows). A correction, a snapshot older than the newest loaded, or a table not
    yet filled (a warehouse upgraded from schema 2) rebuilds it from all staged rows.
    """
    frontier, runs = conn.execute(
        sa.text("SELECT MAX(last_seen), COUNT(*) FROM int_roster_change")
    ).one()
    staged = conn.execute(sa.text("SELECT 1 FROM stg_roster LIMIT 1")).first() is not None
    stale = staged and not runs
    if corrected or stale or (new_dates and frontier and min(new_dates) <= frontier):
        for statement in statements(_script("roster_changes", "refresh.sql")):
            conn.execute(sa.text(statement))
        return "refresh"
    for day in sorted(set(new_dates)):
        for statement in statements(_script("roster_changes", "append.sql")):
            conn.execute(sa.text(statement), {"snapshot_date": day})
    return "append" if new_dates else "none"


def build_models(conn: sa.Connection, run_id: str) -> list[str]:
    """Rebuild every model from the compressed history and staging; the names built."""
    built = []
    for name, sql in model_scripts():
        for statement in statements(sql):
            params = {"run_id": run_id} if ":run_id" in statement else {}
            conn.execute(sa.text(statement), params)
        built.append(name)
    return built


def drop_views(conn: sa.Connection) -> None:
    """Drop the BI views, so that migrations may change the tables beneath them."""
    for name in VIEWS:
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {name}"))


def create_views(conn: sa.Connection, min_group_size: int) -> None:
    """(Re)create the BI views; names and columns are the stable interface."""
    drop_views(conn)
    for name in VIEWS:
        for statement in statements(view_sql(name, min_group_size)):
            conn.execute(sa.text(statement))
