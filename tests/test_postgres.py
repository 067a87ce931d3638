"""PostgreSQL as a first-class warehouse: parity, migrations, least privilege, failures.

Every test here gets a fresh database on the server named by RXSTAFF_TEST_POSTGRES_URL
and skips, saying so, where it is not set.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from rxstaff import settings
from rxstaff.cli import app
from rxstaff.warehouse.access import (
    AUDIT_RELATIONS,
    BI_RELATIONS,
    AccessError,
    grant_audit_role,
    grant_bi_role,
)
from rxstaff.warehouse.build import drop_views
from rxstaff.warehouse.connection import Warehouse, WarehouseUnavailable
from rxstaff.warehouse.schema import latest_version
from rxstaff.warehouse.schemas import home
from rxstaff.warehouse.transaction import RunTransaction
from tests.helpers import (
    CONTRACT,
    comparable,
    csv_rows,
    hold_back_rosters,
    key_violations,
    query,
    read,
    reader_role,
    run_nightly,
    write_csv,
)

pytestmark = pytest.mark.postgres
BI = [n for n in CONTRACT if n.startswith(("dim_", "fct_", "mart_"))]


def test_same_rows_as_duckdb_for_every_contract_relation(
    warehouse_3y: Path, pg_warehouse_3y: str
) -> None:
    for name in BI:
        sql = f"SELECT {', '.join(CONTRACT[name])} FROM {name}"
        duck, pg = comparable(query(warehouse_3y, sql)), comparable(read(pg_warehouse_3y, sql))
        assert len(duck) > 0, name
        pd.testing.assert_frame_equal(duck, pg, check_dtype=False, obj=name)
    audit = (
        "SELECT source, file_name, sha256, rows_read, rows_loaded, rows_quarantined, status "
        "FROM etl_batch"
    )
    pd.testing.assert_frame_equal(
        comparable(query(warehouse_3y, audit)),
        comparable(read(pg_warehouse_3y, audit)),
        check_dtype=False,
    )


def test_declared_keys_hold_in_postgres(pg_warehouse_3y: str) -> None:
    assert key_violations(lambda sql: read(pg_warehouse_3y, sql)) == []


def test_descriptions_are_comments_in_postgres(pg_warehouse_3y: str) -> None:
    found = read(
        pg_warehouse_3y,
        "SELECT obj_description('mart_engagement'::regclass) AS d, "
        "col_description('fct_vacancy'::regclass, 1) AS c",
    )
    assert "anonymity" in found.d[0] and found.c[0]


FORBIDDEN = (
    "SELECT * FROM internal.stg_survey_answer",
    "SELECT * FROM internal.stg_survey_respondent",
    "SELECT * FROM internal.stg_replaced_row",
    "SELECT * FROM internal.stg_roster",
    "SELECT * FROM internal.int_seat_tenure",
    "DELETE FROM dim_job",
    "INSERT INTO audit.etl_batch (batch_id) VALUES (0)",
    "CREATE TABLE sneaky (a int)",
    "CREATE TEMPORARY TABLE sneaky (a int)",
    "CREATE FUNCTION pg_temp.sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE VIEW sneaky AS SELECT 1 AS a",
)


@pytest.mark.parametrize(
    ("grant", "allowed", "refused_too"),
    [
        (grant_bi_role, BI_RELATIONS, ("SELECT * FROM audit.etl_quarantine",)),
        (grant_audit_role, AUDIT_RELATIONS, ()),
    ],
    ids=["bi", "audit"],
)
def test_reader_role_reads_its_relations_and_nothing_else(
    pg_warehouse_3y: str, grant, allowed: list[str], refused_too: tuple[str, ...]
) -> None:
    with reader_role(pg_warehouse_3y, "rxstaff_reader") as (owner, role):
        granted = grant(owner, role, login=True, password="read-only-pw")
        assert set(granted) == set(allowed)
        reader = make_url(pg_warehouse_3y).set(username=role, password="read-only-pw")
        engine = sa.create_engine(reader)
        with engine.connect() as conn:  # every relation it may read, by its name as before
            for name in allowed:
                conn.execute(sa.text(f"SELECT * FROM {name} LIMIT 1")).fetchall()
            # what a BI tool lists of the database: its own relations, nothing else
            listed = conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalars()
            assert sorted(listed) == sorted(allowed)
        with owner.connect() as conn:
            everything = conn.execute(
                sa.text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema IN ('bi', 'audit', 'internal')"
                )
            ).scalars()
            others = sorted(set(everything) - {home(n) + "." + n for n in allowed})
        assert {"internal.int_career_path", "internal.stg_survey_answer"} <= set(others)
        assert not [o for o in others if o.startswith("bi.")]  # bi holds what BI reads only
        for other in others:  # staging, internal models, seeds, settings: refused
            with (
                engine.connect() as conn,
                pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
            ):
                conn.execute(sa.text(f"SELECT * FROM {other} LIMIT 1"))
        for forbidden in (*FORBIDDEN, *refused_too):
            with (
                engine.connect() as conn,
                pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
            ):
                conn.execute(sa.text(forbidden))
        engine.dispose()
        # grants survive the next run, which recreates the views
        assert grant(owner, role, login=True)


def test_one_role_is_one_kind_of_reader(pg_url: str, landing_small: Path) -> None:
    assert run_nightly(landing_small, pg_url)[0] == 0
    with reader_role(pg_url, "rxstaff_reader") as (owner, role):
        grant_bi_role(owner, role)
        with pytest.raises(AccessError, match="already a bi role"):
            grant_audit_role(owner, role)


def test_grants_survive_a_run(landing_small: Path, pg_url: str) -> None:
    _, arrive = hold_back_rosters(landing_small, 1)
    assert run_nightly(landing_small, pg_url)[0] == 0
    with reader_role(pg_url, "rxstaff_bi") as (owner, role):
        grant_bi_role(owner, role)
        arrive()
        assert run_nightly(landing_small, pg_url)[0] == 0
        reader = sa.create_engine(make_url(pg_url).set(username=role))
        with reader.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM mart_role_by_model")).scalar() > 0
        reader.dispose()


def test_older_warehouse_is_upgraded_in_place(landing_small: Path, url: str) -> None:
    _, arrive = hold_back_rosters(landing_small, 1)
    assert run_nightly(landing_small, url)[0] == 0
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # make it a version-1 warehouse, as an older rxstaff left it
        drop_views(conn)
        conn.execute(sa.text("DROP VIEW etl_metric_change"))
        for later in (
            "etl_replaced_row",
            "stg_replaced_row",
            "etl_metric_snapshot",
            "stg_training_record",
            "rxstaff_landing_hash",
            "etl_budget_alert",
        ):
            conn.execute(sa.text(f"DROP TABLE {later}"))
        conn.execute(sa.text("DROP TABLE rxstaff_metric_change"))
        conn.execute(sa.text("DROP TABLE etl_run"))
        conn.execute(sa.text("DROP TABLE int_roster_change"))
        conn.execute(sa.text("ALTER TABLE int_employee_observation DROP COLUMN last_seen"))
        conn.execute(sa.text("DELETE FROM rxstaff_schema_version WHERE version > 1"))
        before = conn.execute(sa.text("SELECT COUNT(*) FROM stg_roster")).scalar()
    engine.dispose()  # DuckDB: one configuration per open file, and the run sets its own
    arrive()
    assert run_nightly(landing_small, url)[0] == 0
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT MAX(version) FROM rxstaff_schema_version")).scalar()
            == latest_version()
        )
        after = conn.execute(sa.text("SELECT COUNT(*) FROM stg_roster")).scalar()
        runs = conn.execute(sa.text("SELECT COUNT(*) FROM etl_run")).scalar()
    engine.dispose()
    assert after > before > 0 and runs == 1


def test_a_changed_view_is_replaced_with_the_views_that_read_it(
    landing_small: Path, pg_url: str
) -> None:
    """A new rxstaff that changes a view other views read (three marts join
    mart_engagement) replaces those too: PostgreSQL refuses to drop a view others depend
    on, and every run after such an upgrade failed."""
    setting = "view_definition:mart_engagement"
    assert run_nightly(landing_small, pg_url)[0] == 0
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:  # the fingerprint an older definition left
        conn.execute(
            sa.text("UPDATE rxstaff_setting SET value = 'older' WHERE name = :n"), {"n": setting}
        )
    code, summary = run_nightly(landing_small, pg_url)
    assert code == 0, summary
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT value FROM rxstaff_setting WHERE name = :n"), {"n": setting}
        ).scalar()
        views = set(sa.inspect(conn).get_view_names())
        rows = conn.execute(sa.text("SELECT COUNT(*) FROM mart_engagement_drivers")).scalar()
    engine.dispose()
    assert stored not in (None, "older") and rows is not None
    readers = {"mart_engagement_drivers", "mart_engagement_item", "mart_engagement_retention"}
    assert {"mart_engagement", *readers} <= views


def test_newer_warehouse_is_refused_with_a_clear_message(landing_small: Path, pg_url: str) -> None:
    assert run_nightly(landing_small, pg_url)[0] == 0
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO rxstaff_schema_version VALUES (99, 'future', now())"))
    engine.dispose()
    result = CliRunner().invoke(
        app, ["nightly", "--landing", str(landing_small), "--warehouse", pg_url]
    )
    assert result.exit_code == 2
    assert "schema version 99" in result.output and "upgrade rxstaff" in result.output


def test_unreachable_warehouse_fails_fast_naming_host_not_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://etl:s3cret-pw@127.0.0.1:1/rxstaff"
    result = CliRunner().invoke(app, ["nightly", "--landing", str(tmp_path), "--warehouse", url])
    assert result.exit_code == 2
    assert "127.0.0.1:1" in result.output and "s3cret-pw" not in result.output


def _shown(conn: sa.Connection, name: str) -> str:
    return conn.exec_driver_sql(f"SHOW {name}").scalar_one()


def test_the_runs_session_turns_jit_off_and_sets_its_work_mem(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sa.create_engine(pg_url)
    with engine.connect() as other:  # a BI reader's session, before and after the run
        servers = _shown(other, "work_mem"), _shown(other, "jit")
    for setting, expected in [(None, "256MB"), ("64MB", "64MB"), ("1GB", "1GB")]:
        if setting is None:
            monkeypatch.delenv("RXSTAFF_PG_WORK_MEM", raising=False)
        else:
            monkeypatch.setenv("RXSTAFF_PG_WORK_MEM", setting)
        with RunTransaction(settings.warehouse(pg_url), 0) as tx:
            assert (_shown(tx.conn, "work_mem"), _shown(tx.conn, "jit")) == (expected, "off")
    monkeypatch.setenv("RXSTAFF_PG_WORK_MEM", "server")
    with RunTransaction(settings.warehouse(pg_url), 0) as tx:
        assert (_shown(tx.conn, "work_mem"), _shown(tx.conn, "jit")) == (servers[0], "off")
    with engine.connect() as other:  # only the run's own session is changed
        assert (_shown(other, "work_mem"), _shown(other, "jit")) == servers
    engine.dispose()


@pytest.mark.parametrize("value", ["256", "256 MB", "lots", "0MB", "-1GB", "2TB"])
def test_an_unusable_work_mem_stops_the_run_before_anything_is_read(
    value: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RXSTAFF_PG_WORK_MEM", value)
    args = ["nightly", "--landing", str(tmp_path), "--warehouse", pg_url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "RXSTAFF_PG_WORK_MEM" in result.output and "nothing was changed" in result.output
    assert (
        read(
            pg_url,
            "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname NOT LIKE 'pg_%' "
            "AND schemaname <> 'information_schema'",
        )["n"].iloc[0]
        == 0
    )
    # The setting is PostgreSQL's alone: a DuckDB warehouse's run goes ahead (and ends 1:
    # the empty landing folder holds no file the contract knows)
    duck = tmp_path / "w.duckdb"
    result = CliRunner().invoke(
        app, ["nightly", "--landing", str(tmp_path), "--warehouse", f"duckdb:///{duck}"]
    )
    assert result.exit_code == 1 and duck.exists(), result.output


def test_refused_login_is_not_retried(pg_url: str) -> None:
    missing = make_url(pg_url).set(database="rxstaff_no_such_db", password="s3cret-pw")
    engine = sa.create_engine(missing)
    attempts = []

    def connect():
        attempts.append(1)
        return engine.connect()

    with pytest.raises(WarehouseUnavailable) as error:
        Warehouse.at(missing, retry_pause=0).with_retries(connect)
    assert len(attempts) == 1
    assert "does not exist" in str(error.value) and "s3cret-pw" not in str(error.value)


def test_transient_errors_are_retried_a_bounded_number_of_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "postgresql+psycopg://etl:pw@127.0.0.1:1/rxstaff"
    engine = sa.create_engine(url)
    attempts = []

    def connect():
        attempts.append(1)
        return engine.connect()

    with pytest.raises(WarehouseUnavailable, match=r"127\.0\.0\.1:1"):
        Warehouse.at(url, retry_pause=0).with_retries(connect, attempts=3)
    assert len(attempts) == 3
    retries = [r.message for r in caplog.records if r.name == "rxstaff.warehouse.connection"]
    assert len(retries) == 2 and "retry 1 of 2" in retries[0]  # each one is logged
    assert "pw" not in " ".join(retries)  # never the password


def test_a_bi_query_held_open_does_not_hold_the_run(
    landing_small: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BI session reading the marts in an open transaction (Metabase, a long report)
    during a run: the run neither waits for it nor fails, and the reader sees the night
    it started with until it ends its transaction."""
    monkeypatch.setenv("RXSTAFF_LOCK_TIMEOUT", "5")  # a run that had to wait would fail
    _, arrive = hold_back_rosters(landing_small, 1)
    assert run_nightly(landing_small, pg_url)[0] == 0
    reader = sa.create_engine(pg_url, isolation_level="REPEATABLE READ")
    newest = "SELECT latest_file_date FROM mart_freshness WHERE source = 'roster'"
    with reader.connect() as bi:
        seen = bi.execute(sa.text(newest)).scalar()  # holds the views' and tables' locks
        for name in ("mart_engagement", "mart_backfill_delays", "fct_vacancy", "dim_job"):
            bi.execute(sa.text(f"SELECT * FROM {name}")).fetchall()
        arrive()
        code, summary = run_nightly(landing_small, pg_url)
        assert code == 0, summary
        assert bi.execute(sa.text(newest)).scalar() == seen  # the night it started with
    with reader.connect() as fresh:
        assert fresh.execute(sa.text(newest)).scalar() > seen  # tonight, whole
    reader.dispose()


