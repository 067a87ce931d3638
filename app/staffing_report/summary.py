"""Page 1: the programme on one page, in the terms the pharmacy set itself (new roles and
the seats in them, ladder steps as people, engagement and career growth, retention,
backfill and the money waiting for budget). Each title states its finding, generated
from the figures it reads; each section links to the page with the detail. Pure."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rxstaff.staffing_report.layout import Context, Page, Section
from rxstaff.staffing_report.numbers import count, days, missing, money, retained, score, shares

LEVEL = 2.0  # index points: a smaller change between two surveys is "about level"
PAGE_ONE_CROSSINGS = 5  # the largest moves into another family; all on the ladder page


def programme(c: Context) -> Page:
    return Page(
        "summary",
        "The programme on one page",
        [new_roles(c), ladder(c), engagement(c), retention(c), backfill(c)],
    )


def new_roles(c: Context) -> Section:
    jobs = c["jobs"]
    new = set(jobs[jobs.created_in_expansion.astype(bool)].job_code)
    created = c["mart_new_positions"]
    created = created[created.pharmacy_model == "ALL"]
    in_new = int(created[created.job_code.isin(new)].positions.sum())
    in_existing = created[~created.job_code.isin(new)]
    staffed = latest_role_headcount(c)
    people = int(staffed[staffed.job_code.isin(new)].headcount.sum()) if len(staffed) else 0
    roles_staffed = staffed[staffed.job_code.isin(new) & (staffed.headcount > 0)].job_code.nunique()
    facts = [
        f"{len(new)} new roles: " + ", ".join(sorted(c.title(code) for code in new)) + ".",
        f"{in_new} positions created in the new roles by released new-position budget, "
        f"{c.coverage}.",
    ]
    if len(in_existing):
        facts.append(
            f"Apart from these, {int(in_existing.positions.sum())} new seat(s) in existing "
            "roles: "
            + ", ".join(
                f"{c.title(code)} {int(n)}"
                for code, n in in_existing.groupby("job_code").positions.sum().items()
            )
            + "."
        )
    facts.append(f"{_people(people)} work in {roles_staffed} of the new roles on {c.as_of or '?'}.")
    return Section(
        f"{in_new} positions created in the {len(new)} new roles; "
        f"{_people(people)} work in them on {c.as_of or 'the latest snapshot'}",
        facts=facts,
        link="roles",
    )


def latest_role_headcount(c: Context) -> pd.DataFrame:
    """Headcount by job on the latest day mart_role_by_model measures (as_of_date)."""
    roles = c["mart_role_by_model"]
    if roles.empty:
        return roles.assign(headcount=[])
    roles = roles[roles.year == roles.year.max()]
    return roles.groupby("job_code", as_index=False)[["headcount", "open_vacancies"]].sum()


def ladder_steps(c: Context) -> pd.DataFrame:
    """Promotions up a family's ladder (both jobs on it), as people: each once per step."""
    jobs = c["jobs"].set_index("job_code")
    people = c["promoted_people"].copy()
    if people.empty:
        return people.assign(step=[], family=[], level=[])
    known = people.from_job_code.isin(jobs.index) & people.to_job_code.isin(jobs.index)
    people = people[known]
    source, target = jobs.loc[people.from_job_code], jobs.loc[people.to_job_code]
    same_family = source.job_family.to_numpy() == target.job_family.to_numpy()
    on_ladder = source.ladder_level.notna().to_numpy() & target.ladder_level.notna().to_numpy()
    steps = people[same_family & on_ladder].copy()
    steps["family"] = jobs.loc[steps.from_job_code].job_family.to_numpy()
    steps["level"] = jobs.loc[steps.from_job_code].ladder_level.astype(int).to_numpy()
    steps["step"] = c.steps(steps)
    return steps.sort_values(["family", "level"]).reset_index(drop=True)


def family_steps(rows: pd.DataFrame) -> str:
    """One family's steps in a line, its shared words said once: 'Specialty Pharmacy
    Technician I → II: 14 people; II → III: 7 people.'"""
    labels = list(rows.step)
    shared = labels[0].split(" → ")[0].split()[:-1]
    said = [labels[0]] + [
        " ".join(label.split()[len(shared) :]) if label.split()[: len(shared)] == shared else label
        for label in labels[1:]
    ]
    return (
        "; ".join(f"{label}: {_people(n)}" for label, n in zip(said, rows.people, strict=True))
        + "."
    )


