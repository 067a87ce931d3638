"""A night rebuilds only what its files changed, and publishes what a full rebuild would.

Two nights of the real flow on a real DuckDB file and a real PostgreSQL: the second adds
one roster snapshot. The survey's models and marts read nothing it changed and are left
as they were; every model table still holds, row for row, what rebuilding every model
gives, and every mart's published snapshot is the mart as BI reads it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from rxstaff.warehouse import build, fingerprint
from rxstaff.warehouse.declarations import DeclarationError, check_lineage, of_kind, relations_read
from rxstaff.warehouse.published import as_published, grain, marts
from tests.helpers import (
    canonical,
    comparable,
    generated,
    hold_back_rosters,
    live_marts,
    run_nightly,
)

SURVEY_MODELS = ["dim_survey_item", "int_survey_group_member", "int_survey_respondent_score"]
SURVEY_MARTS = ["mart_engagement", "mart_engagement_drivers", "mart_engagement_item"]


@pytest.fixture(scope="module")
def landing_with_survey_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight months of a small pharmacy, its 2023 survey among them."""
    out = generated(tmp_path_factory, "landing_survey", 40, "2023-06-05", "2024-01-29", seed=5)
    assert list((out / "survey").glob("engagement_survey_*.csv"))
    return out


def kept(url: str, prefix: str) -> dict[str, str]:
    """The stored fingerprints, without the run a published one names."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {k: v.split("@")[0] for k, v in fingerprint.stored(conn, prefix).items()}
    finally:
        engine.dispose()


def model_tables(conn: sa.Connection) -> dict[str, pd.DataFrame]:
    return {
        d.name: comparable(pd.read_sql(sa.text(f"SELECT * FROM {d.name}"), conn))
        for d in of_kind("table")
    }


def test_a_roster_night_rebuilds_only_what_it_changed_and_equals_a_full_rebuild(
    landing_with_survey_master: Path, tmp_path: Path, url: str
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(landing_with_survey_master, landing)
    _, arrive = hold_back_rosters(landing, 1)
    assert run_nightly(landing, url)[0] == 0
    built_before = kept(url, fingerprint.BUILT_FROM)
    published_before = kept(url, fingerprint.PUBLISHED_FROM)
    assert set(built_before) == {d.name for d in of_kind("table")}

    arrive()
    code, summary = run_nightly(landing, url)
    assert code == 0 and summary.sources["roster"].files_loaded == 1
    built_after = kept(url, fingerprint.BUILT_FROM)
    published_after = kept(url, fingerprint.PUBLISHED_FROM)
    # What the night left alone: the survey's models and marts read nothing it changed.
    for name in SURVEY_MODELS:
        assert built_after[name] == built_before[name], name
    for name in SURVEY_MARTS:
        assert published_after[name] == published_before[name], name
    # And what it did not: the roster's models and marts.
    assert built_after["dim_employee"] != built_before["dim_employee"]
    assert published_after["mart_role_by_model"] != published_before["mart_role_by_model"]

    seen = live_marts(url)
    assert len(seen["mart_engagement"]) > 0, "the survey should give engagement figures"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for decl in marts():  # the kept snapshot, copied or computed, is the mart
                _, frame = as_published(conn, decl.name)
                pd.testing.assert_frame_equal(
                    canonical(frame, grain(decl)), seen[decl.name], obj=decl.name
                )
            incremental = model_tables(conn)
            fingerprint.forget_stored(conn, fingerprint.BUILT_FROM)
            full = build.build_tables(conn)
            assert full.unchanged == [] and len(full.rebuilt) == len(incremental)
            rebuilt = model_tables(conn)
            for name, frame in incremental.items():
                pd.testing.assert_frame_equal(frame, rebuilt[name], obj=name)
            conn.rollback()
    finally:
        engine.dispose()


def test_a_model_table_changed_since_it_was_built_is_built_again(
    tmp_path: Path, warehouse_3y: Path
) -> None:
    """Its inputs are as they were, yet its rows are not what they give: a new version
    recreated it empty (new columns), or someone (an older rxstaff, a hand edit) changed
    it."""
    db = tmp_path / "w.duckdb"
    shutil.copy(warehouse_3y, db)
    engine = sa.create_engine(f"duckdb:///{db}")
    try:
        with engine.connect() as conn:
            assert build.build_tables(conn).rebuilt == []  # as the night left it
            rows = conn.execute(sa.text("SELECT COUNT(*) FROM fct_training")).scalar()
            conn.execute(sa.text("DELETE FROM fct_training WHERE rowid % 7 = 0"))
            assert build.build_tables(conn).rebuilt[0] == "fct_training"
            assert conn.execute(sa.text("SELECT COUNT(*) FROM fct_training")).scalar() == rows

            build.drop_views(conn)
            conn.execute(sa.text("ALTER TABLE fct_training ADD COLUMN retired INTEGER"))
            assert build.ensure_tables(conn) == ["fct_training"]
            assert build.build_tables(conn).rebuilt[0] == "fct_training"
            assert conn.execute(sa.text("SELECT COUNT(*) FROM fct_training")).scalar() == rows
    finally:
        engine.dispose()


def test_a_content_fingerprint_sees_any_change_and_no_order(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (k INTEGER, d DATE, v TEXT)"))

            def fill(rows: list[tuple[int, str | None, str | None]]) -> str:
                conn.execute(sa.text("DELETE FROM t"))
                for k, d, v in rows:
                    conn.execute(
                        sa.text("INSERT INTO t VALUES (:k, CAST(:d AS DATE), :v)"),
                        {"k": k, "d": d, "v": v},
                    )
                return fingerprint.content(conn, "t")

            rows = [(1, "2024-01-01", "a"), (2, None, "b"), (3, "2024-03-01", None)]
            first = fill(rows)
            assert fill(list(reversed(rows))) == first  # order is not content
            assert fill([*rows[:2], (3, "2024-03-02", None)]) != first  # one date
            assert fill([*rows[:2], (3, "2024-03-01", "")]) != first  # null is not empty
            assert fill([*rows, rows[0]]) != first  # a duplicate row counts
            assert fill([*rows, rows[0], rows[0]]) != fill([*rows])  # and does not cancel
            assert fill([]) == "0:0"
    finally:
        engine.dispose()


def test_every_model_declares_exactly_what_its_sql_reads() -> None:
    sql = """
        -- a comment's quote ' and FROM commented_out
        WITH recent AS (SELECT * FROM stg_roster WHERE note <> 'FROM literal_table'),
        spells AS MATERIALIZED (SELECT * FROM recent)
        SELECT CAST(EXTRACT(YEAR FROM r.snapshot_date) AS INTEGER) AS year
        FROM spells AS r
        JOIN dim_job AS j ON j.job_code IS DISTINCT FROM r.job_code
        LEFT JOIN int_career_path AS p ON TRUE  -- trailing FROM nothing_here
    """
    assert relations_read(sql) == {"stg_roster", "dim_job", "int_career_path"}
    comma = "SELECT * FROM bounds AS b, fct_vacancy AS v, generate_series(1, 2) AS g(n)"
    assert relations_read(comma) == {"bounds", "fct_vacancy"}
    check_lineage("m", sql, ("dim_job", "int_career_path", "stg_roster"))
    with pytest.raises(DeclarationError, match="read but not declared: stg_roster"):
        check_lineage("m", sql, ("dim_job", "int_career_path"))
    with pytest.raises(DeclarationError, match="declared but not read: etl_batch"):
        check_lineage("m", sql, ("dim_job", "int_career_path", "stg_roster", "etl_batch"))
