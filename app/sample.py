"""Sample landing folders: a simulated specialty pharmacy, written per sources.md.

The simulation runs day by day over employees and seats: hires, ladder promotions in
place, moves to other seats, separations that vacate seats, backfill requests released
after a delay (sometimes denied, then re-requested), new-role seats, leaves, rehires,
and a few employees who vanish from the HRIS without a termination. Snapshots are cut
from the resulting state periods with vectorised filters and written through Arrow, so
50,000 employees over five years of weekly snapshots take seconds, not minutes.

What was planted goes to ``<out>/_truth/`` (outside the contract's folders): the
career events, the vanished employees and the corrupted rows, for tests to compare.
Everything is deterministic for a seed.
"""

from __future__ import annotations

import io
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from rxstaff.extract.reference import read_career_paths, read_job_catalog
from rxstaff.transforms.catalog import move_type, stage_career_paths, stage_catalog
from rxstaff.transforms.release import BUDGET
from rxstaff.transforms.roster import ROSTER
from rxstaff.transforms.training import TRAINING

# Files are written in the contract's column order, as each source declares it.
ROSTER_COLUMNS = ROSTER.column_names
BUDGET_COLUMNS = BUDGET.column_names
LADDERS = {
    "SPT1": "SPT2",
    "SPT2": "SPT3",
    "MEDB1": "MEDB2",
    "MEDB2": "MEDB3",
    "MAPC1": "MAPC2",
    "MAPC2": "MAPC3",
}
# Open vacancy states every generated pharmacy ends with at least once (see vacate).
PLANTED_OPEN = ("no_request", "awaiting_budget", "denied", "withdrawn", "recruiting")
# The shipped reference data: the grades and families the warehouse will judge by, and the
# declared career paths (a move listed there takes its type whatever the grades say).
CATALOG = stage_catalog(read_job_catalog())
GRADES: dict[str, int] = {
    str(k): int(v) for k, v in zip(CATALOG.job_code, CATALOG.grade, strict=True)
}
EXPANSION: dict[str, bool] = {
    str(k): bool(v) for k, v in zip(CATALOG.job_code, CATALOG.created_in_expansion, strict=True)
}
FAMILIES: dict[str, str] = {
    str(k): str(v) for k, v in zip(CATALOG.job_code, CATALOG.job_family, strict=True)
}
ON_A_LADDER = {str(k) for k in CATALOG.job_code[CATALOG.ladder_level.notna()]}
PATHS = stage_career_paths(read_career_paths(), CATALOG)
# Declared promotions extend the ladders: an SPT III can be promoted to MAP Coordinator I.
for _row in PATHS[PATHS.move_type == "promotion"].itertuples(index=False):
    LADDERS.setdefault(str(_row.from_job_code), str(_row.to_job_code))
# Internal fills of a seat at the end of a declared path prefer its start (SPT III -> MAP
# Coordinator I in the shipped default), so that every generated pharmacy has such moves.
PATH_SOURCES: dict[str, list[str]] = {
    str(to): [str(f) for f in PATHS[PATHS.to_job_code == to].from_job_code]
    for to in PATHS.to_job_code.unique()
}
INITIAL_MIX = {
    "SPT1": 0.22,
    "SPT2": 0.16,
    "SPT3": 0.10,
    "MEDB1": 0.09,
    "MEDB2": 0.06,
    "MEDB3": 0.03,
    "MAPC1": 0.09,
    "MAPC2": 0.06,
    "MAPC3": 0.03,
    "SHIP": 0.06,
    "CSA": 0.04,
    "PAS": 0.03,
    "TECHSUP": 0.02,
    "MAPSUP": 0.01,
}
NEW_ROLES = ["SHIP", "CSA", "PAS", "AMBT", "PIS", "EDUC", "BIL", "SRL", "TECHSUP", "MAPSUP"]
MODELS = ["specialty", "ambulatory", "mail_order", "infusion", "retail"]
MODEL_WEIGHTS = [0.45, 0.2, 0.15, 0.12, 0.08]
DEPARTMENTS = {
    "specialty": "Specialty Pharmacy Operations",
    "ambulatory": "Ambulatory Pharmacy Services",
    "mail_order": "Mail Order Pharmacy",
    "infusion": "Home Infusion Pharmacy",
    "retail": "Retail Pharmacy",
}
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Grace",
    "Hiro",
    "Ines",
    "Jon",
    "Kai",
    "Lena",
    "Mara",
    "Noor",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vic",
]
LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fofana",
    "Garcia",
    "Haddad",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Murphy",
    "Nguyen",
    "Okafor",
    "Patel",
    "Rossi",
    "Singh",
    "Tanaka",
    "Weber",
]
TERMINATION_TYPES = ["voluntary"] * 60 + ["involuntary"] * 15 + ["retirement"] * 15 + ["other"] * 10
SEPARATION_RATE = 0.14
PROMOTION_RATE = 0.18
LEAVE_RATE = 0.03
FTE_CHANGE_RATE = 0.01
NEW_SEAT_RATE = 0.03
VANISH_SHARE = 0.002
TERMINATED_VISIBLE_DAYS = 90
NEVER = 10**9


