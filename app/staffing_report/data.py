"""What the report reads: the BI relations (marts live, or as a past run published them)
and, where the reader may see it, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse.published import as_published

QUERIES = {
    "vacancies_waiting": """
        SELECT v.vacancy_id, v.job_code, j.job_title, v.pharmacy_model, v.opened_on,
               v.budget_requested_on, v.backfill_release_id, v.opened_batch_id,
               v.opened_row_number
        FROM fct_vacancy AS v JOIN dim_job AS j ON j.job_code = v.job_code
        WHERE v.state = 'awaiting_budget'""",
    "headcount_new_roles": """
        SELECT h.month_end, h.job_code, SUM(h.headcount) AS headcount
        FROM fct_headcount_monthly AS h JOIN dim_job AS j ON j.job_code = h.job_code
        WHERE j.created_in_expansion
        GROUP BY h.month_end, h.job_code""",
    "jobs": """
        SELECT job_code, job_title, job_family, ladder_level, created_in_expansion
        FROM dim_job""",
    # a step of the ladder as people: each employee once per move, over every year
    "promoted_people": """
        SELECT from_job_code, to_job_code, COUNT(DISTINCT employee_key) AS people
        FROM fct_career_event WHERE event_type = 'promotion'
        GROUP BY from_job_code, to_job_code""",
    "open_vacancies": """
        SELECT v.vacancy_id, v.job_code, v.pharmacy_model, v.open_reason, v.state,
               v.opened_on, v.budget_requested_on, v.budget_amount, v.fte
        FROM fct_vacancy AS v WHERE v.closed_on IS NULL""",
    # seats a promotion left whose backfill budget was never asked for
    "promotion_seats_unrequested": """
        SELECT v.vacancy_id, v.job_code, v.opened_on, v.closed_on
        FROM fct_vacancy AS v
        WHERE v.open_reason = 'internal_move' AND v.budget_requests = 0
          AND EXISTS (SELECT 1 FROM fct_career_event AS e
                      WHERE e.event_type = 'promotion' AND e.from_position_id = v.position_id
                        AND e.event_date = v.opened_on)""",
    "first_month_end": "SELECT MIN(month_end) AS first_month_end FROM fct_headcount_monthly",
}
AUDIT_QUERIES = {
    "runs": """
        SELECT run_id, run_date, status, files_loaded, files_rejected, rows_loaded,
               rows_quarantined, started_at
        FROM etl_run ORDER BY started_at DESC""",
    "files": """
        SELECT source, COUNT(*) AS files, SUM(rows_read) AS rows_read,
               SUM(rows_loaded) AS rows_loaded, SUM(rows_quarantined) AS rows_quarantined,
               SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS files_rejected
        FROM etl_batch WHERE superseded_by IS NULL GROUP BY source ORDER BY source""",
    "quarantine": """
        SELECT rule, COUNT(*) AS rows FROM etl_quarantine GROUP BY rule ORDER BY 2 DESC, 1""",
    "quarantined_rows": """
        SELECT COUNT(*) AS rows
        FROM (SELECT DISTINCT batch_id, row_number FROM etl_quarantine) AS q""",
    "anomalies": """
        SELECT kind, COUNT(*) AS anomalies FROM etl_anomaly GROUP BY kind ORDER BY 2 DESC, 1""",
    "roster_dates": """
        SELECT DISTINCT file_date FROM etl_batch
        WHERE source = 'roster' AND status = 'loaded' AND superseded_by IS NULL
        ORDER BY file_date""",
    "coverage": """
        SELECT MIN(file_date) AS first_snapshot_date, MAX(file_date) AS as_of_date
        FROM etl_batch WHERE source = 'roster' AND status = 'loaded' AND superseded_by IS NULL""",
}
MARTS = [
    "mart_career_progression",
    "mart_retention_annual",
    "mart_new_positions",
    "mart_role_by_model",
    "mart_backfill_delays",
    "mart_vacancy_backlog",
    "mart_role_early_exit",
    "mart_engagement",
    "mart_engagement_item",
    "mart_engagement_drivers",
    "mart_engagement_retention",
    "mart_role_readiness",
    "mart_freshness",
    "mart_pathway_outcomes",
    "mart_new_hire_retention",
    "mart_retention_by_promotion",
    "mart_promotion_timing",
]


# Readiness with its n: spells with required training followed for 90 days, the figure
# mart_role_readiness divides by but does not state.
READINESS = """
    SELECT EXTRACT(YEAR FROM started_on) AS year, created_in_expansion,
           COUNT(*) AS followed,
           SUM(CASE WHEN days_to_proficiency <= 90 THEN 1 ELSE 0 END) AS proficient,
           MEDIAN(days_to_proficiency) AS median_days
    FROM fct_role_spell
    WHERE required_courses > 0 AND started_on >= :first AND started_on <= :as_of - 90
    GROUP BY 1, 2 ORDER BY 1, 2"""


@dataclass
class Figures:
    frames: dict[str, pd.DataFrame]
    as_of_run: str | None  # the run whose published marts these are (None: live)
    audit: bool  # the reader may see the audit trail
    schema_version: int | None = None
    notes: list[str] = field(default_factory=list)
    first_snapshot: date | None = None  # None where the reader cannot see etl_batch
    first_month: date | None = None
    as_of: date | None = None


def read_figures(conn: sa.Connection, as_of_run: str | None = None) -> Figures:
    """Every frame the pages need. With ``as_of_run`` the marts are read as that run
    published them (etl_metric_snapshot); facts and the audit trail are read as they are."""
    frames: dict[str, pd.DataFrame] = {}
    published_by = None
    for name in MARTS:
        if as_of_run is None:
            frames[name] = _read(conn, f"SELECT * FROM {name}")
        else:
            published_by, frames[name] = as_published(conn, name, as_of_run)
    for name, sql in QUERIES.items():
        frames[name] = _read(conn, sql)
    audit = _may_read(conn, "etl_run")
    if audit:
        for name, sql in AUDIT_QUERIES.items():
            frames[name] = _read(conn, sql)
    figures = Figures(frames, published_by, audit, _schema_version(conn))
    _cover(figures)
    frames["readiness"] = _readiness(conn, figures)
    if as_of_run is not None and published_by != as_of_run:
        figures.notes.append(
            f"run {as_of_run} changed nothing: its figures are those run {published_by} published"
        )
    return figures


def _read(conn: sa.Connection, sql: str, **params: date) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn, params=params)


def _cover(figures: Figures) -> None:
    """The window the data covers: first snapshot (from the audit trail where readable),
    first month end of the history, and as_of_date (the latest roster snapshot)."""
    frames = figures.frames
    if figures.audit and len(frames["coverage"]):
        figures.first_snapshot = _day(frames["coverage"].first_snapshot_date.iloc[0])
    figures.first_month = _day(frames["first_month_end"].first_month_end.iloc[0])
    roster = frames["mart_freshness"]
    roster = roster[roster.source == "roster"]
    figures.as_of = _day(roster.latest_file_date.iloc[0]) if len(roster) else None


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _readiness(conn: sa.Connection, figures: Figures) -> pd.DataFrame:
    first = figures.first_snapshot or figures.first_month
    if first is None or figures.as_of is None:
        return pd.DataFrame()
    sql = (
        READINESS
        if conn.dialect.name == "duckdb"
        else READINESS.replace(
            "MEDIAN(days_to_proficiency)",
            "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY days_to_proficiency)",
        )
    )
    frame = _read(conn, sql, first=first, as_of=figures.as_of)
    return frame.astype({"year": int}) if len(frame) else frame


def _may_read(conn: sa.Connection, relation: str) -> bool:
    """Whether this reader sees ``relation`` (a BI copy or role does not see etl_*)."""
    if not sa.inspect(conn).has_table(relation):
        return False
    if conn.dialect.name != "postgresql":
        return True  # DuckDB: a file holds a relation or not (no grants)
    try:
        with conn.begin_nested():  # a refusal must not abort the reader's transaction
            conn.execute(sa.text(f"SELECT 1 FROM {relation} LIMIT 1"))
    except sa.exc.DBAPIError:
        return False
    return True


def _schema_version(conn: sa.Connection) -> int | None:
    if not _may_read(conn, "rxstaff_schema_version"):
        return None
    return conn.execute(sa.text("SELECT MAX(version) FROM rxstaff_schema_version")).scalar()
