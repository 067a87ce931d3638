"""The nightly pipeline end to end: real Prefect flow runs into real DuckDB files."""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import rxstaff.flows.staging as staging_module
import rxstaff.warehouse.build as build_module
import rxstaff.warehouse.ingest as ingest_module
import rxstaff.warehouse.transaction as transaction_module
from rxstaff.extract.reference import read_job_catalog
from rxstaff.transforms.pseudonym import Pseudonymiser
from tests.helpers import (
    CONTRACT,
    EVENT_COLUMNS,
    PIPELINE_RELATIONS,
    all_tables,
    assert_same,
    hold_back_rosters,
    query,
    run_nightly,
    snapshot,
    snapshot_except_audit,
    table,
)

SECRET = "rxstaff-test-secret"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}")


def keys(ids: pd.Series) -> pd.Series:
    return Pseudonymiser(SECRET).keys(ids.astype("string"))


def rewrite_csv(path: Path, change) -> None:
    """Rewrite an extract through a function of its rows (header kept as it was)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    rows = change(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def column(rows: list[list[str]], name: str) -> int:
    return [c.strip().lower() for c in rows[0]].index(name)


def test_contract_relations_exist_with_their_columns(warehouse_3y: Path) -> None:
    for name in PIPELINE_RELATIONS:
        found = list(query(warehouse_3y, f"SELECT * FROM {name} LIMIT 0").columns)
        missing = [c for c in CONTRACT[name] if c not in found]
        assert not missing, f"{name} lacks {missing}"
        assert len(query(warehouse_3y, f"SELECT * FROM {name}")) > 0, f"{name} is empty"


def test_events_match_what_the_generator_planted(landing_3y: Path, warehouse_3y: Path) -> None:
    truth = pd.read_csv(landing_3y / "_truth" / "events.csv", dtype=str)
    truth["employee_key"] = keys(truth["employee_id"])
    got = query(warehouse_3y, "SELECT * FROM fct_career_event")
    got["event_date"] = got["event_date"].astype(str)
    expected = truth[EVENT_COLUMNS].fillna("").astype(str).sort_values(EVENT_COLUMNS)
    actual = got[EVENT_COLUMNS].fillna("").astype(str).sort_values(EVENT_COLUMNS)
    moves = expected["event_type"].isin(["promotion", "lateral", "demotion", "separation"])
    assert moves.sum() > 50, "the sample should plant plenty of moves and separations"
    pd.testing.assert_frame_equal(expected.reset_index(drop=True), actual.reset_index(drop=True))
    declared = actual[(actual.from_job_code == "SPT3") & (actual.to_job_code == "MAPC1")]
    assert len(declared) and set(declared.event_type) == {"promotion"}, "declared path planted"


def test_vacancies_match_what_the_generator_planted(landing_3y: Path, warehouse_3y: Path) -> None:
    truth = pd.read_csv(landing_3y / "_truth" / "vacancies.csv", dtype=str).fillna("")
    columns = [
        "vacancy_id",
        "open_reason",
        "state",
        "budget_requests",
        "budget_denials",
        "closed_on",
    ]
    got = query(warehouse_3y, f"SELECT {', '.join(columns)} FROM fct_vacancy")
    got = got.astype(str).fillna("")  # pandas 3 keeps a missing value missing as text
    pd.testing.assert_frame_equal(
        truth[columns].sort_values("vacancy_id").reset_index(drop=True),
        got[columns].sort_values("vacancy_id").reset_index(drop=True),
    )
    # The generator plants every state, and denied requests followed by released ones.
    states = set(truth.state)
    assert {
        "filled",
        "recruiting",
        "awaiting_budget",
        "denied",
        "withdrawn",
        "no_request",
    } <= states
    assert (
        (truth.budget_denials.astype(int) > 0) & truth.state.isin(["filled", "recruiting"])
    ).any()


def test_the_generator_plants_early_exits_and_roles_unique_to_a_model(warehouse_3y: Path) -> None:
    """Role spells are read off the career events, which match the planted truth event
    for event; the planted cases are there."""
    exits = query(
        warehouse_3y,
        "SELECT created_in_expansion, SUM(early_exits_90) AS n FROM mart_role_early_exit "
        "GROUP BY created_in_expansion",
    ).set_index("created_in_expansion")
    assert exits.loc[True, "n"] > 0 and exits.loc[False, "n"] > 0  # new and legacy roles
    unique = query(
        warehouse_3y,
        "SELECT COUNT(*) AS n FROM mart_role_by_model "
        "WHERE unique_to_model AND created_in_expansion",
    )
    assert unique.n[0] > 0


def test_bad_rows_are_quarantined_by_file_and_row(landing_3y: Path, warehouse_3y: Path) -> None:
    planted = pd.read_csv(landing_3y / "_truth" / "bad_rows.csv")
    found = query(
        warehouse_3y,
        """
        SELECT DISTINCT b.file_name, q.row_number
        FROM etl_quarantine q JOIN etl_batch b USING (batch_id)""",
    )
    assert len(planted) > 10
    assert set(zip(found.file_name, found.row_number, strict=True)) == set(
        zip(planted.file_name, planted.row_number, strict=True)
    )
    rules = query(warehouse_3y, "SELECT DISTINCT rule FROM etl_quarantine")["rule"]
    assert {"job_code_in_catalog", "hire_date_is_iso_date"} <= set(rules)


def test_quarantine_records_carry_no_identifier(warehouse_3y: Path) -> None:
    detail = query(warehouse_3y, "SELECT detail FROM etl_quarantine")["detail"]
    assert not detail.str.contains(r"\bE\d{4,}\b", regex=True).any()


def test_vanished_employee_is_an_anomaly_not_a_leaver(landing_3y: Path, warehouse_3y: Path) -> None:
    vanished = keys(pd.read_csv(landing_3y / "_truth" / "vanished.csv")["employee_id"])
    assert len(vanished)
    anomalies = query(
        warehouse_3y,
        "SELECT employee_key FROM etl_anomaly WHERE kind = 'vanished_without_termination'",
    )["employee_key"]
    assert set(vanished) <= set(anomalies)
    events = query(
        warehouse_3y, "SELECT employee_key FROM fct_career_event WHERE event_type = 'separation'"
    )["employee_key"]
    assert not set(vanished) & set(events)
    current = query(
        warehouse_3y, "SELECT employee_key, employment_status FROM dim_employee WHERE is_current"
    )
    states = current[current.employee_key.isin(vanished)].employment_status
    assert len(states) == len(vanished) and (states != "terminated").all()


def test_no_table_holds_a_name_or_an_email(landing_3y: Path, warehouse_3y: Path) -> None:
    people = pd.concat(
        pd.read_csv(f, dtype=str, encoding="utf-8-sig").rename(columns=str.lower)
        for f in sorted((landing_3y / "roster").glob("*.csv"))[::20]
    )
    names = set(people["first_name"].str.strip()) | set(people["last_name"].str.strip())
    emails = set(people["work_email"].str.strip())
    ids = set(people["employee_id"].str.strip())
    for name in all_tables(warehouse_3y):
        frame = query(warehouse_3y, f"SELECT * FROM {name}")
        for col in frame.columns:
            values = set(frame[col].dropna().astype(str))
            assert not values & names, f"{name}.{col} holds a name"
            assert not values & emails, f"{name}.{col} holds an e-mail"
            assert not values & ids, f"{name}.{col} holds a raw employee_id"
            # An address has a dotted domain after its @; a vacancy_id (P12@2024-03-01) does not.
            looks_like_mail = [v for v in values if EMAIL.search(v)]
            assert not looks_like_mail, f"{name}.{col} holds something like an e-mail"


def test_dim_employee_is_a_clean_type_2_history(warehouse_3y: Path) -> None:
    dim = query(warehouse_3y, "SELECT * FROM dim_employee ORDER BY employee_key, valid_from")
    for _, rows in dim.groupby("employee_key"):
        assert rows["is_current"].sum() == 1
        assert rows["valid_from"].is_monotonic_increasing and rows["valid_from"].is_unique
        assert (
            rows["valid_to"].iloc[:-1].to_numpy() == rows["valid_from"].iloc[1:].to_numpy()
        ).all()
        assert pd.isna(rows["valid_to"].iloc[-1])


def test_second_run_over_the_same_folder_changes_nothing(
    landing_small: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    assert run_nightly(landing_small, db)[0] == 0
    # etl_run gains the run's row; rxstaff_landing_hash records the files' stats, which
    # the first run left out (files copied a moment before it are read again).
    unchanged = [t for t in all_tables(db) if t not in ("etl_run", "rxstaff_landing_hash")]
    before = snapshot(db, unchanged)
    code, summary = run_nightly(landing_small, db)
    assert code == 0
    assert sum(s.files_loaded for s in summary.sources.values()) == 0
    assert sum(s.files_skipped for s in summary.sources.values()) > 0
    assert_same(before, snapshot(db, unchanged))
    runs = query(db, "SELECT status, files_loaded, files_skipped FROM etl_run ORDER BY started_at")
    assert list(runs.status) == ["succeeded", "nothing new"]  # every run leaves its row
    assert runs.files_loaded.iloc[1] == 0 and runs.files_skipped.iloc[1] > 0


def test_corrected_file_replaces_its_earlier_version(landing_small: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert run_nightly(landing_small, db)[0] == 0
    target = sorted((landing_small / "roster").glob("*.csv"))[-1]
    name = f"roster/{target.name}"
    old_batch = query(db, f"SELECT batch_id FROM etl_batch WHERE file_name = '{name}'").batch_id[0]
    old_rows = query(db, f"SELECT COUNT(*) n FROM stg_roster WHERE batch_id = {old_batch}").n[0]

    def drop_two_rows(rows: list[list[str]]) -> list[list[str]]:
        return rows[:1] + rows[3:]

    rewrite_csv(target, drop_two_rows)
    code, summary = run_nightly(landing_small, db)
    assert code == 0 and summary.sources["roster"].files_loaded == 1
    batches = query(db, f"SELECT * FROM etl_batch WHERE file_name = '{name}' ORDER BY batch_id")
    assert len(batches) == 2
    assert batches.superseded_by[0] == batches.batch_id[1]
    assert pd.isna(batches.superseded_by[1])
    assert query(db, f"SELECT COUNT(*) n FROM stg_roster WHERE batch_id = {old_batch}").n[0] == 0
    new_rows = query(
        db, f"SELECT COUNT(*) n FROM stg_roster WHERE batch_id = {batches.batch_id[1]}"
    )
    assert new_rows.n[0] == old_rows - 2


def test_reverse_arrival_gives_the_same_history(landing_small: Path, tmp_path: Path) -> None:
    once = tmp_path / "once.duckdb"
    assert run_nightly(landing_small, once)[0] == 0

    arriving = tmp_path / "arriving"
    for folder in ("budget", "survey"):
        if (landing_small / folder).is_dir():
            shutil.copytree(landing_small / folder, arriving / folder)
    rosters = sorted((landing_small / "roster").glob("*.csv"))
    (arriving / "roster").mkdir(parents=True)
    reverse = tmp_path / "reverse.duckdb"
    thirds = [rosters[i::3] for i in range(3)]
    for group in [rosters[-8:], rosters[8:-8], rosters[:8], *thirds]:
        for path in group:
            shutil.copy(path, arriving / "roster" / path.name)
        assert run_nightly(arriving, reverse)[0] == 0

    for name in ("dim_employee", "fct_career_event"):
        pd.testing.assert_frame_equal(
            table(once, name, CONTRACT[name]), table(reverse, name, CONTRACT[name]), obj=name
        )
    kinds = query(reverse, "SELECT DISTINCT kind FROM etl_anomaly")["kind"]
    assert "snapshot_older_than_loaded" in set(kinds)


def test_file_missing_a_column_is_rejected_by_name(landing_small: Path, tmp_path: Path) -> None:
    target = sorted((landing_small / "roster").glob("*.csv"))[5]

    def drop_hire_date(rows: list[list[str]]) -> list[list[str]]:
        index = column(rows, "hire_date")
        return [r[:index] + r[index + 1 :] for r in rows]

    rewrite_csv(target, drop_hire_date)
    db = tmp_path / "w.duckdb"
    code, summary = run_nightly(landing_small, db)
    assert code == 1
    assert any(target.name in r and "hire_date" in r for r in summary.rejections)
    batches = query(db, "SELECT file_name, status, error FROM etl_batch")
    rejected = batches[batches.status == "rejected"]
    assert list(rejected.file_name) == [f"roster/{target.name}"]
    assert "hire_date" in rejected.error.iloc[0]
    loaded = batches[batches.status == "loaded"]
    extracts = [
        p
        for d in ("roster", "budget", "survey", "training")
        for p in (landing_small / d).glob("*.csv")
    ]
    assert len(loaded) == len(extracts) - 1
    assert (
        summary.sources["roster"].files_loaded
        == len(list((landing_small / "roster").glob("*.csv"))) - 1
    )


def test_snapshot_date_disagreeing_with_file_name_rejects_the_file(
    landing_small: Path, tmp_path: Path
) -> None:
    target = sorted((landing_small / "roster").glob("*.csv"))[3]

    def shift_dates(rows: list[list[str]]) -> list[list[str]]:
        index = column(rows, "snapshot_date")
        return rows[:1] + [[*r[:index], "2023-01-01", *r[index + 1 :]] for r in rows[1:]]

    rewrite_csv(target, shift_dates)
    code, summary = run_nightly(landing_small, tmp_path / "w.duckdb")
    assert code == 1
    assert any(
        target.name in r and "snapshot_date_matches_file_name" in r for r in summary.rejections
    )


def test_unreadable_file_is_rejected_and_the_rest_loads(
    landing_small: Path, tmp_path: Path
) -> None:
    target = sorted((landing_small / "budget").glob("*.csv"))[0]
    target.write_bytes(b"release_id,position_id\n\xff\xfe\x00broken\n")
    code, summary = run_nightly(landing_small, tmp_path / "w.duckdb")
    assert code == 1
    assert any(target.name in r and "unreadable" in r for r in summary.rejections)
    assert summary.sources["roster"].files_loaded > 0


def loaded_before_late_rosters(
    landing: Path, tmp_path: Path, count: int
) -> tuple[Path, dict[str, pd.DataFrame], list[Path]]:
    """A warehouse loaded without the newest ``count`` rosters, which then arrive: the
    warehouse, what it held (audit tables aside) before they did, and their paths."""
    db = tmp_path / "w.duckdb"
    late, arrive = hold_back_rosters(landing, count)
    assert run_nightly(landing, db)[0] == 0
    before = snapshot_except_audit(db)
    arrive()
    return db, before, late


def test_error_mid_load_leaves_the_warehouse_unchanged(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, before, late = loaded_before_late_rosters(landing_small, tmp_path, 4)
    batches_before = table(db, "etl_batch")

    real_insert = ingest_module.bulk_insert
    calls = {"stg_roster": 0}

    def failing_insert(conn, name, frame):
        if name == "stg_roster":
            calls["stg_roster"] += 1
            real_insert(conn, name, frame)  # rows really written, then the disk "fails"
            raise OSError("disk full (injected)")
        return real_insert(conn, name, frame)

    monkeypatch.setattr(ingest_module, "bulk_insert", failing_insert)
    code, error = run_nightly(landing_small, db)
    assert code == 2 and "disk full" in str(error)
    assert calls["stg_roster"] == 1
    assert_same(before, snapshot_except_audit(db))
    runs = query(db, "SELECT status, error FROM etl_run ORDER BY started_at")
    assert list(runs.status) == ["succeeded", "failed"] and "disk full" in runs.error.iloc[-1]
    after = table(db, "etl_batch")
    failed = after[after.status == "failed"]
    assert sorted(failed.file_name) == sorted(f"roster/{p.name}" for p in late)
    assert failed.error.str.contains("disk full").all()
    kept = after[after.status != "failed"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, batches_before, check_dtype=False)

    monkeypatch.setattr(ingest_module, "bulk_insert", real_insert)
    code, summary = run_nightly(landing_small, db)
    assert code == 0 and summary.sources["roster"].files_loaded == 4


def test_a_failed_run_leaves_the_job_catalog_as_it_was(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog is loaded inside the run's transaction: grades decide promotions."""
    db = tmp_path / "w.duckdb"
    _, arrive = hold_back_rosters(landing_small, 2)
    assert run_nightly(landing_small, db)[0] == 0
    before = table(db, "dim_job")
    renamed = read_job_catalog().assign(job_title=lambda f: "Renamed " + f["job_title"])
    renamed["grade"] = renamed["grade"].astype(int) + 1
    catalog = tmp_path / "catalog.csv"
    renamed.to_csv(catalog, index=False)
    arrive()

    def failing_build(conn, prints=None):
        raise RuntimeError("models failed (injected)")

    monkeypatch.setattr(build_module, "build_tables", failing_build)
    code, error = run_nightly(landing_small, db, catalog=str(catalog))
    assert code == 2 and "injected" in str(error)
    pd.testing.assert_frame_equal(table(db, "dim_job"), before)
    monkeypatch.undo()
    assert run_nightly(landing_small, db, catalog=str(catalog))[0] == 0
    assert table(db, "dim_job").job_title.str.startswith("Renamed ").all()


