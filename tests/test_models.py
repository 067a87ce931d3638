"""Each model alone, on a few hand-built rows in an in-memory DuckDB: given rows -> rows.

No Prefect, no files: the warehouse schema, the shipped job catalog, the rows a model
reads, the model's declared SQL, and the rows it must give (worked out from the contract,
docs/contracts/warehouse.md). Runs in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from rxstaff.extract.reference import read_career_paths, read_job_catalog
from rxstaff.transforms.catalog import stage_career_paths, stage_catalog
from rxstaff.warehouse import anomalies, build, roster_history
from rxstaff.warehouse.declarations import build_order, declarations
from rxstaff.warehouse.loader import bulk_insert
from rxstaff.warehouse.schema import upgrade
from tests.tables import rows

D = date.fromisoformat
CATALOG = stage_catalog(read_job_catalog()).set_index("job_code")
PATHS = stage_career_paths(read_career_paths(), CATALOG.reset_index())


@pytest.fixture
def conn() -> Iterator[sa.Connection]:
    """An empty warehouse in memory, with the shipped job catalog."""
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.connect() as connection:
        upgrade(connection)
        build.ensure_tables(connection)
        build.load_seed(connection, "dim_job", CATALOG.reset_index())
        build.load_seed(connection, "int_career_path", PATHS)
        yield connection
    engine.dispose()


def given(conn: sa.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    bulk_insert(conn, table, pd.DataFrame(rows))
    conn.info.setdefault("given", set()).add(table)


# Models that only restate or narrow other relations' rows (employment periods are
# dim_employee's, the coverage is etl_batch's): built, unless the test gave them, from
# the rows it gave, before the model under test reads them.
RESTATED = (
    "int_roster_coverage", "int_employment_period", "int_observed_spell", "int_retention_year",
    "int_retention_cohort",
)  # fmt: skip


def upstream(model: str) -> set[str]:
    """Every relation the model reads, directly or through other models."""
    found: set[str] = set()
    for name in declarations()[model].depends_on:
        found.add(name)
        if name in declarations():
            found |= upstream(name)
    return found


def built(conn: sa.Connection, model: str, order_by: str) -> list[dict[str, Any]]:
    """Build one model (a view is read as it stands) and read its rows back."""
    decl = declarations()[model]
    needed = upstream(model) - conn.info.get("given", set())
    for restated in (d for d in declarations() if d in RESTATED and d in needed):
        build.build_table(conn, declarations()[restated])
    if decl.materialized == "table":
        build.build_table(conn, decl)
    else:
        build.refresh_views(conn, min_group_size=5)
    frame = pd.read_sql(sa.text(f"SELECT * FROM {model} ORDER BY {order_by}"), conn)
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")
    ]


def roster_run(employee: str, first: str, last: str, **values: Any) -> dict[str, Any]:
    """One int_roster_change row: an employee's state from one snapshot to another."""
    row = {
        "batch_id": 1,
        "row_number": 1,
        "snapshot_date": D(first),
        "last_seen": D(last),
        "employee_key": employee,
        "position_id": "P1",
        "job_code": "SPT1",
        "job_effective_date": D("2024-01-01"),
        "department": "Specialty Pharmacy Operations",
        "pharmacy_model": "specialty",
        "employment_status": "active",
        "hire_date": D("2024-01-01"),
        "termination_date": None,
        "termination_type": None,
        "fte": 1.0,
    }
    return {**row, **values}


def test_build_order_puts_every_model_after_what_it_reads() -> None:
    # The audit tables are the migrations' (given, never built): a model may read them
    order = [d.name for d in declarations().values() if d.materialized != "audit"]
    for position, name in enumerate(order):
        for dependency in declarations()[name].depends_on:
            if dependency in order:
                assert order.index(dependency) < position, f"{name} before {dependency}"


@pytest.mark.parametrize(
    ("sql", "rendered"),
    [
        ("\n  SELECT {{ all_or('g.m', 'model') }}", "SELECT CASE WHEN g.m = 1 THEN 'ALL' ELSE model END"),
        ("SELECT 1 -- no template", "SELECT 1 -- no template"),
    ],
)  # fmt: skip
def test_a_models_sql_is_rendered_with_the_projects_macros_and_vars(
    sql: str, rendered: str
) -> None:
    from rxstaff.warehouse.declarations import project, render

    assert render(sql) == rendered
    tracked = project()["vars"]["roster_state"]
    assert render("{{ roster_state | join(', ') }}") == ", ".join(tracked)


def test_an_unknown_name_in_a_models_sql_is_an_error() -> None:
    import jinja2

    from rxstaff.warehouse.declarations import render

    with pytest.raises(jinja2.UndefinedError, match="nope"):
        render("SELECT {{ nope }}")


def test_a_dependency_cycle_is_refused() -> None:
    from dataclasses import replace

    from rxstaff.warehouse.declarations import DeclarationError

    a = replace(declarations()["dim_date"], name="a", depends_on=("b",))
    b = replace(declarations()["dim_date"], name="b", depends_on=("a",))
    with pytest.raises(DeclarationError, match="cycle"):
        build_order([a, b])


def test_budget_release_keeps_the_latest_record_and_ties_go_to_the_later_file(
    conn: sa.Connection,
) -> None:
    base = {
        "position_id": "P9",
        "action": "backfill",
        "job_code": "SPT1",
        "pharmacy_model": "retail",
        "fte": 1.0,
        "annual_amount": 50000.0,
        "requested_date": D("2024-01-02"),
        "released_date": None,
        "status": "requested",
    }
    given(
        conn,
        "stg_budget_release",
        [
            {**base, "batch_id": 1, "row_number": 1, "file_date": D("2024-01-02"),
             "release_id": "BR-1", "record_updated_at": pd.Timestamp("2024-01-02 09:00")},
            {**base, "batch_id": 2, "row_number": 4, "file_date": D("2024-01-10"),
             "release_id": "BR-1", "record_updated_at": pd.Timestamp("2024-01-10 09:00"),
             "status": "released", "released_date": D("2024-01-09")},
            # BR-2: the same instant in two files; the later file wins.
            {**base, "batch_id": 2, "row_number": 5, "file_date": D("2024-01-10"),
             "release_id": "BR-2", "record_updated_at": pd.Timestamp("2024-01-05 12:00"),
             "status": "denied"},
            {**base, "batch_id": 1, "row_number": 2, "file_date": D("2024-01-05"),
             "release_id": "BR-2", "record_updated_at": pd.Timestamp("2024-01-05 12:00"),
             "status": "withdrawn"},
        ],
    )  # fmt: skip
    rows = built(conn, "fct_budget_release", "release_id")
    assert [(r["release_id"], r["status"], r["days_to_release"]) for r in rows] == [
        ("BR-1", "released", 7),  # 9 January - 2 January
        ("BR-2", "denied", None),
    ]
    assert (rows[0]["source_batch_id"], rows[0]["source_row_number"]) == (2, 4)


WEEKS = [D("2024-01-05"), D("2024-01-12"), D("2024-01-19"), D("2024-01-26"), D("2024-02-02")]
# employee -> its state per week (None: absent from that snapshot)
SNAPSHOTS: dict[str, list[dict[str, Any] | None]] = {
    "same": [{}, {}, {}, {}, {}],
    "promoted_then_back": [{}, {"job_code": "SPT2"}, {}, {}, {"job_code": "SPT2"}],
    "department_dropped": [{}, {"department": None}, {"department": None}, {}, {}],
    "absent_a_week": [{}, None, {}, {"fte": 0.5}, None],
}
# employee -> (first snapshot, last_seen) of each run, worked out from SNAPSHOTS by hand
RUNS = {
    "same": [("2024-01-05", "2024-02-02")],
    "promoted_then_back": [
        ("2024-01-05", "2024-01-05"),
        ("2024-01-12", "2024-01-12"),
        ("2024-01-19", "2024-01-26"),
        ("2024-02-02", "2024-02-02"),
    ],
    "department_dropped": [
        ("2024-01-05", "2024-01-05"),
        ("2024-01-12", "2024-01-19"),
        ("2024-01-26", "2024-02-02"),
    ],
    "absent_a_week": [("2024-01-05", "2024-01-19"), ("2024-01-26", "2024-01-26")],
}


