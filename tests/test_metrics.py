"""Every mart column on a hand-built pharmacy, against figures worked out from the contract."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from rxstaff.sample import FAMILIES as FAMILY  # the shipped job catalog's families
from rxstaff.transforms.pseudonym import Pseudonymiser
from tests import scenario
from tests.helpers import EVENT_COLUMNS, query, run_nightly
from tests.tables import rows as table_rows

D = date.fromisoformat
LAST_SNAPSHOT = scenario.SNAPSHOTS[-1]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("scenario")
    scenario.write_landing(landing)
    db = landing / "warehouse.duckdb"
    code, summary = run_nightly(landing, db)
    assert code == 0, summary
    return db


def key(employee_id: str) -> str:
    return Pseudonymiser("rxstaff-test-secret").key(employee_id)


def rows(db: Path, sql: str) -> list[dict]:
    frame = query(db, sql)
    frame = frame.astype(object).where(frame.notna(), None)
    return [_plain(r) for r in frame.to_dict("records")]


def _plain(record: dict) -> dict:
    out = {}
    for k, v in record.items():
        if isinstance(v, pd.Timestamp):
            v = v.date()
        out[k] = v
    return out


def assert_rows(actual: list[dict], expected: list[dict], keys: list[str]) -> None:
    """Same rows, every column; floats to 1e-9."""

    def sort(records):
        return sorted(records, key=lambda r: tuple(str(r[k]) for k in keys))

    actual, expected = sort(actual), sort(expected)
    assert [tuple(r[k] for k in keys) for r in actual] == [
        tuple(r[k] for k in keys) for r in expected
    ]
    for a, e in zip(actual, expected, strict=True):
        for column, want in e.items():
            got = a[column]
            if isinstance(want, float) and got is not None:
                assert math.isclose(float(got), want, rel_tol=1e-9), (column, a, e)
            elif isinstance(want, Decimal) and got is not None:  # a figure rounded by SQL
                assert Decimal(str(got)) == want, (column, a, e)
            else:
                assert got == want, (column, a, e)


# --- expected figures, from the contract's definitions ------------------------------------


def employed_on(day: date) -> dict[str, scenario.Segment]:
    """Who counts on a day: hired on or before it and not separated on or before it."""
    found = {}
    for e in scenario.build_employees():
        s = e.state(day)
        if s is not None and s.status != "terminated" and s.hire <= day:
            found[e.employee_id] = s
    return found


def month_ends() -> list[date]:
    ends, day = [], date(2023, 1, 31)
    while day <= LAST_SNAPSHOT:
        ends.append(day)
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1) + timedelta(days=31)
        day = day.replace(day=1) - timedelta(days=1)
    return ends


SEPARATIONS = [  # (date, employee, job left, type, model left, hire date), from the segments
    (D("2023-02-15"), "E2", "SPT2", "voluntary", "specialty", D("2019-05-01")),
    (D("2023-11-15"), "E4", "SPT1", "involuntary", "infusion", D("2021-06-01")),
    (D("2024-05-20"), "E9", "MAPC1", "voluntary", "specialty", D("2024-01-08")),  # 133 days
    (D("2024-06-30"), "E7", "TECHSUP", "retirement", "specialty", D("2015-03-01")),
]
HIRES = [  # (date, employee, job entered, model entered): every hire and rehire
    (D("2015-03-01"), "E7", "TECHSUP", "specialty"),
    (D("2018-01-01"), "E3", "MEDB1", "mail_order"),
    (D("2019-05-01"), "E2", "SPT2", "specialty"),
    (D("2020-01-06"), "E1", "SPT1", "specialty"),
    (D("2021-06-01"), "E4", "SPT1", "infusion"),
    (D("2022-01-01"), "E8", "SPT1", "retail"),
    (D("2023-05-01"), "E5", "SPT1", "specialty"),
    (D("2024-01-08"), "E9", "SPT3", "specialty"),  # left after 133 days
    (D("2024-01-15"), "E2", "SPT1", "infusion"),  # a rehire
]
# Retention years: those whose start day (31 December before) the data saw (v3).
RETENTION_YEARS = [y for y in (2023, 2024) if date(y - 1, 12, 31) >= scenario.SNAPSHOTS[0]]
PROMOTIONS = [  # (date, employee, job left, model left)
    (D("2023-03-01"), "E1", "SPT1", "specialty"),
    (D("2024-03-04"), "E9", "SPT3", "specialty"),  # declared path SPT3 -> MAPC1
]

VACANCIES = table_rows(  # worked out by hand from the segments and releases (warehouse.md v2)
    """
    vacancy_id     | position_id | job_code | pharmacy_model | fte | opened_on  | open_reason   | budget_requested_on | budget_released_on | backfill_release_id | budget_amount | budget_requests | budget_denials | closed_on  | filled_internally | state           | days_to_fill | days_to_request | days_waiting_for_budget | days_release_to_fill
    # P2: E2 left 2023-02-15. Requests in [opened - 30 days, closed): BR-1 (2023-02-20,
    # denied) then BR-2 (2023-03-20, released 2023-04-10): the wait runs from the first
    # request to the first release. E5 hired into P2 on 2023-05-01.
    P2@2023-02-15  | P2          | SPT2     | specialty      | 1.0 | 2023-02-15 | separation    | 2023-02-20          | 2023-04-10         | BR-2                | 56000.0       | 2               | 1              | 2023-05-01 | false             | filled          | 75           | 5               | 49                      | 21
    # P10: created by BR-3 (requested 2023-01-10, released 2023-02-01), its own request;
    # E3 moved in on 2023-04-03 (internal).
    P10@2023-02-01 | P10         | PAS      | mail_order     | 1.0 | 2023-02-01 | new_position  | 2023-01-10          | 2023-02-01         | BR-3                | 65000.0       | 1               | 0              | 2023-04-03 | true              | filled          | 61           |                 | 22                      | 61
    # P3: E3 moved out on 2023-04-03; BR-4 requested 2023-04-10, still requested: open.
    P3@2023-04-03  | P3          | MEDB1    | mail_order     | 1.0 | 2023-04-03 | internal_move | 2023-04-10          |                    | BR-4                | 58000.0       | 1               | 0              |            |                   | awaiting_budget |              | 7               |                         |
    # P5: E4 separated 2023-11-15; BR-5 requested 2023-11-20, released 2023-12-05;
    # E2 rehired into it 2024-01-15.
    P5@2023-11-15  | P5          | SPT1     | infusion       | 1.0 | 2023-11-15 | separation    | 2023-11-20          | 2023-12-05         | BR-5                | 50000.0       | 1               | 0              | 2024-01-15 | false             | filled          | 61           | 5               | 15                      | 41
    # P12: created by BR-7 (requested 2024-02-01, released 2024-03-01), never filled.
    P12@2024-03-01 | P12         | SHIP     | specialty      | 0.5 | 2024-03-01 | new_position  | 2024-02-01          | 2024-03-01         | BR-7                | 23500.0       | 1               | 0              |            |                   | recruiting      |              |                 | 29                      |
    # P14: E9 moved out to P15 on 2024-03-04; nobody asked for budget.
    P14@2024-03-04 | P14         | SPT3     | specialty      | 1.0 | 2024-03-04 | internal_move |                     |                    |                     |               | 0               | 0              |            |                   | no_request      |              |                 |                         |
    # P15: E9 left it on 2024-05-20; nobody asked for budget.
    P15@2024-05-20 | P15         | MAPC1    | specialty      | 1.0 | 2024-05-20 | separation    |                     |                    |                     |               | 0               | 0              |            |                   | no_request      |              |                 |                         |
    # P6: E7 retired 2024-06-30; nobody asked for budget.
    P6@2024-06-30  | P6          | TECHSUP  | specialty      | 1.0 | 2024-06-30 | separation    |                     |                    |                     |               | 0               | 0              |            |                   | no_request      |              |                 |                         |
    """
)


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (the median of two is their mean)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def one_decimal(value: float | None) -> Decimal | None:
    """Rounded as the contract says (one decimal, halves away from zero)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def by_family_and_model(vs: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Each vacancy in its (family, model), (family, ALL), (ALL, model) and (ALL, ALL)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for v in vs:
        family, model = FAMILY[v["job_code"]], v["pharmacy_model"]
        for key in ((family, model), (family, "ALL"), ("ALL", model), ("ALL", "ALL")):
            groups.setdefault(key, []).append(v)
    return groups


def expected_backfill_delays() -> list[dict]:
    out = []
    as_of = LAST_SNAPSHOT
    for year in (2023, 2024):
        opened = [v for v in VACANCIES if v["opened_on"].year == year]
        for (family, model), by_group in by_family_and_model(opened).items():
            by_reason = {"ALL": by_group}
            for v in by_group:
                by_reason.setdefault(v["open_reason"], []).append(v)
            for reason, vs in by_reason.items():
                filled = [v for v in vs if v["closed_on"] is not None]
                still = [v for v in vs if v["closed_on"] is None]
                internal = sum(1 for v in filled if v["filled_internally"])

                def median(column: str, among: list[dict]) -> Decimal | None:
                    known = [v[column] for v in among if v[column] is not None]
                    return one_decimal(percentile(known, 0.5))

                out.append(
                    dict(
                        year=year,
                        job_family=family,
                        pharmacy_model=model,
                        open_reason=reason,
                        vacancies_opened=len(vs),
                        vacancies_filled=len(filled),
                        median_days_to_fill=median("days_to_fill", filled),
                        p90_days_to_fill=one_decimal(
                            percentile([v["days_to_fill"] for v in filled], 0.9)
                        ),
                        median_days_to_request=median("days_to_request", vs),
                        median_days_waiting_for_budget=median("days_waiting_for_budget", vs),
                        median_days_release_to_fill=median("days_release_to_fill", filled),
                        denied_or_withdrawn=sum(v["state"] in ("denied", "withdrawn") for v in vs),
                        open_at_year_end=sum(
                            1
                            for v in vs
                            if v["closed_on"] is None or v["closed_on"] > date(year, 12, 31)
                        ),
                        filled_internally=internal,
                        internal_fill_rate=internal / len(filled) if filled else None,
                        still_open=len(still),
                        median_days_open_unfilled=one_decimal(
                            percentile([(as_of - v["opened_on"]).days for v in still], 0.5)
                        ),
                    )
                )
    return out


def expected_backlog(as_of: date) -> list[dict]:
    """The open vacancies on the last snapshot, worked out from VACANCIES and the staff."""
    open_now = [v for v in VACANCIES if v["closed_on"] is None and v["opened_on"] <= as_of]
    staff: dict[tuple[str, str], float] = {}
    for s in employed_on(as_of).values():
        family = FAMILY[s.job]
        for key in ((family, s.model), (family, "ALL"), ("ALL", s.model), ("ALL", "ALL")):
            staff[key] = staff.get(key, 0.0) + s.fte
    out = []
    for (family, model), vs in by_family_and_model(open_now).items():
        by_state: dict[str, list[dict]] = {"ALL": vs}
        for v in vs:
            by_state.setdefault(v["state"], []).append(v)
        for state, group in by_state.items():
            filling = sum(
                v["fte"] for v in group if v["state"] in ("recruiting", "awaiting_budget")
            )
            rate = None
            if state == "ALL" and filling + staff.get((family, model), 0.0) > 0:
                rate = filling / (filling + staff.get((family, model), 0.0))
            awaiting = [v["budget_amount"] for v in group if v["state"] == "awaiting_budget"]
            out.append(
                dict(
                    as_of_date=as_of,
                    job_family=family,
                    pharmacy_model=model,
                    state=state,
                    awaiting_budget_amount=float(sum(a for a in awaiting if a is not None)),
                    open_vacancies=len(group),
                    open_fte=float(sum(v["fte"] for v in group)),
                    oldest_opened_on=min(v["opened_on"] for v in group),
                    median_days_open=one_decimal(
                        percentile([(as_of - v["opened_on"]).days for v in group], 0.5)
                    ),
                    vacancy_rate=rate,
                )
            )
    return out


def groups_of(job: str, model: str) -> list[tuple[str, str]]:
    """The (family, model) groupings a job and model count in, ALL included."""
    family = FAMILY[job]
    return [(family, model), (family, "ALL"), ("ALL", model), ("ALL", "ALL")]


def expected_retention() -> list[dict]:
    out = []
    ends = month_ends()
    for year in RETENTION_YEARS:
        year_ends = [d for d in ends if d.year == year]
        start = employed_on(date(year - 1, 12, 31))
        end = employed_on(min(date(year, 12, 31), LAST_SNAPSHOT))
        leavers_now = [x for x in SEPARATIONS if x[0].year == year]
        promoted_now = [x for x in PROMOTIONS if x[0].year == year]
        present = {g for s in start.values() for g in groups_of(s.job, s.model)}
        present |= {
            g for d in year_ends for s in employed_on(d).values() for g in groups_of(s.job, s.model)
        }
        present |= {g for x in leavers_now for g in groups_of(x[2], x[4])}
        present |= {g for x in promoted_now for g in groups_of(x[2], x[3])}
        hired_now = [x for x in HIRES if x[0].year == year]
        present |= {g for x in hired_now for g in groups_of(x[2], x[3])}
        for family, model in sorted(present):

            def member(job: str, where: str, family=family, model=model) -> bool:
                return (family == "ALL" or FAMILY[job] == family) and model in ("ALL", where)

            cohort = [e for e, s in start.items() if member(s.job, s.model)]
            heads = [
                sum(1 for s in employed_on(d).values() if member(s.job, s.model)) for d in year_ends
            ]
            leavers = [x for x in leavers_now if member(x[2], x[4])]
            promotions = [x for x in promoted_now if member(x[2], x[3])]
            avg = sum(heads) / len(year_ends)
            voluntary = [x for x in leavers if x[3] in ("voluntary", "retirement")]
            out.append(
                dict(
                    year=year,
                    job_family=family,
                    pharmacy_model=model,
                    start_headcount=len(cohort),
                    avg_headcount=avg,
                    separations=len(leavers),
                    voluntary_separations=len(voluntary),
                    turnover_rate=len(leavers) / avg if avg else None,
                    voluntary_turnover_rate=len(voluntary) / avg if avg else None,
                    retention_rate=(sum(1 for e in cohort if e in end) / len(cohort))
                    if cohort
                    else None,
                    promotions=len(promotions),
                    promotion_rate=len(promotions) / avg if avg else None,
                    first_year_separations=sum(1 for x in leavers if (x[0] - x[5]).days < 365),
                    hires=sum(1 for x in hired_now if member(x[2], x[3])),
                )
            )
    return out


def expected_engagement(min_size: int = 5) -> list[dict]:
    out = []
    for year, responses in scenario.build_responses().items():
        dimension = dict(scenario.ITEMS[year])
        groups: dict[tuple[str, str], list] = {}
        for r in responses:
            for by, value in (
                ("ALL", "ALL"),
                ("job_family", r.job_family or "(not stated)"),
                ("pharmacy_model", r.pharmacy_model),
                ("department", r.department),
            ):
                groups.setdefault((by, value), []).append(r)
        rows_ = []
        for (by, value), members in groups.items():

            def index(dim: str, members=members, dimension=dimension) -> float | None:
                scores = []
                for r in members:
                    answers = [int(a) for q, a in r.answers.items() if a and dimension[q] == dim]
                    if answers:
                        scores.append(statistics.mean(answers))
                return (
                    round(statistics.mean((s - 1) * 25 for s in scores) + 1e-9, 1)
                    if scores
                    else None
                )

            engaged = [
                int(a)
                for r in members
                for q, a in r.answers.items()
                if a and dimension[q] == "engagement"
            ]
            rows_.append(
                dict(
                    survey_year=year,
                    group_by=by,
                    group_value=value,
                    respondents=len(members),
                    engagement_index=index("engagement"),
                    career_growth_index=index("career_growth"),
                    favorable_pct=sum(a >= 4 for a in engaged) / len(engaged),
                    suppressed=len(members) < min_size,
                )
            )
        for by in {r["group_by"] for r in rows_}:
            siblings = [r for r in rows_ if r["group_by"] == by]
            small = [r for r in siblings if r["suppressed"]]
            others = sorted(
                (r for r in siblings if not r["suppressed"]),
                key=lambda r: (r["respondents"], r["group_value"]),
            )
            if len(small) == 1 and others:
                others[0]["suppressed"] = True  # complementary suppression
        for r in rows_:
            if r["suppressed"]:  # v3: every suppressed group's count is hidden too
                r.update(
                    engagement_index=None, career_growth_index=None, favorable_pct=None,
                    respondents=None,
                )  # fmt: skip
        out += rows_
    return out


# --- tests ----------------------------------------------------------------------------------


def test_career_events(warehouse: Path) -> None:
    got = rows(
        warehouse,
        "SELECT event_date, employee_key, event_type, from_job_code, to_job_code, "
        "from_position_id, to_position_id, termination_type FROM fct_career_event",
    )
    expected = [
        ("2020-01-06", "E1", "hire", None, "SPT1", None, "P1", None),
        ("2023-03-01", "E1", "promotion", "SPT1", "SPT2", "P1", "P1", None),
        ("2019-05-01", "E2", "hire", None, "SPT2", None, "P2", None),
        ("2023-02-15", "E2", "separation", "SPT2", None, "P2", None, "voluntary"),
        ("2024-01-15", "E2", "rehire", None, "SPT1", None, "P5", None),
        ("2018-01-01", "E3", "hire", None, "MEDB1", None, "P3", None),
        ("2023-04-03", "E3", "lateral", "MEDB1", "PAS", "P3", "P10", None),
        ("2021-06-01", "E4", "hire", None, "SPT1", None, "P5", None),
        ("2023-11-15", "E4", "separation", "SPT1", None, "P5", None, "involuntary"),
        ("2023-05-01", "E5", "hire", None, "SPT1", None, "P2", None),
        ("2015-03-01", "E7", "hire", None, "TECHSUP", None, "P6", None),
        ("2024-06-30", "E7", "separation", "TECHSUP", None, "P6", None, "retirement"),
        ("2022-01-01", "E8", "hire", None, "SPT1", None, "P7", None),
        ("2024-01-08", "E9", "hire", None, "SPT3", None, "P14", None),
        ("2024-03-04", "E9", "promotion", "SPT3", "MAPC1", "P14", "P15", None),  # declared
        ("2024-05-20", "E9", "separation", "MAPC1", None, "P15", None, "voluntary"),
    ]
    columns = EVENT_COLUMNS
    want = [dict(zip(columns, (D(e[0]), key(e[1]), *e[2:]), strict=True)) for e in expected]
    assert_rows(got, want, ["employee_key", "event_date", "event_type"])


def test_leave_is_a_period_not_an_event_and_vanished_keeps_state(warehouse: Path) -> None:
    e4 = rows(
        warehouse,
        f"SELECT employment_status, valid_from, valid_to FROM dim_employee "
        f"WHERE employee_key = '{key('E4')}' ORDER BY valid_from",
    )
    assert [(r["employment_status"], r["valid_from"], r["valid_to"]) for r in e4] == [
        ("active", D("2021-06-01"), D("2023-06-01")),
        ("leave", D("2023-06-01"), D("2023-08-01")),
        ("active", D("2023-08-01"), D("2023-11-15")),
        ("terminated", D("2023-11-15"), None),
    ]
    e8 = rows(
        warehouse,
        f"SELECT employment_status, is_current FROM dim_employee "
        f"WHERE employee_key = '{key('E8')}'",
    )
    assert e8 == [{"employment_status": "active", "is_current": True}]
    anomalies = rows(
        warehouse,
        "SELECT employee_key, observed_on FROM etl_anomaly "
        "WHERE kind = 'vanished_without_termination'",
    )
    assert anomalies == [{"employee_key": key("E8"), "observed_on": D("2023-07-03")}]


def test_budget_releases_latest_state(warehouse: Path) -> None:
    got = rows(
        warehouse,
        "SELECT release_id, status, annual_amount, released_date, days_to_release "
        "FROM fct_budget_release",
    )
    want = table_rows("""
        release_id | status    | annual_amount | released_date | days_to_release
        BR-1       | denied    | 56000.0       |               |
        BR-2       | released  | 56000.0       | 2023-04-10    | 21
        BR-3       | released  | 65000.0       | 2023-02-01    | 22
        BR-4       | requested | 58000.0       |               |
        BR-5       | released  | 50000.0       | 2023-12-05    | 15
        BR-6       | requested | 47000.0       |               |
        BR-7       | released  | 23500.0       | 2024-03-01    | 29
        BR-8       | denied    | 65000.0       |               |
    """)
    assert_rows(got, want, ["release_id"])


def test_vacancies(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM fct_vacancy")
    assert_rows(got, VACANCIES, ["position_id", "opened_on"])


def test_headcount_monthly(warehouse: Path) -> None:
    expected = []
    for day in month_ends():
        cells: dict[tuple[str, str], list[float]] = {}
        for s in employed_on(day).values():
            cells.setdefault((s.job, s.model), []).append(s.fte)
        expected += [
            dict(month_end=day, job_code=j, pharmacy_model=m, headcount=len(f), fte=float(sum(f)))
            for (j, m), f in cells.items()
        ]
    got = rows(warehouse, "SELECT * FROM fct_headcount_monthly")
    assert_rows(got, expected, ["month_end", "job_code", "pharmacy_model"])
    assert max(r["month_end"] for r in got) == date(2024, 7, 31)


def test_retention_annual(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM mart_retention_annual")
    assert_rows(got, expected_retention(), ["year", "job_family", "pharmacy_model"])
    everyone_2024 = next(
        r for r in got if (r["year"], r["job_family"], r["pharmacy_model"]) == (2024, "ALL", "ALL")
    )
    assert everyone_2024["first_year_separations"] == 1 and everyone_2024["promotions"] == 1
    assert everyone_2024["hires"] == 2  # E9 and E2's rehire
    # 2023 starts on 2022-12-31, before the first snapshot (2023-01-02): no row (v3)
    assert {r["year"] for r in got} == {2024}


def test_career_progression(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM mart_career_progression")
    want = table_rows("""
        year | from_job_code | to_job_code | event_type | employees | moves
        2023 | SPT1          | SPT2        | promotion  | 1         | 1
        2023 | MEDB1         | PAS         | lateral    | 1         | 1
        # grade 4 -> 4, a promotion because career_paths.csv declares it
        2024 | SPT3          | MAPC1       | promotion  | 1         | 1
    """)
    assert_rows(got, want, ["year", "from_job_code", "to_job_code"])


def test_new_positions(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM mart_new_positions")
    seats = [  # BR-3 (P10) and BR-7 (P12): the released new_position releases
        dict(year=2023, job_code="PAS", job_title="Prior Authorization Specialist",
             created_in_expansion=True, pharmacy_model="mail_order", positions=1, fte=1.0,
             annual_amount=65000.0),
        dict(year=2024, job_code="SHIP", job_title="Shipping Associate",
             created_in_expansion=True, pharmacy_model="specialty", positions=1, fte=0.5,
             annual_amount=23500.0),
    ]  # fmt: skip
    want = seats + [{**seat, "pharmacy_model": "ALL"} for seat in seats]
    assert_rows(got, want, ["year", "job_code", "pharmacy_model"])


def test_backfill_delays(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM mart_backfill_delays")
    keys = ["year", "job_family", "pharmacy_model", "open_reason"]
    assert_rows(got, expected_backfill_delays(), keys)
    everyone_2023 = next(
        r
        for r in got
        if (r["year"], r["job_family"], r["pharmacy_model"], r["open_reason"])
        == (2023, "ALL", "ALL", "ALL")
    )
    assert everyone_2023["median_days_to_fill"] == 61 and everyone_2023["open_at_year_end"] == 2
    # The denied-then-released P2 waits 49 days, not null: the 2023 median wait is over
    # P2 (49), P10 (22) and P5 (15).
    assert everyone_2023["median_days_waiting_for_budget"] == 22


def test_vacancy_backlog(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM mart_vacancy_backlog")
    as_of = scenario.SNAPSHOTS[-1]
    assert_rows(got, expected_backlog(as_of), ["job_family", "pharmacy_model", "state"])
    states = {r["state"] for r in got}
    assert states == {"ALL", "awaiting_budget", "recruiting", "no_request"}


def test_engagement_with_suppression(warehouse: Path) -> None:
    got = rows(warehouse, "SELECT * FROM mart_engagement")
    want = expected_engagement()
    assert_rows(got, want, ["survey_year", "group_by", "group_value"])
    hidden = {(r["survey_year"], r["group_value"]) for r in got if r["suppressed"]}
    assert (2023, "Prior Authorization") in hidden  # 4 respondents
    assert (2023, "Billing Analyst (Med B)") in hidden  # its complementary partner
    assert (2024, "(not stated)") in hidden and (2024, "Specialty Pharmacy Technician") in hidden


def test_minimum_group_size_is_configurable(warehouse: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    scenario.write_landing(landing)
    db = tmp_path / "w.duckdb"
    assert run_nightly(landing, db, min_group_size=3)[0] == 0
    got = rows(db, "SELECT * FROM mart_engagement")
    assert_rows(got, expected_engagement(min_size=3), ["survey_year", "group_by", "group_value"])
    assert not any(r["suppressed"] for r in got if r["survey_year"] == 2023)


def test_metrics_command_shows_every_headline(warehouse: Path) -> None:
    from typer.testing import CliRunner

    from rxstaff.cli import app

    result = CliRunner().invoke(
        app, ["metrics", "--warehouse", f"duckdb:///{warehouse}"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    for title in (
        "Promotions by ladder step",
        "New positions by role",
        "Turnover and retention",
        "Backfill delays",
        "Open vacancies now",
        "Engagement trend",
        "Top drivers of engagement",
        "Readiness in the new roles",
    ):
        assert title in result.output
    assert "SPT1 -> SPT2" in result.output and "Shipping Associate" in result.output
    # The figures behind the tables (the rendered width depends on the terminal): the
    # backlog by state, and the stages of the 2023 delays (P2 49, P10 22 and P5 15 days
    # from request to release: median 22).
    from rxstaff.report import headline_frames
    from rxstaff.warehouse.connection import Warehouse
    from rxstaff.warehouse.reading import existing_warehouse

    with existing_warehouse(Warehouse.at(f"duckdb:///{warehouse}")) as conn:
        frames = dict(headline_frames(conn))
    backlog = frames["Open vacancies now, by state (the backlog)"]
    assert set(backlog.state) == {"awaiting_budget", "recruiting", "no_request", "ALL"}
    stages = frames["Backfill delays by stage, median days"]
    assert float(stages.set_index("year").loc[2023, "request to release"]) == 22.0


BI_RELATIONS = [
    "dim_date",
    "dim_job",
    "dim_employee",
    "fct_career_event",
    "fct_budget_release",
    "fct_vacancy",
    "fct_headcount_monthly",
    "mart_retention_annual",
    "mart_career_progression",
    "mart_new_positions",
    "mart_backfill_delays",
    "mart_engagement",
]


def test_figures_stable_across_rerun_and_arrival_order(
    landing_3y: Path, warehouse_3y: Path, tmp_path: Path
) -> None:
    import shutil

    from tests.helpers import CONTRACT, table

    arriving = tmp_path / "arriving"
    for folder in ("budget", "survey"):
        shutil.copytree(landing_3y / folder, arriving / folder)
    (arriving / "roster").mkdir()
    rosters = sorted((landing_3y / "roster").glob("*.csv"))
    db = tmp_path / "reverse.duckdb"
    for group in (rosters[100:], rosters[40:100], rosters[:40]):
        for path in group:
            shutil.copy(path, arriving / "roster" / path.name)
        assert run_nightly(arriving, db)[0] == 0
    assert run_nightly(arriving, db)[0] == 0  # and a re-run on top
    for name in BI_RELATIONS:
        pd.testing.assert_frame_equal(
            table(warehouse_3y, name, CONTRACT[name]), table(db, name, CONTRACT[name]), obj=name
        )


# --- contract version 3, worked out from the scenario ---------------------------------------

TO_JOB = {("E1", D("2023-03-01")): "SPT2", ("E9", D("2024-03-04")): "MAPC1"}
SPELL_START = {("E1", "SPT1"): D("2020-01-06"), ("E9", "SPT3"): D("2024-01-08")}
LADDER = {"SPT1": 1, "SPT2": 2, "SPT3": 3, "MAPC1": 1, "MAPC2": 2, "MAPC3": 3}


def four_ways(family: str, model: str) -> list[tuple[str, str]]:
    return [(family, model), (family, "ALL"), ("ALL", model), ("ALL", "ALL")]


def test_new_hire_retention(warehouse: Path) -> None:
    as_of, cells = LAST_SNAPSHOT, {}
    for day, employee, job, model in HIRES:
        later = [x[0] for x in SEPARATIONS if x[1] == employee and x[0] >= day]
        left = bool(later) and (min(later) - day).days < 365
        observable = (as_of - day).days >= 365
        for group in four_ways(FAMILY[job], model):
            cell = cells.setdefault((day.year, *group), [0, 0, 0])
            cell[0] += 1
            cell[1] += observable
            cell[2] += observable and left
    want = [
        dict(hire_year=y, job_family=f, pharmacy_model=m, hires=h, observable_365=o,
             left_within_365=left, first_year_turnover_rate=left / o if o else None)
        for (y, f, m), (h, o, left) in cells.items()
    ]  # fmt: skip
    got = rows(warehouse, "SELECT * FROM mart_new_hire_retention")
    assert_rows(got, want, ["hire_year", "job_family", "pharmacy_model"])


def test_promotion_timing(warehouse: Path) -> None:
    waits: dict[tuple[int, str, str], list[int]] = {}
    for day, employee, job, _ in PROMOTIONS:
        to_job = TO_JOB[(employee, day)]
        waits.setdefault((day.year, job, to_job), []).append(
            (day - SPELL_START[(employee, job)]).days
        )
    want = [
        dict(year=y, from_job_code=f, to_job_code=t, promotions=len(w),
             median_days_in_job=one_decimal(percentile(w, 0.5)))
        for (y, f, t), w in waits.items()
    ]  # fmt: skip
    got = rows(warehouse, "SELECT * FROM mart_promotion_timing")
    assert_rows(got, want, ["year", "from_job_code", "to_job_code"])


def test_retention_by_promotion(warehouse: Path) -> None:
    want = []
    for year in RETENTION_YEARS:
        start_day = date(year - 1, 12, 31)
        start = employed_on(start_day)
        end = employed_on(min(date(year, 12, 31), LAST_SNAPSHOT))
        cells: dict[tuple[str, bool], list[int]] = {}
        for employee, state in start.items():
            promoted = any(
                x[1] == employee and start_day - timedelta(days=730) < x[0] <= start_day
                for x in PROMOTIONS
            )
            for family in (FAMILY[state.job], "ALL"):
                cell = cells.setdefault((family, promoted), [0, 0])
                cell[0] += 1
                cell[1] += employee in end
        complete = scenario.SNAPSHOTS[0] <= start_day - timedelta(days=730)
        want += [
            dict(year=year, job_family=f, promoted_last_24m=p, start_headcount=n, retained=r,
                 retention_rate=r / n, lookback_complete=complete)
            for (f, p), (n, r) in cells.items()
        ]  # fmt: skip
    got = rows(warehouse, "SELECT * FROM mart_retention_by_promotion")
    assert_rows(got, want, ["year", "job_family", "promoted_last_24m"])
    assert any(r["promoted_last_24m"] for r in got)  # E1, promoted in March 2023


def test_pathway_outcomes(warehouse: Path) -> None:
    highest: dict[tuple[str, str, str], str] = {}
    employees = {e.employee_id: e for e in scenario.build_employees()}
    for day, employee, job, _ in PROMOTIONS:
        to_job = TO_JOB[(employee, day)]
        families = (FAMILY[job], FAMILY[to_job])
        if families[0] == families[1] or (employee, *families) in highest:
            continue
        held = [
            s.job for s in employees[employee].segments
            if s.start >= day and s.status != "terminated" and FAMILY.get(s.job) == families[1]
        ]  # fmt: skip
        highest[(employee, *families)] = max(held, key=lambda j: LADDER[j])
    cells: dict[tuple[str, str, str], set[str]] = {}
    for (employee, source, target), job in highest.items():
        for code in (job, "ALL"):
            cells.setdefault((source, target, code), set()).add(employee)
    want = [
        dict(from_family=s, to_family=t, highest_job_code=c, employees=len(e))
        for (s, t, c), e in cells.items()
    ]
    got = rows(warehouse, "SELECT * FROM mart_pathway_outcomes")
    assert_rows(got, want, ["from_family", "to_family", "highest_job_code"])
    assert want  # E9's declared step from SPT III into MAP Coordinator I