def test_quarantined_row_invents_no_event(landing_small: Path, tmp_path: Path) -> None:
    clean_db = tmp_path / "clean.duckdb"
    assert run_nightly(landing_small, clean_db)[0] == 0
    rosters = sorted((landing_small / "roster").glob("*.csv"))

    def corrupt_everyone(rows: list[list[str]]) -> list[list[str]]:
        jobs, status = column(rows, "job_code"), column(rows, "employment_status")
        out = rows[:1]
        for number, row in enumerate(rows[1:]):
            row = list(row)
            if number % 2:
                row[jobs] = "NOPE"  # would read as a job change if it slipped through
            else:
                row[status] = "gone"  # would read as a status change
            out.append(row)
        return out

    rewrite_csv(rosters[len(rosters) // 2], corrupt_everyone)
    db = tmp_path / "w.duckdb"
    code, summary = run_nightly(landing_small, db)
    assert code == 0 and summary.sources["roster"].rows_quarantined > 10
    for name in ("fct_career_event", "dim_employee"):
        pd.testing.assert_frame_equal(
            table(clean_db, name, CONTRACT[name]), table(db, name, CONTRACT[name]), obj=name
        )
    vanished = query(
        db, "SELECT COUNT(*) n FROM etl_anomaly WHERE kind = 'vanished_without_termination'"
    )
    clean_vanished = query(
        clean_db, "SELECT COUNT(*) n FROM etl_anomaly WHERE kind = 'vanished_without_termination'"
    )
    assert vanished.n[0] == clean_vanished.n[0]


@pytest.mark.usefixtures("prefect_server")
def test_the_flow_logs_no_personal_data(landing_small: Path, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    from rxstaff.flows.nightly import nightly

    target = sorted((landing_small / "roster").glob("*.csv"))[2]

    def bad_email_row(rows: list[list[str]]) -> list[list[str]]:
        fte = column(rows, "fte")
        rows[1][fte] = "7"
        return rows

    rewrite_csv(target, bad_email_row)
    state = nightly(
        landing=str(landing_small),
        warehouse=f"duckdb:///{tmp_path / 'w.duckdb'}",
        run_date=date(2030, 1, 1),
        max_roster_age_days=36500,  # replaying history: staleness is tested on its own
        return_state=True,
    )
    assert state.is_completed()
    run_logs = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id]))
    APILogHandler().flush()  # logs reach the API from a background worker, in batches
    text, deadline = "", time.monotonic() + 60
    while not ("quarantined" in text and "Finished in state" in text):
        assert time.monotonic() < deadline, f"the run's logs never arrived: {text!r}"
        time.sleep(0.2)
        with get_client(sync_client=True) as client:
            text = "\n".join(log.message for log in client.read_logs(run_logs))
    assert "roster" in text
    people = pd.read_csv(target, dtype=str, encoding="utf-8-sig")
    for value in pd.concat([people["work_email"], people["last_name"], people["employee_id"]]):
        assert value not in text