def pathway_sentences(c: Context) -> list[str]:
    """Each crossing into another family, and how far those people went (mart_pathway_outcomes)."""
    paths = c["mart_pathway_outcomes"]
    said = []
    totals = paths[paths.highest_job_code == "ALL"].sort_values(
        ["employees", "from_family", "to_family"], ascending=[False, True, True]
    )
    for source, target, total in zip(
        totals.from_family, totals.to_family, totals.employees, strict=True
    ):
        rows = paths[(paths.from_family == source) & (paths.to_family == target)]
        reached = rows[rows.highest_job_code != "ALL"].sort_values("highest_job_code")
        how_far = "; ".join(
            f"{n} reached {c.title(code)}"
            for code, n in zip(reached.highest_job_code, reached.employees, strict=True)
        )
        said.append(f"{source} → {target}: {_people(total)} ({how_far}).")
    return said


def ladder(c: Context) -> Section:
    steps = ladder_steps(c)
    facts = [family_steps(rows) for _, rows in steps.groupby("family", sort=True)]
    crossings = pathway_sentences(c)
    facts += crossings[:PAGE_ONE_CROSSINGS]
    if len(crossings) > PAGE_ONE_CROSSINGS:  # page 1 stays one page; the rest on page 2
        more = len(crossings) - PAGE_ONE_CROSSINGS
        facts.append(f"{more} smaller crossing(s) into another family: see the career ladder.")
    if not facts:
        return Section("No promotion on a career ladder in these data", link="ladder")
    paths = c["mart_pathway_outcomes"]
    crossed = int(paths[paths.highest_job_code == "ALL"].employees.sum())
    climbed = int(steps.people.sum())
    return Section(
        f"{climbed} ladder steps taken (counted as people, per step); {crossed} people "
        "crossed into another job family",
        facts=facts,
        link="ladder",
    )


def _people(n: object) -> str:
    return "1 person" if int(n) == 1 else f"{int(n)} people"  # type: ignore[call-overload]


def engagement(c: Context) -> Section:
    whole = c["mart_engagement"]
    whole = whole[(whole.group_by == "ALL") & whole.engagement_index.notna()]
    if whole.empty:
        return Section("No engagement survey loaded: engagement is not measured", link="engagement")
    first, last = whole.iloc[0], whole.iloc[-1]
    chained = whole.engagement_change.dropna().astype(float)
    facts = [
        f"Engagement index {score(first.engagement_index)} in {first.survey_year} "
        f"(n={count(first.respondents)}) and {score(last.engagement_index)} in "
        f"{last.survey_year} (n={count(last.respondents)}).",
    ]
    if len(chained):
        facts.append(
            f"Like for like (only the items also asked the year before, year on year), "
            f"the changes add up to {chained.sum():+.1f} points."
        )
    growth = whole.career_growth_index.dropna().astype(float)
    if len(growth):
        facts.append(
            "Career growth index by year: "
            + ", ".join(
                f"{score(v)} ({y})"
                for y, v in zip(whole.survey_year, whole.career_growth_index, strict=True)
                if not missing(v)
            )
            + "."
        )
    title = (
        f"Engagement {_moved(first.engagement_index, last.engagement_index)} "
        f"{score(first.engagement_index)} to {score(last.engagement_index)} "
        f"({first.survey_year}-{last.survey_year})"
    )
    if len(growth) > 1:
        title += f"; career growth {_moved(growth.iloc[0], growth.iloc[-1])} " + (
            f"{score(growth.iloc[0])} to {score(growth.iloc[-1])}"
        )
    return Section(title, facts=facts, link="engagement")


def _moved(before: Any, after: Any) -> str:
    change = float(after) - float(before)
    if abs(change) < LEVEL:
        return "stayed about level, from"
    return "rose from" if change > 0 else "fell from"