def staged_week(week: int) -> list[dict[str, Any]]:
    """A week's file; each employee's row number moves from week to week."""
    rows = []
    for place, (employee, states) in enumerate(SNAPSHOTS.items()):
        state = states[week]
        if state is None:
            continue
        day = str(WEEKS[week])
        row_number = 2 + (place + week) % len(SNAPSHOTS)
        run = roster_run(employee, day, day, batch_id=week + 1, row_number=row_number, **state)
        del run["last_seen"]
        rows.append({**run, "supervisor_key": None})
    return rows


def roster_runs(conn: sa.Connection) -> pd.DataFrame:
    return pd.read_sql(
        sa.text("SELECT * FROM int_roster_change ORDER BY employee_key, snapshot_date"), conn
    )


@pytest.fixture(params=["duckdb", "postgresql"])
def history_conn(request: pytest.FixtureRequest) -> Iterator[sa.Connection]:
    """An empty warehouse on each engine: the history's SQL must give the same runs."""
    url = "duckdb:///:memory:"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        upgrade(connection)
        yield connection
    engine.dispose()


def test_roster_history_appended_night_by_night_equals_its_refresh(
    history_conn: sa.Connection,
) -> None:
    conn = history_conn
    hows = []
    for week, day in enumerate(WEEKS):
        given(conn, "stg_roster", staged_week(week))
        hows.append(roster_history.update(conn, [day], corrected=False))
    appended = roster_runs(conn)
    assert roster_history.update(conn, [], corrected=True) == "refresh"
    refreshed = roster_runs(conn)

    assert hows == ["refresh", *["append"] * 4]  # the first week fills an empty table
    pd.testing.assert_frame_equal(appended, refreshed)
    runs = {
        employee: [(str(r.snapshot_date), str(r.last_seen)) for r in group.itertuples()]
        for employee, group in refreshed.groupby("employee_key")
    }
    assert runs == RUNS
    # a run starts with the row it was first seen in: that week's file and its row there,
    # whether the employee came back to a state (the window) or never did (the grouping)
    first_rows = refreshed.set_index(["employee_key", "snapshot_date"])
    for employee, day in [("department_dropped", "2024-01-26"), ("absent_a_week", "2024-01-26")]:
        week = WEEKS.index(D(day))
        staged = next(r for r in staged_week(week) if r["employee_key"] == employee)
        first = first_rows.loc[(employee, D(day))]
        assert (first.batch_id, first.row_number) == (week + 1, staged["row_number"])


def test_training_of_an_employee_no_roster_showed_is_an_anomaly(
    history_conn: sa.Connection,
) -> None:
    conn = history_conn
    build.ensure_tables(conn)
    for week, day in enumerate(WEEKS[:2]):
        given(conn, "stg_roster", staged_week(week))
        roster_history.update(conn, [day], corrected=False)
    record = {"course_id": "C101", "required": False, "status": "assigned"}
    given(
        conn,
        "fct_training",
        [
            {**record, "record_id": "TR-1", "employee_key": "absent_a_week",
             "assigned_on": D("2024-01-08"), "source_batch_id": 7, "source_row_number": 2},
            {**record, "record_id": "TR-2", "employee_key": "nobody", "assigned_on":
             D("2024-01-09"), "source_batch_id": 8, "source_row_number": 3},
            {**record, "record_id": "TR-3", "employee_key": "nobody", "assigned_on":
             D("2024-01-03"), "source_batch_id": 9, "source_row_number": 4},
        ],
    )  # fmt: skip
    anomalies.rebuild_history_anomalies(conn, "run-1")
    found = conn.execute(
        sa.text(
            "SELECT employee_key, batch_id, observed_on, detail FROM etl_anomaly "
            "WHERE kind = 'training_employee_not_in_roster'"
        )
    ).all()
    # absent from a snapshot is still an employee the roster showed; "nobody" never was
    assert [tuple(r) for r in found] == [
        ("nobody", 8, D("2024-01-03"), "2 training record(s) of an employee no loaded "
         "roster shows, kept")
    ]  # fmt: skip


def test_employee_history_is_type_2_with_effective_dates(conn: sa.Connection) -> None:
    given(
        conn,
        "int_roster_change",
        [
            roster_run("e1", "2024-01-05", "2024-01-12"),
            roster_run(
                "e1",
                "2024-01-19",
                "2024-02-02",
                job_code="SPT2",
                job_effective_date=D("2024-01-15"),
                row_number=7,
            ),
        ],
    )
    build.build_table(conn, declarations()["int_employee_observation"])
    rows = built(conn, "dim_employee", "valid_from")
    assert [(r["job_code"], r["valid_from"], r["valid_to"], r["is_current"]) for r in rows] == [
        ("SPT1", D("2024-01-01"), D("2024-01-15"), False),  # from hire_date
        ("SPT2", D("2024-01-15"), None, True),  # from job_effective_date, not the snapshot
    ]
    assert rows[1]["source_row_number"] == 7


def test_career_events_hire_promotion_separation_and_rehire(conn: sa.Connection) -> None:
    assert CATALOG.loc["SPT2", "grade"] > CATALOG.loc["SPT1", "grade"]  # so: a promotion
    given(
        conn,
        "int_roster_change",
        [
            roster_run("e1", "2024-01-05", "2024-01-12"),
            roster_run(
                "e1", "2024-01-19", "2024-03-01", job_code="SPT2",
                job_effective_date=D("2024-01-15"),
            ),
            roster_run(
                "e1", "2024-03-08", "2024-03-08", job_code="SPT2",
                job_effective_date=D("2024-01-15"), employment_status="terminated",
                termination_date=D("2024-03-04"), termination_type="voluntary",
            ),
            roster_run(
                "e1", "2024-06-07", "2024-06-07", job_code="SPT2", position_id="P2",
                hire_date=D("2024-06-03"), job_effective_date=D("2024-06-03"),
            ),
        ],
    )  # fmt: skip
    build.build_table(conn, declarations()["int_employee_observation"])
    rows = built(conn, "fct_career_event", "event_date")
    assert [
        (r["event_date"], r["event_type"], r["from_job_code"], r["to_job_code"]) for r in rows
    ] == [
        (D("2024-01-01"), "hire", None, "SPT1"),
        (D("2024-01-15"), "promotion", "SPT1", "SPT2"),
        (D("2024-03-04"), "separation", "SPT2", None),
        (D("2024-06-03"), "rehire", None, "SPT2"),  # back after a separation: never a hire
    ]
    assert rows[2]["termination_type"] == "voluntary"


def test_a_declared_career_path_decides_before_the_grades(conn: sa.Connection) -> None:
    """SPT III -> MAP Coordinator I keeps grade 4, and the pharmacy declares it a promotion;
    MEDB1 -> PAS (same grade, not declared) stays a lateral move."""
    assert CATALOG.loc["SPT3", "grade"] == CATALOG.loc["MAPC1", "grade"]
    assert CATALOG.loc["MEDB1", "grade"] == CATALOG.loc["PAS", "grade"]
    given(
        conn,
        "int_roster_change",
        [
            roster_run("e1", "2024-01-05", "2024-01-12", job_code="SPT3"),
            roster_run("e1", "2024-02-02", "2024-02-02", job_code="MAPC1", position_id="P2",
                       job_effective_date=D("2024-01-29")),
            roster_run("e2", "2024-01-05", "2024-01-12", job_code="MEDB1", position_id="P3"),
            roster_run("e2", "2024-02-02", "2024-02-02", job_code="PAS", position_id="P4",
                       job_effective_date=D("2024-01-29")),
        ],
    )  # fmt: skip
    build.build_table(conn, declarations()["int_employee_observation"])
    rows = built(conn, "fct_career_event", "employee_key, event_date")
    moves = [(r["from_job_code"], r["to_job_code"], r["event_type"]) for r in rows]
    assert ("SPT3", "MAPC1", "promotion") in moves and ("MEDB1", "PAS", "lateral") in moves