def test_a_session_holding_a_lock_fails_the_run_in_bounded_time_naming_it(
    landing_small: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RXSTAFF_LOCK_TIMEOUT", "2")
    _, arrive = hold_back_rosters(landing_small, 1)
    assert run_nightly(landing_small, pg_url)[0] == 0
    holder = sa.create_engine(pg_url, connect_args={"application_name": "operator-psql"})
    with holder.connect() as conn:
        conn.execute(sa.text("LOCK TABLE dim_job IN ACCESS EXCLUSIVE MODE"))  # not a BI read
        arrive()
        code, error = run_nightly(landing_small, pg_url)
        conn.rollback()
    holder.dispose()
    assert code == 2
    assert "waited more than 2 s for a lock" in str(error) and "operator-psql" in str(error)


@pytest.mark.usefixtures("prefect_server")
def test_a_password_in_the_warehouse_url_never_reaches_prefect(
    landing_small: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server trusts local connections, so any password works; it must not be stored
    as a flow-run parameter, in a state message or in the logs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter
    from prefect.settings import PREFECT_API_URL

    monkeypatch.delenv("RXSTAFF_WAREHOUSE_URL", raising=False)
    # a server configured: the command runs the flow there
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    secret = "pw-" + uuid.uuid4().hex
    url = make_url(pg_url).set(password=secret).render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app,
        ["nightly", "--landing", str(landing_small), "--warehouse", url,
         "--run-date", "2030-01-01", "--max-roster-age", "36500"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName()))
        logs = client.read_logs(LogFilter())
    recorded = " ".join(str(r.parameters) + str(r.state) for r in runs)
    recorded += " ".join(log.message for log in logs)
    assert runs and secret not in recorded


def test_hostile_files_cost_one_file_or_one_row_never_the_night(
    landing_small: Path, url: str
) -> None:
    """Headers differing only by case reject that file, by name; a NUL byte in a cell
    quarantines that row (PostgreSQL's COPY refused the whole run); the rest loads."""
    rosters = sorted((landing_small / "roster").glob("*.csv"))
    doubled, nul = rosters[3], rosters[5]

    rows = csv_rows(doubled)
    write_csv(doubled, [[*rows[0], "FTE"], *[[*r, "1"] for r in rows[1:]]])
    rows = csv_rows(nul)
    department = [h.strip().lower() for h in rows[0]].index("department")
    rows[1][department] = "Ops\x00"
    write_csv(nul, rows)

    code, summary = run_nightly(landing_small, url)
    assert code == 1
    assert [r.split(":")[0] for r in summary.rejections] == [f"roster/{doubled.name}"]
    assert "name the same column 'fte'" in summary.rejections[0]
    assert summary.sources["roster"].files_loaded == len(rosters) - 1
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rules = conn.execute(sa.text("SELECT rule FROM etl_quarantine")).scalars().all()
        loaded = conn.execute(sa.text("SELECT COUNT(*) FROM fct_career_event")).scalar()
    engine.dispose()
    assert "department_has_no_nul_byte" in rules and loaded > 0


def test_an_auditors_command_under_a_bi_role_says_so_in_one_line(pg_warehouse_3y: str) -> None:
    with reader_role(pg_warehouse_3y, "rxstaff_bi") as (owner, role):
        grant_bi_role(owner, role)
        with owner.connect() as conn:
            release = conn.execute(
                sa.text("SELECT MIN(release_id) FROM fct_budget_release")
            ).scalar()
        reader = make_url(pg_warehouse_3y).set(username=role).render_as_string(hide_password=False)
        result = CliRunner().invoke(app, ["trace", "--release", release, "--warehouse", reader])
        assert result.exit_code == 2
        assert "rxstaff grant-audit" in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_a_nights_roster_rows_are_found_by_their_snapshot_date_not_a_full_scan(
    pg_warehouse_3y: str,
) -> None:
    """The history's append reads one snapshot's rows out of every staged one: the BRIN
    index must exist after a run and answer that predicate (and a correction's batch)."""
    from rxstaff.warehouse.schema import ROSTER_BY_SNAPSHOT

    engine = sa.create_engine(pg_warehouse_3y)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :i"),
                {"i": ROSTER_BY_SNAPSHOT},
            ).scalar()
            assert found is not None and "brin" in found.lower()
            day = conn.execute(sa.text("SELECT MAX(snapshot_date) FROM stg_roster")).scalar()
            batch = conn.execute(sa.text("SELECT MAX(batch_id) FROM stg_roster")).scalar()
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))  # a small table's choice
            for predicate, value in (("snapshot_date = :v", day), ("batch_id = :v", batch)):
                plan = conn.execute(
                    sa.text(f"EXPLAIN SELECT * FROM stg_roster WHERE {predicate}"), {"v": value}
                ).scalars()
                assert ROSTER_BY_SNAPSHOT in "\n".join(plan), predicate
    finally:
        engine.dispose()