def night_with_a_read_copy(landing: Path, tmp_path: Path) -> tuple[Path, Path, Callable[[], None]]:
    """A night loaded with its BI copy published, the last roster held back: the warehouse,
    the copy, and the roster's arrival."""
    _, arrive = hold_back_rosters(landing, 1)
    db, copy = tmp_path / "w.duckdb", tmp_path / "bi" / "warehouse.read.duckdb"
    assert run_nightly(landing, db, read_copy=str(copy))[0] == 0
    return db, copy, arrive


def test_bi_readers_use_a_read_only_copy_published_whole(
    landing_small: Path, tmp_path: Path
) -> None:
    import duckdb

    db, copy, arrive = night_with_a_read_copy(landing_small, tmp_path)
    reader = duckdb.connect(str(copy), read_only=True)  # a BI session stays open...
    newest = "SELECT MAX(latest_file_date) FROM mart_freshness WHERE source = 'roster'"
    seen = reader.execute(newest).fetchone()[0]
    arrive()
    assert run_nightly(landing_small, db, read_copy=str(copy))[0] == 0  # ...and does not block
    assert reader.execute(newest).fetchone()[0] == seen  # it sees the night it opened
    reader.close()
    with duckdb.connect(str(copy), read_only=True) as fresh:
        assert fresh.execute(newest).fetchone()[0] > seen  # a new reader sees tonight
        assert fresh.execute("SELECT COUNT(*) FROM mart_role_by_model").fetchone()[0] > 0