@dataclass
class Options:
    out: Path
    employees: int
    start: date
    end: date
    cadence: str = "weekly"
    seed: int = 7
    bad_rows: float = 0.0
    messy: bool = True


@dataclass
class Seat:
    position_id: str
    job_code: str
    model: str
    holder: int | None = None


@dataclass
class Person:
    number: int
    first: str
    last: str
    state: dict
    since: int  # day number the current state period began
    last_change: int
    periods: list = field(default_factory=list)
    vanished_from: int = NEVER


class Simulation:
    """Day-by-day workforce simulation; day numbers are days since ``start``."""

    def __init__(self, opts: Options) -> None:
        self.o = opts
        self.rng = random.Random(opts.seed)
        self.np = np.random.default_rng(opts.seed)
        self.gap = {"daily": 3, "weekly": 15, "irregular": 25}[opts.cadence]
        self.people: dict[int, Person] = {}
        self.active: list[int] = []
        self.seats: dict[str, Seat] = {}
        self.separated: list[int] = []
        self.events: list[dict] = []
        self.budget_rows: dict[int, list[dict]] = {}
        # Vacancies as the simulation makes them (recorded in _truth/vacancies.csv): the one
        # open per seat, and every one ever opened.
        self.open_vacancy: dict[str, dict] = {}
        self.vacancies: list[dict] = []
        self.planted_open = list(PLANTED_OPEN)
        self.planted_exits = {True, False}  # an early exit from a new role, and from a legacy one
        self.climber: int | None = None  # the one planted to climb a ladder after crossing
        self.agenda: dict[int, list[tuple[Callable, tuple]]] = {}
        self.next_person = 100000
        self.next_seat = 50000
        self.next_release = 1
        self.horizon = (opts.end - opts.start).days

    # -- helpers ---------------------------------------------------------------------------
    def day(self, n: int) -> date:
        return self.o.start + timedelta(days=n)

    def iso(self, n: int) -> str:
        return self.day(n).isoformat()

    def schedule(self, n: int, action: Callable, *args: object) -> None:
        if n <= self.horizon:
            self.agenda.setdefault(n, []).append((action, args))

    def new_seat(self, job: str, model: str) -> Seat:
        self.next_seat += 1
        seat = Seat(f"P{self.next_seat}", job, model)
        self.seats[seat.position_id] = seat
        return seat

    def change(self, pid: int, today: int, **updates: object) -> None:
        person = self.people[pid]
        if today > person.since:
            person.periods.append((person.since, today, dict(person.state)))
            person.since = today
        person.state.update(updates)

    def event(self, pid: int, today: int | date, kind: str, **fields: object) -> None:
        when = today if isinstance(today, date) else self.day(today)
        record = {
            "employee_id": self.people[pid].state["employee_id"],
            "event_type": kind,
            "event_date": when.isoformat(),
            "from_job_code": None,
            "to_job_code": None,
            "from_position_id": None,
            "to_position_id": None,
            "termination_type": None,
        }
        record.update(fields)
        self.events.append(record)

    def pick_active(
        self, today: int, test: Callable[[Person], bool], tries: int = 40
    ) -> int | None:
        for _ in range(tries):
            if not self.active:
                return None
            pid = self.active[self.rng.randrange(len(self.active))]
            person = self.people[pid]
            if (
                person.vanished_from == NEVER
                and today - person.last_change >= self.gap
                and person.state["employment_status"] == "active"
                and test(person)
            ):
                return pid
        return None

    # -- workforce -------------------------------------------------------------------------
    def hire(
        self, today: int, seat: Seat, hire_day: int | None = None, rehire: int | None = None
    ) -> int:
        start = today if hire_day is None else hire_day
        if rehire is None:
            self.next_person += 1
            pid = self.next_person
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            state = {
                "employee_id": f"E{pid}",
                "first_name": first,
                "last_name": last,
                "work_email": f"{first.lower()}.{last.lower()}{pid % 1000}@pharmacy.example.org",
            }
            self.people[pid] = Person(pid, first, last, state, since=today, last_change=today)
        else:
            pid = rehire
            self.separated.remove(pid)
        fte = self.rng.choice([1.0] * 8 + [0.8, 0.5])
        supervisor = self._supervisor()
        if rehire is None:
            self.people[pid].state.update(self._job_state(seat, start, start, fte, supervisor))
        else:
            self.change(pid, today, **self._job_state(seat, start, start, fte, supervisor))
        self.people[pid].last_change = today
        seat.holder = pid
        self.vacancy_closes(start, seat)
        self.active.append(pid)
        kind = "rehire" if rehire is not None else "hire"
        self.event(pid, start, kind, to_job_code=seat.job_code, to_position_id=seat.position_id)
        if hire_day is None:
            self.plant_early_exit(today, pid, seat)
        return pid

    def plant_early_exit(self, today: int, pid: int, seat: Seat) -> None:
        """One entry into a new role and one into a legacy role leave within 90 days, early
        enough to be observable at the end: early exits of both kinds in every pharmacy."""
        new_role = bool(EXPANSION[seat.job_code])
        if new_role in self.planted_exits and self.horizon - 700 <= today <= self.horizon - 120:
            self.planted_exits.discard(new_role)
            self.schedule(today + self.rng.randint(30, 80), self.leave_if_still_here, pid, seat)

    def leave_if_still_here(self, today: int, pid: int, seat: Seat) -> None:
        if pid in self.active and self.people[pid].state["position_id"] == seat.position_id:
            self.separate(today, pid)

    def _job_state(
        self, seat: Seat, hired: int, effective: int, fte: float, supervisor: str | None
    ) -> dict:
        return {
            "position_id": seat.position_id,
            "job_code": seat.job_code,
            "job_effective_date": self.iso(effective),
            "department": DEPARTMENTS[seat.model],
            "pharmacy_model": seat.model,
            "employment_status": "active",
            "hire_date": self.iso(hired),
            "termination_date": None,
            "termination_type": None,
            "fte": fte,
            "supervisor_id": supervisor,
        }

    def _supervisor(self) -> str | None:
        for _ in range(5):
            if not self.active:
                return None
            pid = self.active[self.rng.randrange(len(self.active))]
            if self.people[pid].state["job_code"] in ("TECHSUP", "MAPSUP"):
                return self.people[pid].state["employee_id"]
        return None

    def separate(self, today: int, pid: int) -> None:
        person = self.people[pid]
        kind = self.rng.choice(TERMINATION_TYPES)
        seat = self.seats[person.state["position_id"]]
        self.change(
            pid,
            today,
            employment_status="terminated",
            termination_date=self.iso(today),
            termination_type=kind,
        )
        person.last_change = today
        self.active.remove(pid)
        self.separated.append(pid)
        seat.holder = None
        self.event(
            pid,
            today,
            "separation",
            from_job_code=seat.job_code,
            from_position_id=seat.position_id,
            termination_type=kind,
        )
        self.vacancy_opens(today, seat, "separation", pid)
        self.vacate(today, seat)

    def vacancy_opens(self, today: int, seat: Seat, reason: str, leaver: int | None) -> dict:
        """A vacancy of the seat opens today (recorded for _truth/vacancies.csv)."""
        vacancy = {
            "position_id": seat.position_id,
            "opened_on": today,
            "open_reason": reason,
            "job_code": seat.job_code,
            "leaver": leaver,
            "requests": [],
            "closed_on": None,
        }
        self.open_vacancy[seat.position_id] = vacancy
        self.vacancies.append(vacancy)
        return vacancy

    def vacancy_closes(self, today: int, seat: Seat) -> None:
        """Someone is placed in the seat: its open vacancy, if any, closes today."""
        vacancy = self.open_vacancy.pop(seat.position_id, None)
        if vacancy is not None:
            vacancy["closed_on"] = today

    def vacate(self, today: int, seat: Seat) -> None:
        """Most vacated seats are backfilled; a few stay empty (the open backlog).

        The first seats left in the last months are planted open in each state, so every
        generated pharmacy ends with one vacancy per open state (tests check them all).
        """
        if self.planted_open and self.horizon - 300 <= today <= self.horizon - 30:
            self.plant_open_vacancy(today, seat, self.planted_open.pop(0))
            return
        if self.rng.random() < 0.92:
            self.schedule(
                today + self.rng.randint(0, 10), self.request, seat.position_id, "backfill"
            )

    def promote_in_place(self, today: int, pid: int) -> None:
        person = self.people[pid]
        old = person.state["job_code"]
        new = LADDERS[old]
        seat = self.seats[person.state["position_id"]]
        seat.job_code = new
        self.change(pid, today, job_code=new, job_effective_date=self.iso(today))
        person.last_change = today
        self.event(
            pid,
            today,
            "promotion",
            from_job_code=old,
            to_job_code=new,
            from_position_id=seat.position_id,
            to_position_id=seat.position_id,
        )
        self.plant_climb(today, pid, old, new)

    def move(self, today: int, pid: int, seat: Seat) -> None:
        person = self.people[pid]
        old_seat = self.seats[person.state["position_id"]]
        old_job = person.state["job_code"]
        self.change(
            pid,
            today,
            position_id=seat.position_id,
            job_code=seat.job_code,
            job_effective_date=self.iso(today),
            pharmacy_model=seat.model,
            department=DEPARTMENTS[seat.model],
        )
        person.last_change = today
        old_seat.holder, seat.holder = None, pid
        self.vacancy_closes(today, seat)
        self.vacancy_opens(today, old_seat, "internal_move", pid)
        self.plant_early_exit(today, pid, seat)
        kind = move_type(PATHS, GRADES, old_job, seat.job_code)
        self.event(
            pid,
            today,
            kind,
            from_job_code=old_job,
            to_job_code=seat.job_code,
            from_position_id=old_seat.position_id,
            to_position_id=seat.position_id,
        )
        if kind == "promotion":
            self.plant_climb(today, pid, old_job, seat.job_code)
        self.vacate(today, old_seat)

    def plant_climb(self, today: int, pid: int, old_job: str, new_job: str) -> None:
        """The first employee promoted from one ladder into another family's (an SPT III
        becoming a MAP Coordinator I, in the shipped default) climbs it to its top within
        the data, as the seed's "one who achieved MAP III": every generated pharmacy that
        has such a promotion has that pathway."""
        crossing = FAMILIES[old_job] != FAMILIES[new_job] and old_job in ON_A_LADDER
        if not crossing or self.climber is not None or today > self.horizon - 200:
            return
        self.climber = pid
        self.schedule(today + 60, self.climb, pid)
        self.schedule(today + 120, self.climb, pid)

    def climb(self, today: int, pid: int) -> None:
        person, job = self.people[pid], self.people[pid].state["job_code"]
        ladder = FAMILIES.get(LADDERS.get(job, ""), "") == FAMILIES[job]
        if pid in self.active and person.vanished_from == NEVER and ladder:
            self.promote_in_place(today, pid)

    # -- position control ------------------------------------------------------------------
    def request(self, today: int, position_id: str, action: str) -> None:
        release = self.new_release(today, position_id, action)
        if release is None:
            return
        roll = self.rng.random()
        delay = self.rng.randint(5, 75)
        if roll < 0.80:
            self.schedule(today + delay, self.release, release)
        elif roll < 0.93:
            self.schedule(today + delay, self.deny, release)
        else:
            self.schedule(today + delay, self.withdraw, release)

    def new_release(self, today: int, position_id: str, action: str) -> dict | None:
        """A budget request for the seat, logged and attached to its open vacancy."""
        seat = self.seats[position_id]
        if action == "backfill" and seat.holder is not None:
            return None
        release = {
            "release_id": f"BR-{self.next_release:06d}",
            "position_id": position_id,
            "action": action,
            "job_code": seat.job_code,
            "pharmacy_model": seat.model,
            "fte": 1.0,
            "annual_amount": round(38000 + 9000 * GRADES[seat.job_code], 2),
            "requested_date": self.iso(today),
            "released_date": None,
            "status": "requested",
        }
        self.next_release += 1
        self.log_release(today, release)
        if action == "backfill" and position_id in self.open_vacancy:
            self.open_vacancy[position_id]["requests"].append(release)  # its status moves on
        return release

    def settle(self, today: int, release: dict, status: str) -> None:
        """A planted decision: the status only, with nothing scheduled after it."""
        release.update(status=status)
        if status == "released":
            release.update(released_date=self.iso(today))
        self.log_release(today, release)

    def plant_open_vacancy(self, today: int, seat: Seat, state: str) -> None:
        """A vacancy that stays open to the end, in the given state (see PLANTED_OPEN)."""
        if state == "no_request":
            return
        release = self.new_release(today + self.rng.randint(0, 10), seat.position_id, "backfill")
        if release is None or state == "awaiting_budget":
            return  # never decided: still requested at the end
        decided = {"recruiting": "released", "denied": "denied", "withdrawn": "withdrawn"}[state]
        self.schedule(today + self.rng.randint(12, 20), self.settle, release, decided)

    def log_release(self, today: int, release: dict) -> None:
        stamp = f"{self.iso(today)}T{self.rng.randint(7, 18):02d}:{self.rng.randint(0, 59):02d}:00"
        self.budget_rows.setdefault(today, []).append({**release, "record_updated_at": stamp})

    def release(self, today: int, release: dict) -> None:
        release.update(status="released", released_date=self.iso(today))
        self.log_release(today, release)
        if release["action"] == "new_position":  # a new seat is vacant from its release
            seat = self.seats[release["position_id"]]
            self.vacancy_opens(today, seat, "new_position", None)["requests"].append(release)
        # Most released seats fill within weeks; some take months (still recruiting).
        slow = self.rng.random() < 0.2
        delay = self.rng.randint(60, 180) if slow else self.rng.randint(7, 45)
        self.schedule(today + delay, self.fill, release["position_id"])

    def deny(self, today: int, release: dict) -> None:
        release.update(status="denied")
        self.log_release(today, release)
        if self.rng.random() < 0.6:
            self.schedule(
                today + self.rng.randint(14, 45),
                self.request,
                release["position_id"],
                release["action"],
            )

    def withdraw(self, today: int, release: dict) -> None:
        release.update(status="withdrawn")
        self.log_release(today, release)

    def fill(self, today: int, position_id: str) -> None:
        seat = self.seats[position_id]
        if seat.holder is not None:
            return
        grade = GRADES[seat.job_code]
        roll = self.rng.random()
        sources = PATH_SOURCES.get(seat.job_code)
        if sources and roll < 0.5:  # a declared career path into this seat's job
            pid = self.pick_active(today, lambda p: p.state["job_code"] in sources)
            if pid is not None:
                self.move(today, pid, seat)
                return
        if roll < 0.25:
            pid = self.pick_active(
                today,
                lambda p: (
                    (GRADES[p.state["job_code"]] <= grade and p.state["job_code"] != seat.job_code)
                    or (p.state["job_code"] == seat.job_code and self.rng.random() < 0.3)
                ),
            )
            if pid is not None:
                self.move(today, pid, seat)
                return
        if roll > 0.95:
            candidates = [
                p
                for p in self.separated[-200:]
                if today - self.people[p].last_change >= 60
                and self.people[p].vanished_from == NEVER
            ]
            if candidates:
                self.hire(today, seat, rehire=self.rng.choice(candidates))
                return
        self.hire(today, seat)

    # -- the run ---------------------------------------------------------------------------
    def seed_workforce(self) -> None:
        jobs = list(INITIAL_MIX)
        weights = np.array(list(INITIAL_MIX.values()))
        chosen = self.np.choice(len(jobs), size=self.o.employees, p=weights / weights.sum())
        for index in chosen:
            model = self.rng.choices(MODELS, MODEL_WEIGHTS)[0]
            seat = self.new_seat(jobs[index], model)
            hired = -self.rng.randint(30, 15 * 365)
            pid = self.hire(0, seat, hire_day=hired)
            if self.rng.random() < 0.4:
                effective = self.rng.randint(hired, -1)
                self.people[pid].state["job_effective_date"] = self.iso(effective)
            self.people[pid].last_change = -self.gap

    def run(self) -> None:
        self.seed_workforce()
        vanish = set(self.rng.sample(self.active, max(1, int(len(self.active) * VANISH_SHARE))))
        for today in range(1, self.horizon + 1):
            for action, args in self.agenda.pop(today, []):
                action(today, *args)
            self.daily_events(today, vanish)

    def daily_events(self, today: int, vanish: set[int]) -> None:
        n = len(self.active)
        for _ in range(self.np.poisson(n * SEPARATION_RATE / 365)):
            pid = self.pick_active(today, lambda p: p.number != self.climber)
            if pid is not None:
                self.separate(today, pid)
        for _ in range(self.np.poisson(n * PROMOTION_RATE / 365)):
            pid = self.pick_active(today, lambda p: p.state["job_code"] in LADDERS)
            if pid is not None:
                self.promote_in_place(today, pid)
        for _ in range(self.np.poisson(n * LEAVE_RATE / 365)):
            pid = self.pick_active(today, lambda p: True)
            if pid is not None:
                self.change(pid, today, employment_status="leave")
                self.people[pid].last_change = today
                self.schedule(today + self.rng.randint(30, 120), self.back_from_leave, pid)
        for _ in range(self.np.poisson(n * FTE_CHANGE_RATE / 365)):
            pid = self.pick_active(today, lambda p: True)
            if pid is not None:
                fte = self.people[pid].state["fte"]
                self.change(pid, today, fte=0.8 if fte == 1.0 else 1.0)
        for _ in range(self.np.poisson(max(n, 1) * NEW_SEAT_RATE / 365)):
            seat = self.new_seat(
                self.rng.choice(NEW_ROLES), self.rng.choices(MODELS, MODEL_WEIGHTS)[0]
            )
            self.request(today, seat.position_id, "new_position")
        if vanish and today == self.horizon // 2:
            for pid in vanish:
                if self.people[pid].state["employment_status"] != "terminated":
                    self.people[pid].vanished_from = today

    def back_from_leave(self, today: int, pid: int) -> None:
        if self.people[pid].state["employment_status"] == "leave":
            self.change(pid, today, employment_status="active")

    def periods(self) -> pd.DataFrame:
        """Every state period of every employee: [since, until) in day numbers."""
        rows = []
        for person in self.people.values():
            for since, until, state in [*person.periods, (person.since, NEVER, person.state)]:
                rows.append(
                    {**state, "_since": since, "_until": until, "_vanished": person.vanished_from}
                )
        frame = pd.DataFrame(rows)
        term = pd.to_datetime(frame["termination_date"]).dt.date
        frame["_term"] = [NEVER if pd.isna(t) else (t - self.o.start).days for t in term]
        return frame


