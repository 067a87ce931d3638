"""Every run is recorded; a stale or empty landing folder fails the run once loaded;
mart_freshness tells how fresh each source is (contract v2)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import query, run_nightly


def newest_roster(landing: Path) -> date:
    return max(
        date.fromisoformat(p.stem.removeprefix("roster_"))
        for p in (landing / "roster").glob("*.csv")
    )


def test_a_stale_landing_loads_what_is_there_and_fails_saying_why(
    landing_small: Path, tmp_path: Path
) -> None:
    db, newest = tmp_path / "w.duckdb", newest_roster(landing_small)
    run_day = newest + timedelta(days=11)  # one day past the default ten
    code, summary = run_nightly(landing_small, db, run_date=run_day, max_roster_age_days=None)
    assert code == 1
    assert summary.landing_problem and summary.landing_problem[0] == "stale landing"
    assert str(newest) in summary.landing_problem[1] and "11 days" in summary.landing_problem[1]
    assert summary.sources["roster"].files_loaded > 0  # what was there is loaded
    run = query(db, "SELECT status, error, files_loaded FROM etl_run")
    assert list(run.status) == ["stale landing"] and run.files_loaded[0] > 0
    assert str(newest) in run.error[0]
    assert query(db, "SELECT COUNT(*) AS n FROM fct_career_event").n[0] > 0

    # Ten days is still fresh, and a later run with nothing new is judged the same way.
    fresh = run_nightly(
        landing_small, db, run_date=newest + timedelta(days=10), max_roster_age_days=None
    )
    assert fresh[0] == 0


def test_an_empty_landing_folder_fails_and_is_recorded(tmp_path: Path) -> None:
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    (landing / "roster").mkdir(parents=True)
    (landing / "roster" / "notes.txt").write_text("not an extract")
    code, summary = run_nightly(landing, db)
    assert code == 1 and summary.landing_problem
    assert summary.landing_problem[0] == "empty landing"
    run = query(db, "SELECT status, error FROM etl_run")
    assert list(run.status) == ["empty landing"] and "no file" in run.error[0]


@pytest.mark.usefixtures("prefect_server")
def test_every_run_records_its_flow_run_id(landing_small: Path, tmp_path: Path) -> None:
    from rxstaff.flows.nightly import nightly

    db = tmp_path / "w.duckdb"
    state = nightly(
        landing=str(landing_small),
        warehouse=f"duckdb:///{db}",
        run_date=date(2030, 1, 1),
        max_roster_age_days=36500,
        return_state=True,
    )
    ids = query(db, "SELECT flow_run_id FROM etl_run").flow_run_id
    assert list(ids) == [str(state.state_details.flow_run_id)]


def test_freshness_per_source(landing_small: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    budget = sorted((landing_small / "budget").glob("*.csv"))[-1]
    aside = tmp_path / budget.name
    shutil.move(budget, aside)
    assert run_nightly(landing_small, db)[0] == 0
    shutil.move(aside, budget)  # the newest budget file arrives the next night
    assert run_nightly(landing_small, db)[0] == 0

    fresh = query(db, "SELECT * FROM mart_freshness ORDER BY source").set_index("source")
    batches = query(db, "SELECT * FROM etl_batch WHERE status = 'loaded'")
    live = batches[batches.superseded_by.isna()]
    expected_sources = sorted(set(live.source) - {"survey_items"})
    assert list(fresh.index) == expected_sources
    for source in expected_sources:
        mine = live[live.source == source]
        newest = pd.to_datetime(mine.file_date).max().date()
        if source == "survey":
            newest = date(newest.year, 12, 31)
        assert pd.Timestamp(fresh.loc[source, "latest_file_date"]).date() == newest
        assert fresh.loc[source, "files_loaded"] == len(mine)
        assert fresh.loc[source, "latest_loaded_at"] == mine.finished_at.max()
        last_run = mine.sort_values("started_at").run_id.iloc[-1]
        quarantined = batches[(batches.source == source) & (batches.run_id == last_run)]
        assert fresh.loc[source, "rows_quarantined_last_run"] == quarantined.rows_quarantined.sum()
    assert pd.Timestamp(fresh.loc["budget", "latest_file_date"]).date() == date.fromisoformat(
        budget.stem.removeprefix("budget_releases_")
    )
    kinds = query(db, "SELECT DISTINCT typeof(latest_file_date) AS t FROM mart_freshness").t
    assert list(kinds) == ["DATE"]  # the contract's dates are dates