def test_copies_hold_only_what_their_readers_may_read(landing_small: Path, tmp_path: Path) -> None:
    """warehouse.md, who may read what: BI readers the dim_/fct_/mart_ relations, auditors
    those and etl_*; single survey answers (staging) never leave the warehouse."""
    from rxstaff.warehouse.declarations import bi_relations

    db, bi, audit = tmp_path / "w.duckdb", tmp_path / "bi.duckdb", tmp_path / "audit.duckdb"
    code, _ = run_nightly(landing_small, db, read_copy=str(bi), audit_copy=str(audit))
    assert code == 0
    assert all_tables(bi) == sorted(bi_relations())
    audit_tables = all_tables(audit)
    assert set(bi_relations()) < set(audit_tables)
    assert sorted(set(audit_tables) - set(bi_relations())) == [
        "etl_anomaly", "etl_batch", "etl_budget_alert", "etl_metric_change", "etl_metric_snapshot",
        "etl_quarantine", "etl_replaced_row", "etl_run",
    ]  # fmt: skip
    for name in ("mart_engagement", "fct_vacancy", "mart_backfill_delays"):
        pd.testing.assert_frame_equal(table(db, name), table(bi, name), obj=name)
    for copy in (bi, audit):  # every relation and column keeps the warehouse's description
        for kind in (
            "table_name AS name FROM duckdb_tables()",
            "column_name FROM duckdb_columns()",
        ):
            described = query(
                copy, f"SELECT comment, {kind} WHERE database_name = current_database()"
            )
            assert described.comment.notna().all() and (described.comment != "").all(), copy
        own = query(copy, "SELECT comment FROM duckdb_tables() WHERE table_name = 'fct_vacancy'")
        assert (
            own.comment[0]
            == query(
                db, "SELECT comment FROM duckdb_tables() WHERE table_name = 'fct_vacancy'"
            ).comment[0]
        )