def test_date_dimension_spans_whole_years_of_the_data(conn: sa.Connection) -> None:
    given(conn, "int_roster_change", [roster_run("e1", "2024-01-05", "2024-02-02")])
    given(
        conn,
        "stg_budget_release",
        [
            {
                "batch_id": 1,
                "row_number": 1,
                "file_date": D("2023-03-01"),
                "release_id": "BR-1",
                "position_id": "P1",
                "action": "new_position",
                "job_code": "SPT1",
                "requested_date": D("2023-03-01"),
                "status": "requested",
                "record_updated_at": pd.Timestamp("2023-03-01 08:00"),
            }
        ],
    )
    rows = built(conn, "dim_date", "date_day")
    assert (rows[0]["date_day"], rows[-1]["date_day"]) == (D("2023-01-01"), D("2024-12-31"))
    assert len(rows) == 365 + 366
    month_ends = [r["date_day"] for r in rows if r["month_end"]]
    assert len(month_ends) == 24 and D("2024-02-29") in month_ends


def test_career_progression_counts_moves_and_distinct_employees(conn: sa.Connection) -> None:
    move = {
        "event_type": "promotion",
        "from_job_code": "SPT1",
        "to_job_code": "SPT2",
        "from_position_id": "P1",
        "to_position_id": "P1",
        "pharmacy_model": "retail",
        "termination_type": None,
        "source_batch_id": 1,
        "source_row_number": 1,
    }
    given(
        conn,
        "fct_career_event",
        [
            {**move, "employee_key": "e1", "event_date": D("2024-02-01")},
            {**move, "employee_key": "e2", "event_date": D("2024-05-01")},
            {**move, "employee_key": "e1", "event_date": D("2025-01-10")},
            {**move, "employee_key": "e3", "event_date": D("2024-03-01"), "event_type": "hire"},
        ],
    )
    rows = built(conn, "mart_career_progression", "year")
    assert [(r["year"], r["event_type"], r["employees"], r["moves"]) for r in rows] == [
        (2024, "promotion", 2, 2),
        (2025, "promotion", 1, 1),  # hires are not moves
    ]


def tenure(employee: str, no: int, position: str, start: str, end: str | None, **kw: Any) -> dict:
    """One int_seat_tenure row: an employee's stay in a seat."""
    return {
        "employee_key": employee,
        "spell_no": 1,
        "tenure_no": no,
        "position_id": position,
        "job_code": "SPT1",
        "pharmacy_model": "specialty",
        "fte": 1.0,
        "started_on": D(start),
        "start_kind": "hire",
        "ended_on": D(end) if end else None,
        "end_reason": "separation" if end else None,
        "first_batch_id": 1,
        "first_row_number": 1,
        "left_batch_id": None,
        "left_row_number": None,
        **kw,
    }


def release(release_id: str, position: str, requested: str, status: str, **kw: Any) -> dict:
    """One fct_budget_release row (a release's latest state)."""
    return {
        "release_id": release_id,
        "position_id": position,
        "action": "backfill",
        "job_code": "SPT1",
        "pharmacy_model": "specialty",
        "fte": 1.0,
        "annual_amount": 50000.0,
        "requested_date": D(requested),
        "released_date": None,
        "status": status,
        "days_to_release": None,
        "source_batch_id": 1,
        "source_row_number": 1,
        **kw,
    }


def test_vacancy_requests_states_stages_and_lineage(conn: sa.Connection) -> None:
    given(
        conn,
        "int_seat_tenure",
        [
            # P1: e1 leaves 2024-03-01; e2 fills it 2024-06-01 and leaves 2024-08-01.
            tenure("e1", 1, "P1", "2024-01-01", "2024-03-01", left_batch_id=5, left_row_number=12),
            tenure("e2", 1, "P1", "2024-06-01", "2024-08-01", first_batch_id=9,
                   first_row_number=3, left_batch_id=11, left_row_number=4),
            # P2: e3 leaves 2024-05-10; e4 fills it 2024-05-20 and leaves 2024-05-30.
            tenure("e3", 1, "P2", "2023-01-01", "2024-05-10"),
            tenure("e4", 1, "P2", "2024-05-20", "2024-05-30"),
            # P3: e5 leaves 2024-04-01.
            tenure("e5", 1, "P3", "2023-01-01", "2024-04-01"),
        ],
    )  # fmt: skip
    given(
        conn,
        "fct_budget_release",
        [
            # P1, first vacancy: asked 20 days before the seat was left, denied; asked again,
            # released 2024-04-01.
            release("BR-10", "P1", "2024-02-10", "denied"),
            release("BR-11", "P1", "2024-03-05", "released", released_date=D("2024-04-01")),
            # P1, second vacancy: two requests the same day, withdrawn and denied: the lower
            # release_id decides which ended it.
            release("BR-12", "P1", "2024-07-15", "withdrawn"),
            release("BR-13", "P1", "2024-07-15", "denied"),
            # P2: in both vacancies' windows; the earlier vacancy claims it.
            release("BR-20", "P2", "2024-05-12", "requested"),
            # P3: denied.
            release("BR-30", "P3", "2024-04-20", "denied"),
            # A new seat, released 2024-02-01.
            release("BR-40", "P9", "2024-01-10", "released", action="new_position", fte=0.5,
                    released_date=D("2024-02-01")),
        ],
    )  # fmt: skip
    given(
        conn,
        "stg_budget_release",
        [  # the new seat's rows: requested, then released (the vacancy's opening row)
            {"batch_id": 2, "row_number": 1, "file_date": D("2024-01-10"), "release_id": "BR-40",
             "position_id": "P9", "action": "new_position", "job_code": "SPT1",
             "requested_date": D("2024-01-10"), "status": "requested",
             "record_updated_at": pd.Timestamp("2024-01-10 08:00")},
            {"batch_id": 3, "row_number": 7, "file_date": D("2024-02-01"), "release_id": "BR-40",
             "position_id": "P9", "action": "new_position", "job_code": "SPT1",
             "requested_date": D("2024-01-10"), "released_date": D("2024-02-01"),
             "status": "released", "record_updated_at": pd.Timestamp("2024-02-01 08:00")},
        ],
    )  # fmt: skip
    rows = {r["vacancy_id"]: r for r in built(conn, "fct_vacancy", "vacancy_id")}
    assert sorted(rows) == [
        "P1@2024-03-01", "P1@2024-08-01", "P2@2024-05-10", "P2@2024-05-30", "P3@2024-04-01",
        "P9@2024-02-01",
    ]  # fmt: skip

    first = rows["P1@2024-03-01"]
    assert {
        k: first[k]
        for k in (
            "budget_requested_on", "budget_released_on", "backfill_release_id", "budget_requests",
            "budget_denials", "state", "days_to_fill", "days_to_request",
            "days_waiting_for_budget", "days_release_to_fill", "opened_batch_id",
            "opened_row_number", "closed_batch_id", "closed_row_number",
        )
    } == {
        "budget_requested_on": D("2024-02-10"),
        "budget_released_on": D("2024-04-01"),
        "backfill_release_id": "BR-11",  # the release that gave budget_released_on
        "budget_requests": 2,
        "budget_denials": 1,
        "state": "filled",
        "days_to_fill": 92,  # 1 March -> 1 June 2024
        "days_to_request": -20,  # asked during the notice period
        "days_waiting_for_budget": 51,  # 10 February -> 1 April 2024 (a leap year)
        "days_release_to_fill": 61,  # 1 April -> 1 June
        "opened_batch_id": 5,
        "opened_row_number": 12,
        "closed_batch_id": 9,
        "closed_row_number": 3,
    }  # fmt: skip

    second = rows["P1@2024-08-01"]
    assert (second["state"], second["backfill_release_id"], second["budget_denials"]) == (
        "withdrawn",  # BR-12 and BR-13 tie on their date: BR-12 decides
        "BR-12",  # none released: the earliest request, the lower id on a tie
        1,
    )
    assert second["days_to_request"] == -17 and second["days_waiting_for_budget"] is None

    assert rows["P2@2024-05-10"]["budget_requests"] == 1
    assert rows["P2@2024-05-10"]["state"] == "filled"
    assert (rows["P2@2024-05-30"]["budget_requests"], rows["P2@2024-05-30"]["state"]) == (
        0,
        "no_request",  # BR-20 already belongs to the earlier vacancy
    )
    assert rows["P3@2024-04-01"]["state"] == "denied"

    new_seat = rows["P9@2024-02-01"]
    assert (new_seat["open_reason"], new_seat["fte"], new_seat["state"]) == (
        "new_position",
        0.5,
        "recruiting",
    )
    assert (new_seat["budget_requested_on"], new_seat["days_waiting_for_budget"]) == (
        D("2024-01-10"),
        22,
    )
    assert new_seat["days_to_request"] is None
    assert (new_seat["opened_batch_id"], new_seat["opened_row_number"]) == (3, 7)


