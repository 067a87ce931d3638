"""Helpers shared by the tests: run the real flow, read a real warehouse."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from rxstaff.flows.summary import RunRejectedFiles, RunSummary

# The BI contract (warehouse.md): relation -> its columns. Tests check the warehouse
# against this copy; the product never reads the contract file.
CONTRACT = {
    "dim_date": ["date_day", "year", "quarter", "month", "month_end", "iso_week"],
    "dim_job": [
        "job_code",
        "job_title",
        "job_family",
        "ladder_level",
        "grade",
        "created_in_expansion",
    ],
    "dim_employee": [
        "employee_key",
        "job_code",
        "position_id",
        "pharmacy_model",
        "department",
        "fte",
        "employment_status",
        "hire_date",
        "valid_from",
        "valid_to",
        "is_current",
    ],
    "fct_career_event": [
        "event_date",
        "employee_key",
        "event_type",
        "from_job_code",
        "to_job_code",
        "from_position_id",
        "to_position_id",
        "pharmacy_model",
        "termination_type",
    ],
    "fct_budget_release": [
        "release_id",
        "position_id",
        "action",
        "job_code",
        "pharmacy_model",
        "fte",
        "annual_amount",
        "requested_date",
        "released_date",
        "status",
        "days_to_release",
    ],
    "fct_vacancy": [
        "position_id",
        "job_code",
        "pharmacy_model",
        "opened_on",
        "open_reason",
        "backfill_release_id",
        "budget_requested_on",
        "budget_released_on",
        "closed_on",
        "filled_internally",
        "days_to_fill",
        "days_waiting_for_budget",
    ],
    "fct_headcount_monthly": ["month_end", "job_code", "pharmacy_model", "headcount", "fte"],
    "mart_retention_annual": [
        "year",
        "job_family",
        "start_headcount",
        "avg_headcount",
        "separations",
        "voluntary_separations",
        "turnover_rate",
        "voluntary_turnover_rate",
        "retention_rate",
    ],
    "mart_career_progression": [
        "year",
        "from_job_code",
        "to_job_code",
        "event_type",
        "employees",
        "moves",
    ],
    "mart_new_positions": [
        "year",
        "job_code",
        "job_title",
        "created_in_expansion",
        "positions",
        "fte",
        "annual_amount",
    ],
    "mart_backfill_delays": [
        "year",
        "job_family",
        "vacancies_opened",
        "vacancies_filled",
        "median_days_to_fill",
        "p90_days_to_fill",
        "median_days_waiting_for_budget",
        "open_at_year_end",
    ],
    "mart_engagement": [
        "survey_year",
        "group_by",
        "group_value",
        "respondents",
        "engagement_index",
        "career_growth_index",
        "favorable_pct",
        "suppressed",
    ],
    "etl_batch": [
        "batch_id",
        "source",
        "file_name",
        "sha256",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "started_at",
        "finished_at",
        "status",
        "superseded_by",
    ],
    "etl_quarantine": ["batch_id", "row_number", "rule", "detail"],
    "etl_anomaly": [],
}
# What the generator records of each planted event: the contract's columns but the model.
EVENT_COLUMNS = [c for c in CONTRACT["fct_career_event"] if c != "pharmacy_model"]
PIPELINE_RELATIONS = [
    "dim_date",
    "dim_job",
    "dim_employee",
    "fct_career_event",
    "fct_budget_release",
    "etl_batch",
    "etl_quarantine",
    "etl_anomaly",
]


def run_nightly(landing: Path, db: Path | str, **options) -> tuple[int, RunSummary | BaseException]:
    """Run the real Prefect flow; (exit code as the CLI gives it, summary or error)."""
    from rxstaff.flows.nightly import nightly

    url = db if isinstance(db, str) else f"duckdb:///{db}"
    options.setdefault("run_date", date(2030, 1, 1))
    state = nightly(landing=str(landing), warehouse=url, return_state=True, **options)
    result = state.result(raise_on_failure=False)
    if isinstance(result, RunSummary):
        return result.exit_code, result
    if isinstance(result, RunRejectedFiles):
        return result.summary.exit_code, result.summary
    return 2, result


def query(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def table(db: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A relation's rows in a canonical order, for comparisons."""
    cols = ", ".join(columns) if columns else "*"
    frame = query(db, f"SELECT {cols} FROM {name}")
    frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def snapshot(db: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    return {name: table(db, name) for name in names}


AUDIT_TABLES = ("etl_batch", "etl_run")  # where a failed run is itself recorded


def snapshot_except_audit(db: Path) -> dict[str, pd.DataFrame]:
    """Every table but the audit trail: what a failed run must leave as it was."""
    return snapshot(db, [t for t in all_tables(db) if t not in AUDIT_TABLES])


def all_tables(db: Path) -> list[str]:
    frame = query(
        db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    )
    return sorted(frame["table_name"])


def assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_dtype=False, obj=name)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as plain values (dates as ISO text, decimals as floats), sorted: for comparing
    the same relation read from DuckDB and PostgreSQL."""

    def plain(value):
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
            return None
        if hasattr(value, "as_tuple"):  # Decimal
            return float(value)
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat() if value == value.normalize() else value.isoformat()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if hasattr(value, "item"):  # numpy scalar
            return value.item()
        return value

    out = frame.astype(object).apply(lambda column: column.map(plain))
    out = out.astype(object).where(out.notna(), None)
    return out.sort_values(list(out.columns), key=lambda s: s.astype(str)).reset_index(drop=True)


def hold_back_rosters(landing: Path, count: int) -> tuple[list[Path], Callable[[], None]]:
    """Move the newest roster files aside (they "arrive" later); (their paths, restore)."""
    newest = sorted((landing / "roster").glob("*.csv"))[-count:]
    aside = landing.parent / f"{landing.name}-held-back"
    aside.mkdir(exist_ok=True)
    for path in newest:
        shutil.move(path, aside / path.name)

    def restore() -> None:
        for path in newest:
            shutil.move(aside / path.name, path)

    return newest, restore
