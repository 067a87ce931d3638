"""Helpers shared by the tests: run the real flow, read a real warehouse."""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from rxstaff.warehouse.dictionary import documented
from rxstaff.warehouse.json_text import plain
from rxstaff.warehouse.published import grain, marts
from rxstaff.warehouse.runs import RunSummary, summary_of

# The BI interface and audit trail, as the warehouse declares them (warehouse/models/*.yml,
# warehouse/audit/*.yml); test_contract.py holds the declarations to docs/contracts/.
# Columns that name batches or the time of loading differ between two loads of the same
# files: comparisons of two warehouses leave them out.
RUN_DEPENDENT = (
    "source_batch_id",
    "source_row_number",
    "opened_batch_id",
    "closed_batch_id",
    "latest_loaded_at",
)
CONTRACT = {d.name: [c for c in d.column_names if c not in RUN_DEPENDENT] for d in documented()}
# What the generator records of each planted event: the event's columns but the model.
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


def run_nightly(
    landing: Path, db: Path | str, prefect: bool = False, **options
) -> tuple[int, RunSummary | BaseException]:
    """Run the real night (exit code as the CLI gives it, summary or error): its steps as
    plain calls, as `rxstaff nightly` does without a Prefect server, or, with ``prefect``,
    the Prefect flow on the session's test server."""
    from rxstaff.flows.nightly import nightly, run_night
    from rxstaff.settings import RunRequest, resolve

    url = db if isinstance(db, str) else f"duckdb:///{db}"
    # Tests replay history on a run date after every file; staleness has tests of its own.
    options.setdefault("run_date", date(2030, 1, 1))
    options.setdefault("max_roster_age_days", 100 * 365)
    result: object
    if prefect:
        state = nightly(landing=str(landing), warehouse=url, return_state=True, **options)
        result = summary_of(state.result(raise_on_failure=False))
    else:
        try:
            result = run_night(resolve(RunRequest(landing=str(landing), warehouse=url, **options)))
        except Exception as error:
            result = error
    if isinstance(result, RunSummary):
        return result.exit_code, result
    return 2, result


def generated(
    factory: Any, name: str, employees: int, start: str, end: str, seed: int, bad_rows: float = 0.0
) -> Path:
    """A landing folder of a generated pharmacy, in a new temporary folder of ``factory``
    (pytest's tmp_path_factory)."""
    from rxstaff.sample import Options, generate

    out = factory.mktemp(name)
    generate(Options(out, employees, date.fromisoformat(start), date.fromisoformat(end),
                     seed=seed, bad_rows=bad_rows))  # fmt: skip
    return out


@contextmanager
def reader_role(url: str, prefix: str = "rxstaff_reader") -> Iterator[tuple[sa.Engine, str]]:
    """A fresh role name on the PostgreSQL warehouse at ``url``, with an engine of its
    owner; whatever the role owns, and the role, are dropped afterwards."""
    role = f"{prefix}_{uuid.uuid4().hex[:8]}"
    owner = sa.create_engine(url)
    try:
        yield owner, role
    finally:
        with owner.begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        owner.dispose()


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def query(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def read(url: str, sql: str) -> pd.DataFrame:
    """A query's rows from any warehouse URL (DuckDB or PostgreSQL), the engine closed
    after (DuckDB: the next run may open the file)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn)
    finally:
        engine.dispose()


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


def key_violations(read: Callable[[str], pd.DataFrame]) -> list[str]:
    """Every declared key that does not hold: duplicate unique keys, nulls in not-null."""
    from rxstaff.warehouse.declarations import declarations

    found = []
    for decl in declarations().values():
        for key in decl.unique:
            columns = ", ".join(key)
            dups = read(
                f"SELECT COUNT(*) AS n FROM (SELECT {columns} FROM {decl.name} "
                f"GROUP BY {columns} HAVING COUNT(*) > 1) AS d"
            )
            if int(dups.n.iloc[0]):
                found.append(f"{decl.name}: ({columns}) is not unique")
        for column in (c.name for c in decl.columns if c.not_null):
            nulls = read(f"SELECT COUNT(*) AS n FROM {decl.name} WHERE {column} IS NULL")
            if int(nulls.n.iloc[0]):
                found.append(f"{decl.name}.{column} has nulls")
    return found


def live_marts(url: str) -> dict[str, pd.DataFrame]:
    """Every mart as BI reads it right now, values as the audit trail writes them."""
    engine = sa.create_engine(url)  # closed before the next run opens the file
    try:
        with engine.connect() as conn:
            return {
                d.name: canonical(pd.read_sql(sa.text(f"SELECT * FROM {d.name}"), conn), grain(d))
                for d in marts()
            }
    finally:
        engine.dispose()


def canonical(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame.astype(object).map(lambda v: plain(None if v is pd.NaT else v))
    frame = frame.where(frame.notna(), None)
    return frame.sort_values(keys).reset_index(drop=True)


def chromium() -> str | None:
    """The Chromium the report prints with, as a user's settings name it
    ($RXSTAFF_CHROMIUM, else the first on PATH)."""
    from rxstaff.staffing_report.options import from_environment
    from rxstaff.staffing_report.render import find_chromium

    return find_chromium(from_environment().chromium)


needs_chromium = pytest.mark.skipif(
    chromium() is None,
    reason="no Chromium: install Debian's chromium (.ci/run does) or set RXSTAFF_CHROMIUM",
)