def event(employee: str, day: str, kind: str, source: str | None, target: str | None, **kw: Any):
    """One fct_career_event row."""
    return {
        "event_date": D(day),
        "employee_key": employee,
        "event_type": kind,
        "from_job_code": source,
        "to_job_code": target,
        "from_position_id": "P1" if source else None,
        "to_position_id": "P2" if target else None,
        "pharmacy_model": "specialty",
        "termination_type": None,
        "source_batch_id": 1,
        "source_row_number": 1,
        **kw,
    }


def loaded_roster(conn: sa.Connection, *days: str) -> None:
    """etl_batch rows of loaded roster files: the first and latest snapshot (as_of_date)."""
    given(
        conn,
        "etl_batch",
        [
            {"batch_id": n, "run_id": "r", "source": "roster", "file_name": f"roster/{d}.csv",
             "file_date": D(d), "sha256": "x", "started_at": pd.Timestamp(d), "status": "loaded"}
            for n, d in enumerate(days, start=100)
        ],
    )  # fmt: skip


def test_role_spells_and_early_exits(conn: sa.Connection) -> None:
    given(
        conn,
        "fct_career_event",
        [
            # e1: SHIP from 2023-01-02; lateral to CSA after 59 days (an early exit); the
            # CSA spell is current.
            event("e1", "2023-01-02", "hire", None, "SHIP"),
            event("e1", "2023-03-02", "lateral", "SHIP", "CSA"),
            # e2: SHIP from 2023-01-10, a new seat with the same code (no new spell), then
            # promoted after 100 days (not an exit from the role: a step up).
            event("e2", "2023-01-10", "hire", None, "SHIP"),
            event("e2", "2023-02-01", "lateral", "SHIP", "SHIP"),
            event("e2", "2023-04-20", "promotion", "SHIP", "SPT1"),
            # e3: SHIP from 2023-02-01, separated after 200 days.
            event("e3", "2023-02-01", "hire", None, "SHIP"),
            event("e3", "2023-08-20", "separation", "SHIP", None, termination_type="voluntary"),
            # e4: SHIP from 2024-05-01: too recent to be observable for 90 days.
            event("e4", "2024-05-01", "rehire", None, "SHIP"),
        ],
    )  # fmt: skip
    loaded_roster(conn, "2023-01-02", "2024-06-30")  # as_of_date 2024-06-30
    spells = built(conn, "fct_role_spell", "employee_key, started_on")
    assert [
        (s["employee_key"], s["job_code"], s["started_on"], s["ended_on"], s["end_reason"],
         s["prior_job_code"])
        for s in spells
    ] == [
        ("e1", "SHIP", D("2023-01-02"), D("2023-03-02"), "lateral", None),
        ("e1", "CSA", D("2023-03-02"), None, None, "SHIP"),
        ("e2", "SHIP", D("2023-01-10"), D("2023-04-20"), "promotion", None),
        ("e2", "SPT1", D("2023-04-20"), None, None, "SHIP"),
        ("e3", "SHIP", D("2023-02-01"), D("2023-08-20"), "separation", None),
        ("e4", "SHIP", D("2024-05-01"), None, None, None),
    ]  # fmt: skip
    assert spells[4]["termination_type"] == "voluntary" and spells[0]["created_in_expansion"]

    exits = {(r["year"], r["job_code"]): r for r in built(conn, "mart_role_early_exit", "year")}
    ship_2023 = exits[(2023, "SHIP")]
    assert {k: ship_2023[k] for k in (
        "entries", "observable_90", "early_exits_90", "early_exit_rate_90", "observable_365",
        "early_exits_365", "early_exit_rate_365", "separations_365",
    )} == {
        "entries": 3, "observable_90": 3,
        "early_exits_90": 1,  # e1's lateral after 59 days; e2's promotion is no exit
        "early_exit_rate_90": 1 / 3,
        "observable_365": 3,
        "early_exits_365": 2,  # and e3's separation after 200 days
        "early_exit_rate_365": 2 / 3,
        "separations_365": 1,
    }  # fmt: skip
    ship_2024 = exits[(2024, "SHIP")]
    assert (ship_2024["entries"], ship_2024["observable_90"], ship_2024["early_exit_rate_90"]) == (
        1,
        0,  # started 60 days before as_of_date
        None,
    )


def test_roles_by_model_and_roles_unique_to_one(conn: sa.Connection) -> None:
    def period(employee: str, job: str, model: str, start: str, end: str | None = None):
        return {
            "employee_key": employee, "job_code": job, "position_id": "P" + employee,
            "pharmacy_model": model, "department": None, "fte": 1.0,
            "employment_status": "active", "hire_date": D(start), "valid_from": D(start),
            "valid_to": D(end) if end else None, "is_current": end is None,
            "source_batch_id": 1, "source_row_number": 1,
        }  # fmt: skip

    given(
        conn,
        "dim_employee",
        [
            period("e1", "SPT1", "specialty", "2023-01-01"),
            period("e2", "SPT1", "retail", "2023-01-01"),
            period("e3", "PAS", "specialty", "2023-01-01"),
            period("e4", "AMBT", "ambulatory", "2023-06-01", "2024-02-01"),  # left in 2024
        ],
    )
    loaded_roster(conn, "2023-01-02", "2024-03-01")
    rows = {(r["year"], r["job_code"], r["pharmacy_model"]): r for r in
            built(conn, "mart_role_by_model", "year, job_code, pharmacy_model")}  # fmt: skip
    assert sorted(rows) == [
        (2023, "AMBT", "ambulatory"), (2023, "PAS", "specialty"), (2023, "SPT1", "retail"),
        (2023, "SPT1", "specialty"), (2024, "PAS", "specialty"), (2024, "SPT1", "retail"),
        (2024, "SPT1", "specialty"),
    ]  # fmt: skip
    assert rows[(2024, "PAS", "specialty")]["on_date"] == D("2024-03-01")  # the current year
    assert rows[(2023, "PAS", "specialty")]["unique_to_model"] is True
    assert rows[(2023, "SPT1", "retail")]["models_with_role"] == 2
    assert rows[(2023, "SPT1", "retail")]["unique_to_model"] is False


def training(
    record: str,
    employee: str,
    course: str,
    job: str | None,
    assigned: str,
    status: str,
    completed: str | None = None,
    hours: float | None = None,
    file_date: str = "2023-01-01",
    updated: str | None = None,
) -> dict[str, Any]:
    """One stg_training_record row (a change of a record, as one file carried it)."""
    return {
        "batch_id": 1, "row_number": 1, "file_date": D(file_date), "record_id": record,
        "employee_key": employee, "course_id": course, "course_title": f"course {course}",
        "job_code": job, "required": job is not None, "assigned_on": D(assigned),
        "completed_on": D(completed) if completed else None, "hours": hours, "status": status,
        "record_updated_at": pd.Timestamp(updated or file_date),
    }  # fmt: skip


