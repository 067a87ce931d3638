"""A run validated by SQL (over 4 MiB of new files: a large night, a history load) hands
its Great Expectations work to a companion process: the same results as validating in the
run's process, and a failure there still fails the run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import rxstaff.expectations.suite as suite_module
import rxstaff.flows.staging as staging_module
from rxstaff.expectations.results import ALL_PAGES_MAX
from tests.helpers import query, run_nightly, snapshot_except_audit


@pytest.fixture
def history_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the small landing folder over the "auto" threshold of validation by SQL."""
    monkeypatch.setattr(suite_module, "AUTO_GX_MAX_BYTES", 10_000)
    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")  # the default, which conftest turns off


@pytest.mark.usefixtures("history_load")
def test_a_history_load_is_checked_by_great_expectations_in_a_companion_process(
    landing_small: Path, tmp_path: Path
) -> None:
    in_process = run_nightly(landing_small, tmp_path / "sql.duckdb", validation="sql", dask="off")
    beside = run_nightly(landing_small, tmp_path / "auto.duckdb", dask="off")
    assert in_process[0] == beside[0] == 0, (in_process, beside)
    for name, tally in beside[1].sources.items():
        if tally.files_loaded:
            assert tally.gx_sample_rows == in_process[1].sources[name].gx_sample_rows > 0, name
    engines = query(tmp_path / "auto.duckdb", "SELECT DISTINCT validated_with FROM etl_batch")
    assert list(engines.validated_with) == ["sql"]  # every source of a history load
    for table in ("stg_roster", "etl_quarantine", "fct_role_spell"):
        pd.testing.assert_frame_equal(
            rows(tmp_path / "sql.duckdb", table), rows(tmp_path / "auto.duckdb", table), obj=table
        )
    docs = Path(beside[1].validation_docs)
    assert docs.is_file() and docs.is_relative_to(tmp_path / "auto.gx")
    stored = list((tmp_path / "auto.gx").rglob("validations/**/*.json"))
    files = query(tmp_path / "auto.duckdb", "SELECT count(*) AS n FROM etl_batch").n[0]
    assert len(stored) == files  # the companion stored every file's result
    # Data Docs start once the loads are done, beside the build: every result has a page
    pages = list((tmp_path / "auto.gx").rglob("data_docs/local_site/validations/**/*.html"))
    assert files <= ALL_PAGES_MAX and len(pages) == files


@pytest.mark.usefixtures("history_load")
def test_a_check_that_fails_in_the_companion_fails_the_run_all_or_nothing(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import hold_back_rosters

    db = tmp_path / "w.duckdb"
    _, arrive = hold_back_rosters(landing_small, 4)
    assert run_nightly(landing_small, db, validation="gx")[0] == 0
    before = snapshot_except_audit(db)
    arrive()
    real = staging_module.Validation.cross_check

    def broken_sample(validation, *args) -> int:
        # An injected fault: GX cannot run the suite on a sample without its columns.
        validation.samples = [
            s.drop(columns=["employee_id"], errors="ignore") for s in validation.samples
        ]
        return real(validation, *args)

    monkeypatch.setattr(staging_module.Validation, "cross_check", broken_sample)
    code, error = run_nightly(landing_small, db)
    assert code == 2 and "employee_id" in str(error), error
    after = snapshot_except_audit(db)
    assert before.keys() == after.keys()
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


def test_a_large_night_is_validated_by_sql_beside_gx_and_committed_in_place(
    tmp_path: Path,
) -> None:
    from datetime import date

    from rxstaff.sample import Options, generate

    # 26,000 employees: each weekly roster is over 4 MiB, a night far under a history load
    landing = tmp_path / "landing"
    generate(Options(landing, 26_000, date(2024, 1, 1), date(2024, 1, 14), seed=3))
    night = landing / "roster" / "roster_2024-01-08.csv"
    assert night.stat().st_size > suite_module.AUTO_GX_MAX_BYTES
    db = tmp_path / "w.duckdb"
    assert run_nightly(landing, db, run_date=date(2024, 1, 7))[0] == 0
    in_place = db.stat().st_ino
    code, summary = run_nightly(landing, db, run_date=date(2024, 1, 14))
    assert code == 0, summary
    assert summary.sources["roster"].gx_sample_rows > 0  # GX checked a sample, beside it
    night_batch = query(
        db, "SELECT validated_with FROM etl_batch WHERE file_name = 'roster/roster_2024-01-08.csv'"
    )
    assert list(night_batch.validated_with) == ["sql"]
    assert db.stat().st_ino == in_place  # not a history load: no private copy renamed over it


def rows(db: Path, table: str) -> pd.DataFrame:
    """A table's rows in order, without the batch ids (two runs number them alike, but a
    table need not carry them)."""
    frame = query(db, f"SELECT * FROM {table} ORDER BY ALL")
    return frame.drop(columns=["batch_id"], errors="ignore")