def test_history_load_commits_on_a_copy_and_publishes_it_whole(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_transaction, on_a_copy = tmp_path / "one.duckdb", tmp_path / "copy.duckdb"
    assert run_nightly(landing_small, one_transaction)[0] == 0
    monkeypatch.setattr(
        transaction_module, "HISTORY_LOAD_MIN_BYTES", 0
    )  # every run is a history load
    monkeypatch.setattr(staging_module, "CHUNK_BYTES", 20_000)  # and commits many chunks
    assert run_nightly(landing_small, on_a_copy)[0] == 0
    for name in ("dim_employee", "fct_career_event", "fct_vacancy", "mart_retention_annual"):
        pd.testing.assert_frame_equal(
            table(one_transaction, name, CONTRACT[name]),
            table(on_a_copy, name, CONTRACT[name]),
            obj=name,
        )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_failed_history_load_leaves_the_warehouse_as_it_was(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, before, late = loaded_before_late_rosters(landing_small, tmp_path, 6)
    monkeypatch.setattr(transaction_module, "HISTORY_LOAD_MIN_BYTES", 0)
    monkeypatch.setattr(staging_module, "CHUNK_BYTES", 5_000)  # several chunks on the copy
    real_build = build_module.build_tables

    def failing_build(conn, prints=None):
        raise RuntimeError("models failed (injected)")

    monkeypatch.setattr(build_module, "build_tables", failing_build)
    code, error = run_nightly(landing_small, db)
    assert code == 2 and "injected" in str(error)
    assert_same(before, snapshot_except_audit(db))
    failed = query(db, "SELECT file_name FROM etl_batch WHERE status = 'failed'")
    assert sorted(failed.file_name) == sorted(f"roster/{p.name}" for p in late)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".w.duckdb")]
    monkeypatch.setattr(build_module, "build_tables", real_build)
    assert run_nightly(landing_small, db)[0] == 0