def test_training_latest_state_spells_and_readiness(conn: sa.Connection) -> None:
    given(
        conn,
        "fct_career_event",
        [
            event("t1", "2023-01-02", "hire", None, "SHIP"),
            event("t2", "2023-02-01", "hire", None, "SHIP"),
            event("t2", "2023-05-01", "promotion", "SHIP", "SPT1"),
        ],
    )
    given(
        conn,
        "stg_training_record",
        [
            # t1's SHIP spell: R1 assigned 13 days before the start (counts), first sent as
            # assigned, then corrected in a later file as completed.
            training("TR-1", "t1", "C101", "SHIP", "2022-12-20", "assigned",
                     file_date="2022-12-20"),
            training("TR-1", "t1", "C101", "SHIP", "2022-12-20", "completed", "2023-02-10", 4,
                     file_date="2023-02-10"),
            training("TR-2", "t1", "C102", "SHIP", "2023-01-02", "waived",
                     file_date="2023-01-20"),  # waived: not a requirement
            training("TR-3", "t1", "C103", "SHIP", "2023-01-02", "completed", "2023-03-15", 6,
                     file_date="2023-03-15"),
            training("TR-4", "t1", "C900", None, "2022-12-01", "completed", "2022-12-28", 2,
                     file_date="2022-12-28"),  # completed before the spell started
            training("TR-5", "t1", "C901", None, "2023-05-01", "completed", "2023-06-01", 3,
                     file_date="2023-06-01"),
            # t2: SHIP's course never completed; SPT1's assigned 26 days before the move.
            training("TR-6", "t2", "C101", "SHIP", "2023-02-01", "assigned",
                     file_date="2023-02-01"),
            training("TR-7", "t2", "C111", "SPT1", "2023-04-05", "completed", "2023-07-01", 8,
                     file_date="2023-07-01"),
            training("TR-8", "t2", "C112", "SPT1", "2023-04-05", "cancelled",
                     file_date="2023-04-20"),
        ],
    )  # fmt: skip
    loaded_roster(conn, "2023-01-02", "2024-06-30")  # as_of_date 2024-06-30
    records = {r["record_id"]: r for r in built(conn, "fct_training", "record_id")}
    assert (records["TR-1"]["status"], records["TR-1"]["days_to_complete"]) == ("completed", 52)
    spells = built(conn, "fct_role_spell", "employee_key, started_on")
    assert [
        (s["employee_key"], s["job_code"], s["required_courses"], s["proficient_on"],
         s["days_to_proficiency"], s["training_hours_first_180"])
        for s in spells
    ] == [
        ("t1", "SHIP", 2, D("2023-03-15"), 72, 13.0),  # TR-1 and TR-3; hours 4 + 6 + 3
        ("t2", "SHIP", 1, None, None, 8.0),  # TR-6 open; TR-7's hours fall in its 180 days
        ("t2", "SPT1", 1, D("2023-07-01"), 61, 8.0),  # TR-8 cancelled
    ]  # fmt: skip
    readiness = {(r["year"], r["job_code"]): r for r in built(conn, "mart_role_readiness", "year")}
    ship = readiness[(2023, "SHIP")]
    assert {k: ship[k] for k in (
        "entries", "entries_with_requirements", "proficient_within_90", "proficiency_rate_90",
        "median_days_to_proficiency", "avg_training_hours_first_180",
    )} == {
        "entries": 2, "entries_with_requirements": 2, "proficient_within_90": 1,
        "proficiency_rate_90": 0.5, "median_days_to_proficiency": 72.0,
        "avg_training_hours_first_180": 10.5,
    }  # fmt: skip
    assert readiness[(2023, "SPT1")]["proficiency_rate_90"] == 1.0


def test_without_training_files_training_figures_are_empty_not_zero(conn: sa.Connection) -> None:
    given(conn, "fct_career_event", [event("t1", "2023-01-02", "hire", None, "SHIP")])
    loaded_roster(conn, "2023-01-02", "2024-06-30")
    built(conn, "fct_training", "record_id")
    spell = built(conn, "fct_role_spell", "employee_key")[0]
    assert (spell["required_courses"], spell["training_hours_first_180"]) == (None, None)
    row = built(conn, "mart_role_readiness", "year")[0]
    assert (row["entries"], row["entries_with_requirements"], row["proficiency_rate_90"]) == (
        1,
        None,
        None,
    )


SPT, SHIPPING = "Specialty Pharmacy Technician", "Shipping"


def survey(
    conn: sa.Connection,
    year: int,
    items: list[tuple[str, str, str]],
    people: list[tuple[str, str, dict[str, int]]],
    close: str,
) -> None:
    """A year's codebook (question_id, dimension, text) and its responses (family, day,
    answers by question_id); batch = the year, row = the respondent's place."""
    given(conn, "stg_survey_item", [
        {"batch_id": year, "row_number": n, "survey_year": year, "question_id": q,
         "dimension": d, "text": t}
        for n, (q, d, t) in enumerate(items, start=1)
    ])  # fmt: skip
    given(conn, "stg_survey_respondent", [
        {"batch_id": year, "row_number": n, "survey_year": year, "response_id": f"R{year}-{n}",
         "submitted_at": pd.Timestamp(day), "department": "Specialty Pharmacy Operations",
         "pharmacy_model": "specialty", "job_family": family, "tenure_band": "1-3"}
        for n, (family, day, _) in enumerate(people, start=1)
    ])  # fmt: skip
    given(conn, "stg_survey_answer", [
        {"batch_id": year, "row_number": n, "question_id": q, "answer": a}
        for n, (_, _, answers) in enumerate(people, start=1)
        for q, a in answers.items()
    ])  # fmt: skip
    assert max(day for _, day, _ in people) == close


def employee(key: str, job: str, hired: str) -> dict[str, Any]:
    return {
        "employee_key": key, "job_code": job, "position_id": f"P-{key}",
        "pharmacy_model": "specialty", "department": "Specialty Pharmacy Operations",
        "fte": 1.0, "employment_status": "active", "hire_date": D(hired),
        "valid_from": D(hired), "valid_to": None, "is_current": True,
        "source_batch_id": 1, "source_row_number": 1,
    }  # fmt: skip