def as_exported(path: Path) -> None:
    """The file's modification time set to the day in its name, as if exported then (never
    later than an hour ago): a sample pharmacy's files have all arrived, none of them
    "still arriving" for a run's settle time, as a real folder's past exports have."""
    stamp = path.stem.rsplit("_", 1)[-1]
    try:
        day = date.fromisoformat(stamp) if "-" in stamp else date(int(stamp), 12, 31)
    except ValueError:
        return  # not an extract's name (the _truth files)
    when = min(datetime(day.year, day.month, day.day, 6).timestamp(), time.time() - 3600)
    os.utime(path, (when, when))


def snapshot_days(opts: Options, rng: random.Random) -> list[int]:
    horizon = (opts.end - opts.start).days
    if opts.cadence == "daily":
        return list(range(0, horizon + 1))
    if opts.cadence == "weekly":
        return list(range(0, horizon + 1, 7))
    days, today = [], 0
    while today <= horizon:
        days.append(today)
        today += rng.randint(3, 12)
    return days


# --- writing -------------------------------------------------------------------------------


class Writer:
    """Writes frames as CSV with a seeded share of the messiness sources.md allows."""

    def __init__(self, opts: Options) -> None:
        self.o = opts
        self.rng = random.Random(opts.seed + 1)
        self.bad_rows: list[dict] = []

    def write(self, path: Path, frame: pd.DataFrame, corrupt: Callable | None = None) -> None:
        frame = frame.astype(object).where(frame.notna(), None)
        if corrupt and self.o.bad_rows > 0 and len(frame):
            frame = self._corrupt(path, frame, corrupt)
        if self.o.messy:
            frame = self._mess_up(frame)
        table = pa.Table.from_pandas(frame.astype("string"), preserve_index=False)
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer)
        data = buffer.getvalue()
        if self.o.messy and self.rng.random() < 0.25:
            data = data.replace(b"\n", b"\r\n")
        if self.o.messy and self.rng.random() < 0.25:
            data = b"\xef\xbb\xbf" + data
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        as_exported(path)

    def _mess_up(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.rng.random() < 0.2:
            columns = list(frame.columns)
            self.rng.shuffle(columns)
            frame = frame[columns]
        if self.rng.random() < 0.1:
            frame = frame.assign(cost_center="CC-4410")
        if self.rng.random() < 0.1:
            frame = frame.rename(columns={c: c.upper() for c in frame.columns[:3]})
        if self.rng.random() < 0.2 and len(frame):
            frame = frame.copy()
            column = frame.columns[self.rng.randrange(len(frame.columns))]
            rows = self.rng.sample(range(len(frame)), min(5, len(frame)))
            at = list(frame.columns).index(column)
            for r in rows:
                value = frame.iat[r, at]
                if value is not None:
                    frame.iat[r, at] = f"  {value!s} "
        return frame

    def _corrupt(self, path: Path, frame: pd.DataFrame, corrupt: Callable) -> pd.DataFrame:
        count = int(self.rng.random() < len(frame) * self.o.bad_rows % 1) + int(
            len(frame) * self.o.bad_rows
        )
        if not count:
            return frame
        frame = frame.copy()
        for r in self.rng.sample(range(len(frame)), min(count, len(frame))):
            column, value, rule = corrupt(self.rng)
            frame.iat[r, list(frame.columns).index(column)] = value
            self.bad_rows.append(
                {
                    "file_name": path.parent.name + "/" + path.name,
                    "row_number": r + 1,
                    "column": column,
                    "kind": rule,
                }
            )
        return frame


def corrupt_roster(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(
        [
            ("hire_date", "03/15/2021", "bad_date"),
            ("job_code", "ZZZ9", "unknown_job"),
            ("fte", "1.5", "fte_out_of_range"),
            ("employment_status", "fired", "bad_status"),
            ("job_effective_date", "2023-02-30", "impossible_date"),
            ("pharmacy_model", "hospital", "bad_model"),
        ]
    )


def corrupt_budget(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(
        [
            ("status", "approved", "bad_status"),
            ("requested_date", "2024/01/05", "bad_date"),
            ("annual_amount", "-500", "negative_amount"),
            ("job_code", "XX1", "unknown_job"),
        ]
    )


def corrupt_survey(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice([("q01", "7", "answer_out_of_range"), ("q02", "0", "answer_out_of_range")])


def write_rosters(sim: Simulation, writer: Writer, days: list[int]) -> int:
    periods = sim.periods().sort_values("employee_id", kind="stable").reset_index(drop=True)
    periods["fte"] = periods["fte"].map(lambda v: f"{v:g}")
    since, until = periods["_since"].to_numpy(), periods["_until"].to_numpy()
    term, vanished = periods["_term"].to_numpy(), periods["_vanished"].to_numpy()
    terminated = (periods["employment_status"] == "terminated").to_numpy()
    body = periods[ROSTER_COLUMNS[1:]]
    rows = 0
    last = days[-1]
    for today in days:
        visible = (since <= today) & (today < until) & (vanished > today)
        visible &= ~terminated | (term >= today - TERMINATED_VISIBLE_DAYS)
        frame = body[visible].copy()
        frame.insert(0, "snapshot_date", sim.iso(today))
        path = sim.o.out / "roster" / f"roster_{sim.iso(today)}.csv"
        writer.write(path, frame, corrupt_roster if today != last else None)
        rows += len(frame)
    return rows


def write_budget(sim: Simulation, writer: Writer) -> int:
    for today, changes in sorted(sim.budget_rows.items()):
        frame = pd.DataFrame(changes, columns=BUDGET_COLUMNS)
        frame["fte"] = frame["fte"].map(lambda v: f"{v:g}")
        frame["annual_amount"] = frame["annual_amount"].map(lambda v: f"{v:.2f}")
        writer.write(
            sim.o.out / "budget" / f"budget_releases_{sim.iso(today)}.csv", frame, corrupt_budget
        )
    return sum(len(v) for v in sim.budget_rows.values())


def codebook(year: int, first_year: int) -> pd.DataFrame:
    """Questions by dimension; numbering shifts and items come and go between years."""
    items = [
        ("engagement", "I am proud to work for this pharmacy"),
        ("engagement", "I would recommend this pharmacy as a place to work"),
        ("engagement", "I rarely think about looking for a job elsewhere"),
        ("engagement", "My work gives me a feeling of accomplishment"),
        ("career_growth", "I can see a path to advance my career here"),
        ("career_growth", "The technician career ladder is clear to me"),
        ("manager", "My supervisor supports my development"),
        ("workload", "My workload is manageable"),
    ]
    if year - first_year >= 1:
        items.insert(2, ("career_growth", "I have had a conversation about promotion this year"))
    if year - first_year >= 2:
        items.append(("engagement", "I feel valued for the work I do"))
    shift = (year - first_year) % 3
    items = items[shift:] + items[:shift]
    return pd.DataFrame(
        [
            {"question_id": f"q{i + 1:02d}", "dimension": d, "text": t}
            for i, (d, t) in enumerate(items)
        ]
    )


def write_surveys(sim: Simulation, writer: Writer) -> int:
    years = list(range(sim.o.start.year, sim.o.end.year + 1))
    rng = np.random.default_rng(sim.o.seed + 2)
    periods = sim.periods()
    total = 0
    for number, year in enumerate(years):
        survey_day = (date(year, 10, 1) - sim.o.start).days
        if survey_day < 0 or survey_day > sim.horizon:
            continue
        alive = periods[
            (periods["_since"] <= survey_day)
            & (survey_day < periods["_until"])
            & (periods["employment_status"] != "terminated")
        ]
        take = alive.sample(frac=0.65, random_state=sim.o.seed + year)
        items = codebook(year, years[0])
        progress = number / max(len(years) - 1, 1)
        means = {
            "engagement": 1 + (68 + 15 * progress) / 25,
            "career_growth": 1 + (55 + 20 * progress) / 25,
            "manager": 3.6,
            "workload": 3.0,
        }
        n = len(take)
        latent = rng.normal(0, 0.45, n)
        frame = pd.DataFrame(
            {
                "response_id": [f"R{year}-{i:06d}" for i in range(n)],
                "survey_year": str(year),
                "submitted_at": [
                    f"{year}-10-{rng.integers(1, 29):02d}T{rng.integers(8, 20):02d}:15:00Z"
                    for _ in range(n)
                ],
                "department": take["department"].to_numpy(),
                "pharmacy_model": take["pharmacy_model"].to_numpy(),
                "job_family": [
                    None if rng.random() < 0.05 else FAMILIES[j] for j in take["job_code"]
                ],
                "tenure_band": rng.choice(["<1", "1-3", "3-5", "5+"], n),
            }
        )
        for _, item in items.iterrows():
            raw = np.clip(np.rint(means[item["dimension"]] + latent + rng.normal(0, 0.6, n)), 1, 5)
            answers = pd.Series(raw.astype(int).astype(str)).where(rng.random(n) > 0.03, None)
            frame[item["question_id"]] = answers.to_numpy()
        writer.write(sim.o.out / "survey" / f"engagement_survey_{year}.csv", frame, corrupt_survey)
        writer.write(sim.o.out / "survey" / f"survey_items_{year}.csv", items)
        total += n
    return total


TRAINING_COLUMNS = TRAINING.column_names
GENERAL_COURSES = [("C900", "HIPAA privacy refresher"), ("C901", "Workplace safety")]


def required_courses(job_code: str) -> list[tuple[str, str]]:
    """Two or three courses each role requires (the same every run: numbered by code)."""
    base = 100 + 10 * sorted(CATALOG["job_code"]).index(job_code)
    count = 3 if EXPANSION[job_code] else 2
    return [(f"C{base + i}", f"{job_code} core skills {i + 1}") for i in range(count)]


def corrupt_training(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(
        [
            ("status", "done", "bad_status"),
            ("hours", "999", "hours_out_of_range"),
            ("assigned_on", "2024/01/05", "bad_date"),
            ("required", "maybe", "bad_boolean"),
        ]
    )


def write_training(sim: Simulation, writer: Writer) -> int:
    """The learning system: required courses assigned when someone starts a job (sometimes
    before), completed at varied delays, some waived or cancelled, general courses too;
    one file per day with the records created or changed that day."""
    rng = random.Random(sim.o.seed + 4)
    changes: dict[date, list[dict]] = {}
    number = 0

    def record(
        employee_id: str, course: tuple[str, str], job: str | None, required: bool, assigned: date
    ) -> None:
        nonlocal number
        number += 1
        row = {
            "record_id": f"TR-{number:07d}",
            "employee_id": employee_id,
            "course_id": course[0],
            "course_title": course[1],
            "job_code": job,
            "required": "true" if required else "false",
            "assigned_on": assigned.isoformat(),
            "completed_on": None,
            "hours": None,
            "status": "assigned",
            "record_updated_at": f"{assigned.isoformat()}T09:00:00",
        }
        changes.setdefault(assigned, []).append(dict(row))
        fate = rng.random()
        if fate < 0.06:
            row.update(status="waived")
        elif fate < 0.1:
            row.update(status="cancelled")
        else:
            done = assigned + timedelta(days=int(rng.choice([12, 25, 40, 60, 85, 120, 160])))
            row.update(
                status="completed",
                completed_on=done.isoformat(),
                hours=f"{rng.choice([2, 4, 6, 8, 12, 16]):g}",
            )
            assigned = done
        if row["status"] != "assigned":
            when = assigned + timedelta(days=0 if row["status"] == "completed" else 20)
            row["record_updated_at"] = f"{when.isoformat()}T16:30:00"
            changes.setdefault(when, []).append(row)

    starts = [e for e in sim.events if e["to_job_code"] and e["event_type"] != "separation"]
    for event in starts:
        began = date.fromisoformat(event["event_date"])
        if began < sim.o.start:
            continue
        for course in required_courses(event["to_job_code"]):
            early = int(rng.choice([0, 0, 0, 7, 14, 25]))
            record(
                event["employee_id"],
                course,
                event["to_job_code"],
                True,
                began - timedelta(days=early),
            )
        if rng.random() < 0.5:
            record(event["employee_id"], rng.choice(GENERAL_COURSES), None, False, began)
    written = 0
    for day, rows in sorted(changes.items()):
        if not sim.o.start <= day <= sim.o.end:
            continue
        frame = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
        path = sim.o.out / "training" / f"training_records_{day.isoformat()}.csv"
        writer.write(path, frame, corrupt_training)
        written += len(frame)
    return written


def generate(opts: Options) -> dict[str, int]:
    """Write a landing folder and its truth; counts of what was written."""
    if opts.end <= opts.start:
        raise ValueError("--end must be after --start")
    sim = Simulation(opts)
    sim.run()
    writer = Writer(opts)
    days = snapshot_days(opts, random.Random(opts.seed + 3))
    last_snapshot = days[-1]
    counts = {"roster_rows": write_rosters(sim, writer, days), "roster_files": len(days)}
    counts["budget_rows"] = write_budget(sim, writer)
    counts["budget_files"] = len(sim.budget_rows)
    counts["survey_responses"] = write_surveys(sim, writer)
    counts["training_rows"] = write_training(sim, writer)
    _write_truth(sim, writer, last_snapshot)
    counts["events"] = sum(1 for e in sim.events if e["event_date"] <= sim.iso(last_snapshot))
    counts["bad_rows"] = len(writer.bad_rows)
    return counts


def _write_truth(sim: Simulation, writer: Writer, last_snapshot: int) -> None:
    truth = sim.o.out / "_truth"
    truth.mkdir(parents=True, exist_ok=True)
    events = pd.DataFrame(sim.events)
    events = events[events["event_date"] <= sim.iso(last_snapshot)]
    vanished_ids = {p.state["employee_id"] for p in sim.people.values() if p.vanished_from != NEVER}
    events.to_csv(truth / "events.csv", index=False)
    pd.DataFrame({"employee_id": sorted(vanished_ids)}).to_csv(truth / "vanished.csv", index=False)
    pd.DataFrame(writer.bad_rows, columns=["file_name", "row_number", "column", "kind"]).to_csv(
        truth / "bad_rows.csv", index=False
    )
    _vacancy_truth(sim, writer, last_snapshot).to_csv(truth / "vacancies.csv", index=False)


def _surviving_releases(sim: Simulation, writer: Writer) -> dict[str, dict]:
    """Each release as its latest uncorrupted row states it: what the warehouse will know
    (a corrupted row is quarantined)."""
    bad = {(b["file_name"], b["row_number"]) for b in writer.bad_rows}
    latest: dict[str, dict] = {}
    for today, changes in sorted(sim.budget_rows.items()):
        name = f"budget/budget_releases_{sim.iso(today)}.csv"
        for number, row in enumerate(changes, start=1):
            if (name, number) not in bad:
                latest[row["release_id"]] = row
    return latest


def _vacancy_truth(sim: Simulation, writer: Writer, last_snapshot: int) -> pd.DataFrame:
    """The vacancies the rosters up to the last snapshot show, with their planted state.

    A seat left by someone the rosters lost sight of (vanished) shows no vacancy; a fill
    after the last snapshot is not seen yet; a request is known by its latest row that was
    not corrupted, and a new seat exists once a surviving row shows it released. State
    follows the contract: filled; else recruiting, awaiting_budget, denied or withdrawn
    (the request made last decides), no_request.
    """
    known = _surviving_releases(sim, writer)
    rows = []
    for v in sim.vacancies:
        leaver = sim.people.get(v["leaver"]) if v["leaver"] is not None else None
        if v["opened_on"] > last_snapshot or (leaver and leaver.vanished_from <= v["opened_on"]):
            continue
        requests = [known[r["release_id"]] for r in v["requests"] if r["release_id"] in known]
        if v["open_reason"] == "new_position" and not any(
            r["status"] == "released" for r in requests
        ):
            continue
        closed = (
            v["closed_on"]
            if v["closed_on"] is not None and v["closed_on"] <= last_snapshot
            else None
        )
        statuses = [r["status"] for r in requests]
        rows.append(
            {
                "vacancy_id": f"{v['position_id']}@{sim.iso(v['opened_on'])}",
                "open_reason": v["open_reason"],
                "state": _state(closed is not None, requests),
                "budget_requests": len(statuses),
                "budget_denials": statuses.count("denied"),
                "closed_on": sim.iso(closed) if closed is not None else None,
            }
        )
    return pd.DataFrame(rows, columns=["vacancy_id", "open_reason", "state", "budget_requests",
                                       "budget_denials", "closed_on"])  # fmt: skip


def _state(filled: bool, requests: list[dict]) -> str:
    statuses = [r["status"] for r in requests]
    if filled:
        return "filled"
    if "released" in statuses:
        return "recruiting"
    if "requested" in statuses:
        return "awaiting_budget"
    if not requests:
        return "no_request"
    last = sorted(requests, key=lambda r: (r["requested_date"], r["release_id"]))
    latest_day = last[-1]["requested_date"]
    return str(min((r for r in last if r["requested_date"] == latest_day),
                   key=lambda r: r["release_id"])["status"])  # fmt: skip