def test_a_file_name_with_an_impossible_date_rejects_that_file_only(
    landing_small: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    newest = sorted((landing_small / "roster").glob("*.csv"))[-1]
    bad = newest.with_name("roster_2023-02-30.csv")
    shutil.copy(newest, bad)
    code, summary = run_nightly(landing_small, db)
    assert code == 1
    assert summary.rejections == [
        "roster/roster_2023-02-30.csv: the date in the file name is not a real date "
        "(day is out of range for month)"
    ]
    assert (
        summary.sources["roster"].files_loaded
        == len(list((landing_small / "roster").glob("*"))) - 1
    )
    rejected = query(db, "SELECT file_name, status, error FROM etl_batch WHERE status = 'rejected'")
    assert list(rejected.file_name) == ["roster/roster_2023-02-30.csv"]
    code, summary = run_nightly(landing_small, db)  # sent again unchanged: skipped, once told
    assert code == 0 and not summary.rejections


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "SELECT MAX(latest_file_date) FROM mart_freshness WHERE source = 'roster'"
print(con.execute(query).fetchone()[0], flush=True)
sys.stdin.readline()  # held open until the test says
print(con.execute(query).fetchone()[0], flush=True)
"""


def test_a_bi_process_holding_the_copy_open_neither_blocks_the_run_nor_sees_half(
    landing_small: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    db, copy, arrive = night_with_a_read_copy(landing_small, tmp_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        seen = reader.stdout.readline().strip()  # the BI process has the copy open
        arrive()
        assert run_nightly(landing_small, db, read_copy=str(copy))[0] == 0  # not blocked
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == seen  # still last night, whole
    finally:
        reader.kill()
        reader.wait()
    fresh = query(
        copy, "SELECT MAX(latest_file_date) AS d FROM mart_freshness WHERE source = 'roster'"
    )
    assert str(pd.Timestamp(fresh.d[0]).date()) > seen  # a new session sees tonight


def test_a_landing_folder_without_training_loads_as_before(
    landing_small: Path, tmp_path: Path
) -> None:
    """Training is optional (sources.md v2): without it the run is normal and the training
    figures are empty, never zero."""
    assert any((landing_small / "training").glob("*.csv"))
    shutil.rmtree(landing_small / "training")
    db = tmp_path / "w.duckdb"
    code, summary = run_nightly(landing_small, db)
    assert code == 0 and not summary.rejections
    assert query(db, "SELECT COUNT(*) AS n FROM fct_training").n[0] == 0
    spells = query(db, "SELECT required_courses, training_hours_first_180 FROM fct_role_spell")
    assert len(spells) and spells.isna().all().all()
    readiness = query(db, "SELECT entries, proficiency_rate_90 FROM mart_role_readiness")
    assert readiness.entries.sum() > 0 and readiness.proficiency_rate_90.isna().all()
    assert "training" not in set(query(db, "SELECT source FROM mart_freshness").source)


@pytest.mark.parametrize("engine", ["vectorised", "sql"])
def test_a_run_by_another_engine_is_checked_by_great_expectations_on_a_sample(
    landing_small: Path, tmp_path: Path, engine: str
) -> None:
    db = tmp_path / "w.duckdb"
    code, summary = run_nightly(landing_small, db, validation=engine)
    assert code == 0
    rosters = len(list((landing_small / "roster").glob("*.csv")))
    assert summary.sources["roster"].gx_sample_rows >= rosters  # some rows of every file


def test_the_seeds_pathway_reads_from_one_row(landing_3y: Path, warehouse_3y: Path) -> None:
    """mart_pathway_outcomes against the generator's own events, walked in Python: each
    employee's first promotion into another family, then every job held after it; the
    highest by ladder level, then grade, the later on a tie."""
    from rxstaff.sample import CATALOG, FAMILIES

    rank = {
        str(r.job_code): (-1 if pd.isna(r.ladder_level) else int(r.ladder_level), int(r.grade))
        for r in CATALOG.itertuples()
    }
    events = pd.read_csv(landing_3y / "_truth" / "events.csv", dtype=str).sort_values(
        ["employee_id", "event_date"], kind="stable"
    )
    highest: dict[tuple[str, str, str], str] = {}
    for employee, own in events.groupby("employee_id", sort=False):
        crossed: dict[tuple[str, str], list[str]] = {}
        for e in own.itertuples():
            job = e.to_job_code if e.event_type != "separation" else None
            for (_, target), held in crossed.items():
                if isinstance(job, str) and FAMILIES[job] == target:
                    held.append(job)
            if e.event_type == "promotion" and FAMILIES[e.from_job_code] != FAMILIES[e.to_job_code]:
                crossed.setdefault((FAMILIES[e.from_job_code], FAMILIES[e.to_job_code]), [job])
        for (source, target), held in crossed.items():
            order = range(len(held))
            top = max(order, key=lambda n, held=held: (rank[held[n]], n))
            highest[(employee, source, target)] = held[top]
    want: dict[tuple[str, str, str], int] = {}
    for (_, source, target), job in highest.items():
        for code in (job, "ALL"):
            want[(source, target, code)] = want.get((source, target, code), 0) + 1
    got = query(warehouse_3y, "SELECT * FROM mart_pathway_outcomes")
    assert {
        (r.from_family, r.to_family, r.highest_job_code): r.employees for r in got.itertuples()
    } == want
    spt_to_map = ("Specialty Pharmacy Technician", "MAP Coordinator")
    assert want[(*spt_to_map, "ALL")] >= 1 and want[(*spt_to_map, "MAPC3")] >= 1  # planted


def test_a_run_reads_no_setting_after_resolving_them(
    landing_small: Path,
    tmp_path: Path,
    receivers: tuple[list[dict], list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every rxstaff setting (the budget watch's channels and the report's page included)
    is read as the run starts: settings changed or gone once it has started change
    nothing it does."""
    from rxstaff.flows.nightly import run_night
    from rxstaff.settings import RunRequest, resolve

    posted, _ = receivers
    monkeypatch.setenv("RXSTAFF_BUDGET_WATCH_DAYS", "30")
    monkeypatch.setenv("RXSTAFF_PHARMACY_NAME", "Riverside specialty pharmacy")
    _, arrive = hold_back_rosters(landing_small, 20)  # seats still waiting for budget
    request = RunRequest(
        landing=str(landing_small), warehouse=f"duckdb:///{tmp_path / 'w.duckdb'}",
        run_date=date(2030, 1, 1), max_roster_age_days=36500, report_dir=str(tmp_path / "pack"),
    )  # fmt: skip
    run = resolve(request)
    for name in [name for name in os.environ if name.startswith("RXSTAFF_")]:
        monkeypatch.delenv(name)  # the key included: a run that read it would fail
    monkeypatch.setenv("RXSTAFF_ALERT_WEBHOOK", "http://127.0.0.1:9/refused")
    monkeypatch.setenv("RXSTAFF_BUDGET_WATCH_DAYS", "off")
    monkeypatch.setenv("RXSTAFF_PHARMACY_NAME", "Another pharmacy")
    monkeypatch.setenv("RXSTAFF_REPORT_PAPER", "tabloid")  # read now, it would fail the report
    summary = run_night(run)
    assert summary.exit_code == 0 and summary.budget_watch > 0 and len(posted) == 1
    html = (tmp_path / "pack" / "staffing_report.html").read_text(encoding="utf-8")
    assert "Riverside specialty pharmacy" in html and "Another pharmacy" not in html
    arrive()