def test_engagement_like_for_like_items_suppression_and_retention(conn: sa.Connection) -> None:
    # 2023: proud and recommend (engagement), the ladder (career growth), a manager item.
    survey(conn, 2023, [
        ("q01", "engagement", "I am proud to work here"),
        ("q02", "engagement", "I would recommend this pharmacy"),
        ("q03", "career_growth", "The career ladder is clear to me"),
        ("q04", "manager", "My supervisor supports me"),
    ], [
        (SPT, "2023-10-15", {"q01": 4, "q02": 2, "q03": 5, "q04": 3}) for _ in range(5)
    ], close="2023-10-15")  # fmt: skip
    # 2024: the ladder renumbered q01; proud renumbered and respaced; a new engagement
    # item; the manager item's text changed (a different item); five SPT and four
    # Shipping respondents (a group of 4, and its complement).
    answers = {"q01": 4, "q02": 5, "q03": 1, "q04": 2, "q05": 3}
    survey(conn, 2024, [
        ("q01", "career_growth", "The career ladder is clear to me"),
        ("q02", "engagement", "  I am PROUD   to work here "),
        ("q03", "engagement", "I feel valued"),
        ("q04", "manager", "My supervisor supports me!"),
        ("q05", "engagement", "I would recommend this pharmacy"),
    ], [(SPT, "2024-10-20", answers) for _ in range(5)]
       + [(SHIPPING, "2024-10-01", answers) for _ in range(4)],
       close="2024-10-20")  # fmt: skip
    # Ten SPT employees on both close dates; one leaves within a year of the 2023 close
    # (voluntary), one 400 days after it.
    staff = [employee(f"e{n}", "SPT1", "2020-01-01") for n in range(10)]
    staff[1] = {**staff[1], "valid_to": D("2024-03-01"), "is_current": False}
    left = {"employment_status": "terminated", "valid_from": D("2024-03-01")}
    given(conn, "dim_employee", [*staff, {**employee("e1", "SPT1", "2020-01-01"), **left}])
    given(conn, "fct_career_event", [
        event("e1", "2024-03-01", "separation", "SPT1", None, termination_type="voluntary"),
        event("e2", "2024-11-18", "separation", "SPT1", None, termination_type="voluntary"),
    ])  # fmt: skip
    loaded_roster(conn, "2023-01-02", "2024-12-31")  # as_of_date 2024-12-31
    for model in ("dim_survey_item", "int_survey_population", "int_survey_group_member"):
        built(conn, model, "survey_year")
    built(conn, "int_survey_respondent_score", "batch_id, row_number")

    items = built(conn, "dim_survey_item", "survey_year, question_id")
    key = {(i["survey_year"], i["question_id"]): i["item_key"] for i in items}
    assert key[(2023, "q01")] == key[(2024, "q02")]  # proud: case and spaces ignored
    assert key[(2023, "q03")] == key[(2024, "q01")]  # the ladder, renumbered
    assert key[(2023, "q04")] != key[(2024, "q04")]  # "!" counts: a changed text

    rows = built(conn, "mart_engagement", "survey_year, group_by, group_value")
    engagement = {(r["survey_year"], r["group_by"], r["group_value"]): r for r in rows}
    all_2024 = engagement[(2024, "ALL", "ALL")]
    # Each 2024 respondent: engagement (5 + 1 + 3) / 3 = 3 -> 50.0; over the items also
    # asked in 2023 (proud 5, recommend 3): 4 -> 75.0. 2023 over the same items: 3 -> 50.0.
    assert (all_2024["engagement_index"], all_2024["engagement_index_comparable"]) == (50, 75)
    assert all_2024["engagement_change"] == 25
    assert all_2024["favorable_pct"] == 9 / 27
    assert (all_2024["respondents"], all_2024["headcount_at_close"]) == (9, 9)
    assert all_2024["response_rate"] == 1.0  # e1 left in March: 9 employees on 2024-10-20
    assert engagement[(2023, "ALL", "ALL")]["engagement_index_comparable"] is None
    assert engagement[(2023, "ALL", "ALL")]["response_rate"] == 5 / 10
    shipping = engagement[(2024, "job_family", SHIPPING)]
    spt = engagement[(2024, "job_family", SPT)]
    assert (shipping["suppressed"], shipping["respondents"], shipping["engagement_index"]) == (
        True, None, None)  # fmt: skip
    # suppressed only to protect Shipping: no count either (v3), or ALL minus it gives 4
    assert (spt["suppressed"], spt["respondents"], spt["engagement_index"]) == (True, None, None)
    assert spt["engagement_change"] is None and spt["response_rate"] is None

    by_item = {
        (r["survey_year"], r["group_by"], r["group_value"], r["item_key"]): r
        for r in built(conn, "mart_engagement_item", "survey_year")
    }
    proud = by_item[(2024, "ALL", "ALL", key[(2024, "q02")])]
    assert (proud["answered"], proud["mean_score"], proud["favorable_pct"]) == (9, 100, 1.0)
    assert proud["change_vs_prior"] == 25  # 2023: (4 - 1) * 25 = 75.0
    ladder = by_item[(2024, "ALL", "ALL", key[(2024, "q01")])]
    assert (ladder["mean_score"], ladder["change_vs_prior"]) == (75, -25)
    assert by_item[(2024, "ALL", "ALL", key[(2024, "q04")])]["change_vs_prior"] is None
    hidden = by_item[(2024, "job_family", SHIPPING, key[(2024, "q02")])]
    assert hidden["suppressed"] and hidden["answered"] is None and hidden["mean_score"] is None

    retention = {
        (r["survey_year"], r["group_by"], r["group_value"]): r
        for r in built(conn, "mart_engagement_retention", "survey_year")
    }
    after_2023 = retention[(2023, "ALL", "ALL")]
    assert after_2023["complete"] and after_2023["headcount_at_close"] == 10
    assert (after_2023["separations_next_12m"], after_2023["retention_next_12m"]) == (1, 0.9)
    assert after_2023["voluntary_separations_next_12m"] == 1
    after_2024 = retention[(2024, "ALL", "ALL")]
    assert not after_2024["complete"] and after_2024["separations_next_12m"] is None
    assert (2023, "department", "Specialty Pharmacy Operations") not in retention


@pytest.mark.parametrize("size", [29, 30])
def test_drivers_need_thirty_respondents(conn: sa.Connection, size: int) -> None:
    # The manager item rises with engagement exactly (1..5 cycling): Pearson r = 1; the
    # workload item falls as engagement rises: r = -1.
    people = [
        (SPT, "2024-10-01", {"q01": n % 5 + 1, "q02": n % 5 + 1, "q03": 5 - n % 5})
        for n in range(size)
    ]
    items = [
        ("q01", "engagement", "Proud"),
        ("q02", "manager", "Boss"),
        ("q03", "workload", "Load"),
    ]
    survey(conn, 2024, items, people, close="2024-10-01")
    for model in ("dim_survey_item", "int_survey_population", "int_survey_group_member"):
        built(conn, model, "survey_year")
    built(conn, "int_survey_respondent_score", "batch_id, row_number")
    drivers = {r["item_text"]: r for r in built(conn, "mart_engagement_drivers", "item_text")}
    assert set(drivers) == {"Boss", "Load"}  # never an engagement item
    assert drivers["Boss"]["respondents"] == size
    expected = (1.0, -1.0) if size >= 30 else (None, None)
    assert (drivers["Boss"]["impact"], drivers["Load"]["impact"]) == expected


# --- contract version 3 ---------------------------------------------------------------------


def test_a_vacancy_carries_the_budget_its_request_asked_for(conn: sa.Connection) -> None:
    given(conn, "int_seat_tenure", [
        tenure("e1", 1, "P1", "2023-01-01", "2024-03-01"),
        tenure("e2", 1, "P2", "2023-01-01", "2024-05-10"),
        tenure("e3", 1, "P3", "2023-01-01", "2024-04-01"),
    ])  # fmt: skip
    given(conn, "fct_budget_release", [
        release("BR-1", "P1", "2024-03-05", "released", released_date=D("2024-04-01"),
                annual_amount=52000.55),
        # P3: the earliest request, still open, decides while none is released
        release("BR-3", "P3", "2024-04-02", "requested", annual_amount=48000.0),
        release("BR-4", "P3", "2024-04-20", "denied", annual_amount=61000.0),
    ])  # fmt: skip
    rows = built(conn, "fct_vacancy", "vacancy_id")
    amount = lambda v: None if v is None else float(v)  # noqa: E731 - DECIMAL or a given float
    assert [(r["vacancy_id"], r["backfill_release_id"], amount(r["budget_amount"]), r["state"])
            for r in rows] == [
        ("P1@2024-03-01", "BR-1", 52000.55, "recruiting"),
        ("P2@2024-05-10", None, None, "no_request"),
        ("P3@2024-04-01", "BR-3", 48000.0, "awaiting_budget"),
    ]  # fmt: skip


def vacancy(vacancy_id: str, opened: str, reason: str, closed: str | None = None, **kw: Any):
    """One fct_vacancy row: a seat of SPT1 in specialty unless told otherwise."""
    position, _ = vacancy_id.split("@")
    row = {column: None for column in declarations()["fct_vacancy"].column_names}
    row.update(
        vacancy_id=vacancy_id, position_id=position, job_code="SPT1", pharmacy_model="specialty",
        fte=1.0, opened_on=D(opened), open_reason=reason, budget_requests=0, budget_denials=0,
        closed_on=D(closed) if closed else None, state="filled" if closed else "no_request",
        days_to_fill=(D(closed) - D(opened)).days if closed else None,
    )  # fmt: skip
    return {**row, **kw}


BY_REASON = rows("""
    open_reason   | opened | filled | filled_internally | internal_fill_rate | still_open | median_days_open_unfilled | median_days_to_fill
    ALL           | 4      | 2      | 1                 | 0.5                | 2          | 167.0                     | 40.0
    separation    | 2      | 2      | 1                 | 0.5                | 0          |                           | 40.0
    internal_move | 1      | 0      | 0                 |                    | 1          | 213.0                     |
    new_position  | 1      | 0      | 0                 |                    | 1          | 121.0                     |
""")  # fmt: skip


