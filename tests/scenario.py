"""A small pharmacy written by hand, small enough to check every figure on paper.

Seven employees, a dozen seats, eight budget releases and two survey years. Each
employee's history is a list of segments (what HRIS would show from a date on); the
roster snapshots are cut from them. The expected figures in test_metrics.py are worked
out from these segments with the contract's definitions, not read from the warehouse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from rxstaff.sample import BUDGET_COLUMNS
from tests.tables import rows as table_rows

D = date.fromisoformat


@dataclass(frozen=True)
class Segment:
    start: date
    job: str
    position: str
    model: str
    status: str = "active"
    hire: date | None = None
    job_effective: date | None = None
    termination: date | None = None
    termination_type: str | None = None
    department: str = "Specialty Pharmacy Operations"
    fte: float = 1.0


@dataclass
class Employee:
    employee_id: str
    segments: list[Segment]
    vanished_after: date | None = None
    first_name: str = "Pat"
    last_name: str = "Example"

    def state(self, day: date) -> Segment | None:
        known = [s for s in self.segments if s.start <= day]
        return known[-1] if known else None


def hired(start: str, job: str, position: str, model: str, **kw) -> Segment:
    day = D(start)
    return Segment(day, job, position, model, hire=day, job_effective=day, **kw)


def then(previous: Segment, start: str, **changes) -> Segment:
    return replace(previous, start=D(start), **changes)


def build_employees() -> list[Employee]:
    e1 = hired("2020-01-06", "SPT1", "P1", "specialty")
    e2 = hired("2019-05-01", "SPT2", "P2", "specialty")
    e2_gone = then(
        e2,
        "2023-02-15",
        status="terminated",
        termination=D("2023-02-15"),
        termination_type="voluntary",
    )
    e3 = hired("2018-01-01", "MEDB1", "P3", "mail_order", department="Mail Order Pharmacy")
    e4 = hired("2021-06-01", "SPT1", "P5", "infusion", department="Home Infusion Pharmacy")
    e4_leave = then(e4, "2023-06-01", status="leave")
    e7 = hired("2015-03-01", "TECHSUP", "P6", "specialty")
    # E9: hired as SPT III, moved along the declared career path to MAP Coordinator I
    # (the same grade: a promotion only because the pharmacy declares it), then left within
    # the first year.
    e9 = hired("2024-01-08", "SPT3", "P14", "specialty")
    e9_mapc = then(e9, "2024-03-04", job="MAPC1", position="P15", job_effective=D("2024-03-04"))
    return [
        Employee("E1", [e1, then(e1, "2023-03-01", job="SPT2", job_effective=D("2023-03-01"))]),
        Employee(
            "E2",
            [
                e2,
                e2_gone,
                hired("2024-01-15", "SPT1", "P5", "infusion", department="Home Infusion Pharmacy"),
            ],
        ),
        Employee(
            "E3",
            [e3, then(e3, "2023-04-03", job="PAS", position="P10", job_effective=D("2023-04-03"))],
        ),
        Employee(
            "E4",
            [
                e4,
                e4_leave,
                then(e4_leave, "2023-08-01", status="active"),
                then(
                    e4,
                    "2023-11-15",
                    status="terminated",
                    termination=D("2023-11-15"),
                    termination_type="involuntary",
                ),
            ],
        ),
        Employee("E5", [hired("2023-05-01", "SPT1", "P2", "specialty")]),
        Employee(
            "E7",
            [
                e7,
                then(
                    e7,
                    "2024-06-30",
                    status="terminated",
                    termination=D("2024-06-30"),
                    termination_type="retirement",
                ),
            ],
        ),
        Employee(
            "E9",
            [
                e9,
                e9_mapc,
                then(
                    e9_mapc,
                    "2024-05-20",
                    status="terminated",
                    termination=D("2024-05-20"),
                    termination_type="voluntary",
                ),
            ],
        ),
        Employee(
            "E8",
            [hired("2022-01-01", "SPT1", "P7", "retail", department="Retail Pharmacy")],
            vanished_after=D("2023-06-30"),
        ),
    ]


SNAPSHOTS = [
    D(s)
    for s in (
        "2023-01-02",
        "2023-02-01",
        "2023-03-01",
        "2023-04-03",
        "2023-05-01",
        "2023-06-01",
        "2023-07-03",
        "2023-08-01",
        "2023-09-01",
        "2023-10-02",
        "2023-11-01",
        "2023-12-01",
        "2024-01-02",
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
        "2024-06-03",
        "2024-07-01",
        "2024-08-01",
    )
]

# Each change of a release as its file shows it (the file is budget_releases_<file_date>.csv).
BUDGET_ROWS = """
file_date  | release_id | position_id | action       | job_code | pharmacy_model | fte | annual_amount | requested_date | released_date | status    | record_updated_at
2023-01-10 | BR-3       | P10         | new_position | PAS      | mail_order     | 1   | 65000         | 2023-01-10     |               | requested | 2023-01-10T09:00:00
2023-02-01 | BR-3       | P10         | new_position | PAS      | mail_order     | 1   | 65000         | 2023-01-10     | 2023-02-01    | released  | 2023-02-01T09:00:00
2023-02-20 | BR-1       | P2          | backfill     | SPT2     | specialty      | 1   | 56000         | 2023-02-20     |               | requested | 2023-02-20T09:00:00
2023-03-10 | BR-1       | P2          | backfill     | SPT2     | specialty      | 1   | 56000         | 2023-02-20     |               | denied    | 2023-03-10T09:00:00
2023-03-20 | BR-2       | P2          | backfill     | SPT2     | specialty      | 1   | 56000         | 2023-03-20     |               | requested | 2023-03-20T09:00:00
2023-04-10 | BR-2       | P2          | backfill     | SPT2     | specialty      | 1   | 56000         | 2023-03-20     | 2023-04-10    | released  | 2023-04-10T09:00:00
2023-04-10 | BR-4       | P3          | backfill     | MEDB1    | mail_order     | 1   | 58000         | 2023-04-10     |               | requested | 2023-04-10T11:00:00
2023-05-02 | BR-6       | P11         | backfill     | SPT1     | specialty      | 1   | 47000         | 2023-05-02     |               | requested | 2023-05-02T09:00:00
2023-11-20 | BR-5       | P5          | backfill     | SPT1     | infusion       | 1   | 47000         | 2023-11-20     |               | requested | 2023-11-20T09:00:00
2023-12-05 | BR-5       | P5          | backfill     | SPT1     | infusion       | 1   | 47000         | 2023-11-20     | 2023-12-05    | released  | 2023-12-05T10:00:00
# same record_updated_at, later file: the later file wins
2023-12-06 | BR-5       | P5          | backfill     | SPT1     | infusion       | 1   | 50000         | 2023-11-20     | 2023-12-05    | released  | 2023-12-05T10:00:00
2024-02-01 | BR-7       | P12         | new_position | SHIP     | specialty      | 0.5 | 23500         | 2024-02-01     |               | requested | 2024-02-01T09:00:00
2024-03-01 | BR-7       | P12         | new_position | SHIP     | specialty      | 0.5 | 23500         | 2024-02-01     | 2024-03-01    | released  | 2024-03-01T09:00:00
2024-03-01 | BR-8       | P13         | new_position | CSA      | retail         | 1   | 65000         | 2024-03-01     |               | requested | 2024-03-01T10:00:00
2024-04-01 | BR-8       | P13         | new_position | CSA      | retail         | 1   | 65000         | 2024-03-01     |               | denied    | 2024-04-01T10:00:00
"""

# Codebooks: in 2024 career growth moved from q03 to q01 (renumbered between years).
ITEMS = {
    2023: [
        ("q01", "engagement"),
        ("q02", "engagement"),
        ("q03", "career_growth"),
        ("q04", "manager"),
    ],
    2024: [
        ("q01", "career_growth"),
        ("q02", "engagement"),
        ("q03", "engagement"),
        ("q04", "workload"),
    ],
}


@dataclass
class Response:
    response_id: str
    job_family: str
    pharmacy_model: str
    answers: dict[str, str] = field(default_factory=dict)
    department: str = "Specialty Pharmacy Operations"


def build_responses() -> dict[int, list[Response]]:
    """2023: job families of 6, 5 and 4 respondents (the 4 and its partner are hidden).
    2024: 8 technicians and 4 who left job_family empty."""
    out: dict[int, list[Response]] = {2023: [], 2024: []}
    families_2023 = (
        ["Specialty Pharmacy Technician"] * 6
        + ["Billing Analyst (Med B)"] * 5
        + ["Prior Authorization"] * 4
    )
    for i, family in enumerate(families_2023):
        answers = {
            "q01": str(1 + i % 5),
            "q02": str(1 + (i * 2) % 5),
            "q03": str(1 + (i * 3) % 5),
            "q04": "4",
        }
        if i == 3:
            answers["q01"] = answers["q02"] = ""  # answered nothing on engagement
        out[2023].append(
            Response(f"R23-{i}", family, "mail_order" if i % 3 == 0 else "specialty", answers)
        )
    families_2024 = ["Specialty Pharmacy Technician"] * 8 + [""] * 4
    for i, family in enumerate(families_2024):
        answers = {
            "q01": str(2 + i % 4),
            "q02": str(3 + i % 3),
            "q03": str(5 - i % 2),
            "q04": str(1 + i % 5),
        }
        if i == 5:
            answers["q03"] = ""
        out[2024].append(Response(f"R24-{i}", family, "specialty", answers))
    return out


def write_landing(out: Path) -> None:
    employees = build_employees()
    for day in SNAPSHOTS:
        rows = []
        for e in employees:
            s = e.state(day)
            if s is None or (e.vanished_after and day > e.vanished_after):
                continue
            if s.status == "terminated" and (day - s.termination) > timedelta(days=90):
                continue
            rows.append(
                {
                    "snapshot_date": day.isoformat(),
                    "employee_id": e.employee_id,
                    "first_name": e.first_name,
                    "last_name": e.last_name,
                    "work_email": f"{e.employee_id.lower()}@pharmacy.example.org",
                    "position_id": s.position,
                    "job_code": s.job,
                    "job_effective_date": s.job_effective.isoformat(),
                    "department": s.department,
                    "pharmacy_model": s.model,
                    "employment_status": s.status,
                    "hire_date": s.hire.isoformat(),
                    "termination_date": s.termination.isoformat() if s.termination else "",
                    "termination_type": s.termination_type or "",
                    "fte": f"{s.fte:g}",
                    "supervisor_id": "E7" if e.employee_id != "E7" else "",
                }
            )
        _write(out / "roster" / f"roster_{day.isoformat()}.csv", rows)
    by_file: dict[str, list[dict]] = {}
    for row in table_rows(BUDGET_ROWS, typed=False):
        by_file.setdefault(row["file_date"], []).append({c: row[c] for c in BUDGET_COLUMNS})
    for day, rows in by_file.items():
        _write(out / "budget" / f"budget_releases_{day}.csv", rows)
    for year, responses in build_responses().items():
        _write(
            out / "survey" / f"engagement_survey_{year}.csv",
            [
                {
                    "response_id": r.response_id,
                    "survey_year": str(year),
                    "submitted_at": f"{year}-10-0{1 + n % 9}T10:00:00Z",
                    "department": r.department,
                    "pharmacy_model": r.pharmacy_model,
                    "job_family": r.job_family,
                    "tenure_band": "1-3",
                    **r.answers,
                }
                for n, r in enumerate(responses)
            ],
        )
        _write(
            out / "survey" / f"survey_items_{year}.csv",
            [{"question_id": q, "dimension": d, "text": f"question {q}"} for q, d in ITEMS[year]],
        )


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