def retention(c: Context) -> Section:
    annual = c["mart_retention_annual"]
    annual = annual[(annual.job_family == "ALL") & (annual.pharmacy_model == "ALL")]
    annual = annual.sort_values("year").iloc[[0, -1]].drop_duplicates() if len(annual) else annual
    kept = retained(annual.retention_rate, annual.start_headcount, c.min_n)
    left = shares(annual.separations, annual.avg_headcount, c.min_n, interval=False)
    facts = [
        f"{year}: retention {k} of those employed on 31 December before; turnover {t}, "
        "leavers of the average headcount."
        for year, k, t in zip(annual.year, kept, left, strict=True)
    ]
    first_year = first_year_turnover(c)
    first_year = first_year.iloc[[0, -1]].drop_duplicates() if len(first_year) else first_year
    rates = shares(first_year.left_within_365, first_year.observable_365, c.min_n)
    facts += [
        f"First-year turnover of those hired in {year}: {rate}."
        for year, rate in zip(first_year.hire_year, rates, strict=True)
    ]
    if annual.empty:
        return Section(
            "No whole year of roster data yet: retention is not measured", link="turnover"
        )
    title = f"Retention {kept[-1]} in {annual.year.iloc[-1]}"
    if len(annual) > 1:
        title += f", against {kept[0]} in {annual.year.iloc[0]}"
    return Section(title, facts=facts, link="turnover")


def first_year_turnover(c: Context) -> pd.DataFrame:
    """First-year turnover by hire year, for the hire years the data covers whole (a year
    that began before the first snapshot would count only the hires who stayed)."""
    hires = c["mart_new_hire_retention"]
    hires = hires[(hires.job_family == "ALL") & (hires.pharmacy_model == "ALL")]
    hires = hires[[c.covered_year(int(y)) for y in hires.hire_year]] if len(hires) else hires
    return hires[hires.observable_365 > 0].sort_values("hire_year").reset_index(drop=True)


def vacancy_rate(backlog: pd.DataFrame) -> str:
    """The vacancy rate with its n: the open FTE being filled (recruiting or awaiting
    budget) of that FTE plus the FTE employed, as mart_vacancy_backlog divides them."""
    whole = backlog[(backlog.job_family == "ALL") & (backlog.pharmacy_model == "ALL")]
    rate = whole[whole.state == "ALL"].vacancy_rate
    if rate.empty or missing(rate.iloc[0]):
        return "-"
    filling = float(whole[whole.state.isin(["recruiting", "awaiting_budget"])].open_fte.sum())
    if float(rate.iloc[0]) == 0:
        return "0.0% (no seat being filled)"
    total = filling / float(rate.iloc[0])
    return f"{float(rate.iloc[0]):.1%} ({filling:,.1f} of {total:,.1f} FTE)"


def backfill(c: Context) -> Section:
    delays = c["mart_backfill_delays"]
    delays = delays[(delays.job_family == "ALL") & (delays.pharmacy_model == "ALL")
                    & (delays.open_reason == "ALL")].sort_values("year")  # fmt: skip
    filled = delays[delays.vacancies_filled > 0]
    facts = []
    if len(filled):
        row = filled.iloc[-1]
        facts.append(
            f"Seats opened in {row.year}: median {days(row.median_days_to_fill)} to fill, "
            f"90th percentile {days(row.p90_days_to_fill)} (n={count(row.vacancies_filled)} "
            f"filled of {count(row.vacancies_opened)} opened; {count(row.still_open)} still open)."
        )
    backlog = c["mart_vacancy_backlog"]
    whole = backlog[(backlog.job_family == "ALL") & (backlog.pharmacy_model == "ALL")
                    & (backlog.state == "ALL")]  # fmt: skip
    open_now = int(whole.open_vacancies.iloc[0]) if len(whole) else 0
    waiting = backlog[(backlog.job_family == "ALL") & (backlog.pharmacy_model == "ALL")
                      & (backlog.state == "awaiting_budget")]  # fmt: skip
    seats_waiting = int(waiting.open_vacancies.sum()) if len(waiting) else 0
    amount = float(whole.awaiting_budget_amount.iloc[0]) if len(whole) else 0.0
    if len(whole):
        facts.append(
            f"{open_now} vacancies open on {c.as_of}, the oldest opened "
            f"{whole.oldest_opened_on.iloc[0]:%Y-%m-%d}; vacancy rate {vacancy_rate(backlog)}."
        )
    facts.append(
        f"{seats_waiting} seat(s) waiting for budget release, {money(amount)} a year in all."
    )
    return Section(
        f"{open_now} vacancies open on {c.as_of or 'the latest snapshot'}; {money(amount)} "
        f"of budget for {seats_waiting} seat(s) awaits release",
        facts=facts,
        link="backfill",
    )