def test_backfill_delays_by_reason_with_internal_fills_and_seats_still_open(
    conn: sa.Connection,
) -> None:
    given(conn, "fct_vacancy", [
        vacancy("P1@2024-01-10", "2024-01-10", "separation", "2024-03-10", filled_internally=True),
        vacancy("P2@2024-02-01", "2024-02-01", "separation", "2024-02-21",
                filled_internally=False),
        # open on as_of_date (2024-12-31): for 213 and 121 days
        vacancy("P3@2024-06-01", "2024-06-01", "internal_move", state="awaiting_budget",
                budget_amount=48000.0),
        vacancy("P4@2024-09-01", "2024-09-01", "new_position", job_code="SHIP",
                state="recruiting", budget_amount=30000.0),
    ])  # fmt: skip
    loaded_roster(conn, "2023-01-02", "2024-12-31")
    found = {
        r["open_reason"]: r
        for r in built(conn, "mart_backfill_delays", "open_reason")
        if (r["year"], r["job_family"], r["pharmacy_model"]) == (2024, "ALL", "ALL")
    }
    for want in BY_REASON:
        got = found[want["open_reason"]]
        assert (got["vacancies_opened"], got["vacancies_filled"]) == (
            want["opened"],
            want["filled"],
        )
        for column in ("filled_internally", "internal_fill_rate", "still_open",
                       "median_days_open_unfilled", "median_days_to_fill"):  # fmt: skip
            assert got[column] == want[column], (want["open_reason"], column)


BACKLOG = rows("""
    job_family                    | state           | open_vacancies | awaiting_budget_amount
    ALL                           | ALL             | 3              | 48000.0
    ALL                           | awaiting_budget | 2              | 48000.0
    ALL                           | recruiting      | 1              | 0.0
    Shipping                      | ALL             | 2              | 0.0
    Specialty Pharmacy Technician | awaiting_budget | 1              | 48000.0
""")  # fmt: skip


def test_the_backlog_says_what_money_awaits_release(conn: sa.Connection) -> None:
    given(conn, "fct_vacancy", [
        vacancy("P3@2024-06-01", "2024-06-01", "internal_move", state="awaiting_budget",
                budget_amount=48000.0),
        vacancy("P4@2024-09-01", "2024-09-01", "new_position", job_code="SHIP",
                state="recruiting", budget_amount=30000.0),
        # awaiting a budget whose amount the release did not say: counted as open, no money
        vacancy("P5@2024-10-01", "2024-10-01", "separation", job_code="SHIP",
                state="awaiting_budget"),
    ])  # fmt: skip
    given(conn, "int_employment_period", [])
    loaded_roster(conn, "2023-01-02", "2024-12-31")
    found = {
        (r["job_family"], r["state"]): r
        for r in built(conn, "mart_vacancy_backlog", "job_family, state")
        if r["pharmacy_model"] == "ALL"
    }
    for want in BACKLOG:
        got = found[(want["job_family"], want["state"])]
        assert got["open_vacancies"] == want["open_vacancies"]
        assert float(got["awaiting_budget_amount"]) == want["awaiting_budget_amount"]


NEW_HIRES = rows("""
    hire_year | job_family                    | pharmacy_model | hires | observable_365 | left_within_365 | first_year_turnover_rate
    2023      | Shipping                      | specialty      | 2     | 2              | 1               | 0.5
    2023      | Specialty Pharmacy Technician | retail         | 1     | 0              | 0               |
    2023      | ALL                           | ALL            | 3     | 2              | 1               | 0.5
    2024      | Shipping                      | specialty      | 1     | 0              | 0               |
""")  # fmt: skip


def test_new_hires_first_year(conn: sa.Connection) -> None:
    given(conn, "fct_career_event", [
        # h1 leaves after 147 days, then is rehired: the rehire is a hire of its own
        event("h1", "2023-01-05", "hire", None, "SHIP"),
        event("h1", "2023-06-01", "separation", "SHIP", None, termination_type="voluntary"),
        event("h1", "2024-01-02", "rehire", None, "SHIP"),
        # h2 leaves after 394 days: not within the first year
        event("h2", "2023-02-01", "hire", None, "SHIP"),
        event("h2", "2024-03-01", "separation", "SHIP", None, termination_type="voluntary"),
        # h3 hired 212 days before as_of_date: not observable yet
        event("h3", "2023-12-01", "hire", None, "SPT1", pharmacy_model="retail"),
    ])  # fmt: skip
    loaded_roster(conn, "2023-01-02", "2024-06-30")
    found = {
        (r["hire_year"], r["job_family"], r["pharmacy_model"]): r
        for r in built(conn, "mart_new_hire_retention", "hire_year")
    }
    for want in NEW_HIRES:
        got = found[(want["hire_year"], want["job_family"], want["pharmacy_model"])]
        assert {k: got[k] for k in want} == want


def test_how_long_people_wait_for_a_step(conn: sa.Connection) -> None:
    given(conn, "fct_career_event", [
        event("p1", "2022-01-03", "hire", None, "SPT1"),
        event("p1", "2023-01-02", "promotion", "SPT1", "SPT2"),  # 364 days in SPT1
        event("p2", "2022-06-01", "hire", None, "SPT1"),
        event("p2", "2023-06-01", "promotion", "SPT1", "SPT2"),  # 365 days
        event("p3", "2021-01-01", "hire", None, "SPT2"),
        event("p3", "2023-03-01", "promotion", "SPT2", "SPT3"),  # 789 days
    ])  # fmt: skip
    built(conn, "fct_role_spell", "employee_key")
    timing = built(conn, "mart_promotion_timing", "year, from_job_code")
    assert [(r["year"], r["from_job_code"], r["to_job_code"], r["promotions"],
             r["median_days_in_job"]) for r in timing] == [
        (2023, "SPT1", "SPT2", 2, Decimal("364.5")),
        (2023, "SPT2", "SPT3", 1, Decimal("789.0")),
    ]  # fmt: skip


def cohort(employee: str, family: str, retained: bool) -> dict[str, Any]:
    """One int_retention_cohort row of 2024 (start day 2023-12-31), model specialty."""
    return {"year": 2024, "start_day": D("2023-12-31"), "employee_key": employee,
            "job_family": family, "pharmacy_model": "specialty", "retained": retained}  # fmt: skip


BY_PROMOTION = rows("""
    job_family                    | promoted_last_24m | start_headcount | retained | retention_rate
    Specialty Pharmacy Technician | true              | 1               | 1        | 1.0
    Specialty Pharmacy Technician | false             | 2               | 1        | 0.5
    MAP Coordinator               | false             | 1               | 1        | 1.0
    ALL                           | true              | 1               | 1        | 1.0
    ALL                           | false             | 3               | 2        | 0.6666666666666666
""")  # fmt: skip


def test_retention_of_the_promoted_and_the_rest(conn: sa.Connection) -> None:
    given(conn, "int_retention_cohort", [
        cohort("r1", SPT, True), cohort("r2", SPT, False), cohort("r3", "MAP Coordinator", True),
        cohort("r4", SPT, True),
    ])  # fmt: skip
    given(conn, "fct_career_event", [
        event("r1", "2023-06-01", "promotion", "SPT1", "SPT2"),  # within the 24 months
        event("r3", "2021-12-01", "promotion", "SPT3", "MAPC1"),  # before 2022-01-01: no
        event("r4", "2024-02-01", "promotion", "SPT1", "SPT2"),  # after the start day: no
    ])  # fmt: skip
    loaded_roster(conn, "2022-06-01", "2024-06-30")  # the data began under 24 months before
    found = {
        (r["job_family"], r["promoted_last_24m"]): r
        for r in built(conn, "mart_retention_by_promotion", "job_family")
    }
    assert len(found) == len(BY_PROMOTION)
    for want in BY_PROMOTION:
        got = found[(want["job_family"], want["promoted_last_24m"])]
        assert {k: got[k] for k in want} == want
        assert got["year"] == 2024 and got["lookback_complete"] is False


