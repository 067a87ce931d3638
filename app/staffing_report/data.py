"""What the report reads: the BI relations (marts live, or as a past run published them)
and, where the reader may see it, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    "jobs": "SELECT job_code, job_title, job_family, created_in_expansion FROM dim_job",
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
    "anomalies": """
        SELECT kind, COUNT(*) AS anomalies FROM etl_anomaly GROUP BY kind ORDER BY 2 DESC, 1""",
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
]


@dataclass
class Figures:
    frames: dict[str, pd.DataFrame]
    as_of_run: str | None  # the run whose published marts these are (None: live)
    audit: bool  # the reader may see the audit trail
    schema_version: int | None = None
    notes: list[str] = field(default_factory=list)


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
    if as_of_run is not None and published_by != as_of_run:
        figures.notes.append(
            f"run {as_of_run} changed nothing: its figures are those run {published_by} published"
        )
    return figures


def _read(conn: sa.Connection, sql: str) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn)


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