def period(employee: str, job: str, start: str, end: str | None = None) -> dict[str, Any]:
    """One int_employment_period row."""
    return {"employee_key": employee, "job_code": job, "position_id": f"P-{employee}-{job}",
            "pharmacy_model": "specialty", "department": "Specialty Pharmacy Operations",
            "fte": 1.0, "hire_date": D("2020-01-01"), "employed_from": D(start),
            "employed_until": D(end) if end else None}  # fmt: skip


PATHWAYS = rows("""
    from_family                   | to_family       | highest_job_code | employees
    Specialty Pharmacy Technician | MAP Coordinator | ALL              | 5
    Specialty Pharmacy Technician | MAP Coordinator | MAPC1            | 3
    Specialty Pharmacy Technician | MAP Coordinator | MAPC2            | 1
    Specialty Pharmacy Technician | MAP Coordinator | MAPC3            | 1
    MAP Coordinator               | Supervision     | ALL              | 1
    MAP Coordinator               | Supervision     | TECHSUP          | 1
""")  # fmt: skip


def test_where_people_who_crossed_families_went(conn: sa.Connection) -> None:
    given(conn, "fct_career_event", [
        event("a", "2023-01-01", "promotion", "SPT3", "MAPC1"),
        event("a", "2023-07-01", "promotion", "MAPC1", "MAPC2"),
        event("a", "2024-01-01", "promotion", "MAPC2", "MAPC3"),
        event("b", "2023-03-01", "promotion", "SPT3", "MAPC1"),
        event("c", "2023-05-01", "promotion", "SPT3", "MAPC1"),
        event("c", "2023-09-01", "promotion", "MAPC1", "MAPC2"),
        event("c", "2024-01-01", "demotion", "MAPC2", "MAPC1"),  # MAPC2 was held all the same
        event("d", "2023-06-01", "promotion", "SPT3", "MAPC1"),
        event("d", "2024-01-01", "promotion", "MAPC1", "TECHSUP"),  # on to Supervision
        # e crosses twice (after a separation and a rehire): counted once
        event("e", "2023-02-01", "promotion", "SPT3", "MAPC1"),
        event("e", "2024-02-01", "promotion", "SPT3", "MAPC1"),
    ])  # fmt: skip
    given(conn, "int_employment_period", [
        period("a", "MAPC1", "2023-01-01", "2023-07-01"), period("a", "MAPC2", "2023-07-01",
        "2024-01-01"), period("a", "MAPC3", "2024-01-01"),
        period("b", "MAPC1", "2023-03-01"),
        period("c", "MAPC1", "2023-05-01", "2023-09-01"), period("c", "MAPC2", "2023-09-01",
        "2024-01-01"), period("c", "MAPC1", "2024-01-01"),
        period("d", "MAPC1", "2023-06-01", "2024-01-01"), period("d", "TECHSUP", "2024-01-01"),
        period("e", "MAPC1", "2023-02-01", "2023-05-01"), period("e", "SPT3", "2023-08-01",
        "2024-02-01"), period("e", "MAPC1", "2024-02-01"),
    ])  # fmt: skip
    loaded_roster(conn, "2022-12-30", "2024-06-30")
    found = built(conn, "mart_pathway_outcomes", "from_family, to_family, highest_job_code")
    assert sorted((r["from_family"], r["to_family"], r["highest_job_code"], r["employees"])
                  for r in found) == sorted(tuple(r.values()) for r in PATHWAYS)  # fmt: skip


def test_a_driver_is_clear_only_when_its_interval_excludes_zero(conn: sa.Connection) -> None:
    """The interval worked out a second way: Python's own correlation and Fisher's z."""
    import math
    import statistics

    engagement = [n % 5 + 1 for n in range(40)]
    weak = [(n * 7 + 3) % 5 + 1 for n in range(40)]  # scrambled: a correlation near 0
    strong = [min(5, e + (n % 2)) for n, e in enumerate(engagement)]
    survey(conn, 2024, [("q01", "engagement", "Proud"), ("q02", "manager", "Boss"),
                        ("q03", "workload", "Load")],
           [(SPT, "2024-10-01", {"q01": e, "q02": s, "q03": w})
            for e, s, w in zip(engagement, strong, weak, strict=True)],
           close="2024-10-01")  # fmt: skip
    given(conn, "dim_employee", [employee(f"e{n}", "SPT1", "2020-01-01") for n in range(40)])
    loaded_roster(conn, "2023-01-02", "2024-12-31")
    for model in ("dim_survey_item", "int_survey_population", "int_survey_group_member"):
        built(conn, model, "survey_year")
    built(conn, "int_survey_respondent_score", "batch_id, row_number")
    drivers = {r["item_text"]: r for r in built(conn, "mart_engagement_drivers", "item_text")}
    for text, answers in (("Boss", strong), ("Load", weak)):
        r = statistics.correlation(answers, engagement)
        half = 1.959964 / math.sqrt(40 - 3)
        low, high = math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)
        got = drivers[text]
        assert float(got["impact"]) == round(r, 3)
        assert (float(got["impact_ci_low"]), float(got["impact_ci_high"])) == (
            round(low, 3), round(high, 3))  # fmt: skip
        assert got["clear"] == (low > 0 or high < 0)
    assert drivers["Boss"]["clear"] and not drivers["Load"]["clear"]


def test_every_absence_is_kept_once_a_gap_included(conn: sa.Connection) -> None:
    """A week away and back is an absence too (v3); a later run keeps it, not twice."""
    loaded_roster(conn, *(str(d) for d in WEEKS))
    conn.execute(sa.text("UPDATE etl_batch SET rows_loaded = 4"))
    given(conn, "int_roster_change", [
        roster_run("gap", "2024-01-05", "2024-01-12", batch_id=100),
        roster_run("gap", "2024-01-26", "2024-02-02", batch_id=103),  # missing 2024-01-19
        roster_run("gone", "2024-01-05", "2024-01-19", batch_id=100),  # missing from 01-26
        roster_run("left", "2024-01-05", "2024-01-12", employment_status="terminated",
                   termination_date=D("2024-01-10"), termination_type="voluntary"),
    ])  # fmt: skip
    build.build_table(conn, declarations()["int_employee_observation"])
    absences = (
        "SELECT run_id, employee_key, observed_on, batch_id FROM etl_anomaly "
        "WHERE kind = 'vanished_without_termination' ORDER BY employee_key"
    )
    anomalies.rebuild_history_anomalies(conn, "run-1")
    first = [tuple(r) for r in conn.execute(sa.text(absences))]
    assert first == [
        ("run-1", "gap", D("2024-01-19"), 100),
        ("run-1", "gone", D("2024-01-26"), 100),
    ]  # a terminated employee's absence is no anomaly
    anomalies.rebuild_history_anomalies(conn, "run-2")
    assert [tuple(r) for r in conn.execute(sa.text(absences))] == first


def test_spells_started_before_the_data_are_left_out_of_role_cohorts(conn: sa.Connection) -> None:
    """Of those in a job before the first snapshot, only the ones still in it then could be
    seen: their spells are no cohort (v3), here and in readiness."""
    given(conn, "fct_career_event", [
        event("old", "2022-03-01", "hire", None, "SHIP"),  # before the first snapshot
        event("old", "2023-02-01", "separation", "SHIP", None, termination_type="voluntary"),
        event("new", "2023-01-09", "hire", None, "SHIP"),
        event("new", "2023-02-20", "separation", "SHIP", None, termination_type="voluntary"),
    ])  # fmt: skip
    loaded_roster(conn, "2023-01-02", "2024-06-30")
    assert len(built(conn, "fct_role_spell", "employee_key")) == 2  # both spells exist
    exits = built(conn, "mart_role_early_exit", "year")
    assert [(r["year"], r["job_code"], r["entries"], r["early_exits_90"]) for r in exits] == [
        (2023, "SHIP", 1, 1),  # "new" only; "old"'s 2022 spell is no row at all
    ]
    readiness = built(conn, "mart_role_readiness", "year")
    assert [(r["year"], r["entries"]) for r in readiness] == [(2023, 1)]
