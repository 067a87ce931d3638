"""The pack's pages: page 1 (summary.py), then one page per question with a title that
states its finding, the figures behind it in a table, a chart where one helps, and the
audit appendix (appendix.py). Job titles everywhere; every rate with its n. Pure: frames
in, pages out (charts as Vega-Lite specifications; ``render`` draws them)."""

from __future__ import annotations

import pandas as pd

from rxstaff.staffing_report.appendix import appendix
from rxstaff.staffing_report.charts import bars, grouped_bars, lines, stacked_bars
from rxstaff.staffing_report.data import Figures
from rxstaff.staffing_report.layout import Context, Page, Section, table
from rxstaff.staffing_report.numbers import (
    count,
    days,
    missing,
    money,
    retained,
    score,
    shares,
    signed,
)
from rxstaff.staffing_report.options import ReportOptions
from rxstaff.staffing_report.summary import (
    _people,
    first_year_turnover,
    ladder_steps,
    latest_role_headcount,
    pathway_sentences,
    programme,
    vacancy_rate,
)
from rxstaff.staffing_report.summary import engagement as engagement_finding


def build_pages(figures: Figures, options: ReportOptions, year: int | None = None) -> list[Page]:
    c = context(figures, options, year)
    return [
        programme(c), career_ladder(c), new_roles(c), backfill(c), turnover(c),
        engagement(c), training(c), appendix(figures, c),
    ]  # fmt: skip


def context(figures: Figures, options: ReportOptions, year: int | None) -> Context:
    frames = {k: _year(v, year) for k, v in figures.frames.items()}
    return Context(frames, options, figures.first_snapshot, figures.first_month, figures.as_of)


# --- the career ladder ----------------------------------------------------------------------


def career_ladder(c: Context) -> Page:
    page = Page("ladder", "Career ladder")
    moves = c["mart_career_progression"]
    moves = moves[moves.event_type == "promotion"].copy()
    moves["step"] = c.steps(moves)
    by_year: pd.DataFrame = moves.groupby(["year", "step"], as_index=False)[["moves"]].sum()
    people = ladder_steps(c)
    top = people.sort_values("people", ascending=False).head(1)
    title = (
        f"{int(people.people.sum())} ladder steps taken as people; the most common: "
        f"{top.step.iloc[0]} ({_people(top.people.iloc[0])})"
        if len(top)
        else "No promotion up a ladder in these data"
    )
    every = c["promoted_people"].copy()  # every promotion move, within a family or across
    every["step"] = c.steps(every)
    years = by_year.pivot_table(index="step", columns="year", values="moves", aggfunc="sum")
    shown = (
        every[["step", "people"]]
        .merge(
            years.reset_index().rename(columns=lambda y: f"promotions {y}" if y != "step" else y),
            on="step",
            how="left",
        )
        .sort_values("people", ascending=False)
    )
    page.sections.append(Section(
        title,
        table(shown, {col: col for col in shown.columns}),
        stacked_bars(by_year, "year", "moves", "step", "promotions")
        if len(by_year) else None,
        "Stacked bars of promotions per year, one colour per move (the smallest grouped as "
        "other).",
        note="Every promotion move. People: each employee once per move over the whole "
        "window; promotions: events in each year.",
    ))  # fmt: skip
    paths = pathway_sentences(c)
    page.sections.append(Section(
        "Where people who moved into another job family went"
        if paths else "No one moved into another job family",
        facts=paths,
        note="How far: the highest job of the new family each person has held since.",
    ))  # fmt: skip
    page.sections.append(promotion_rates(c))
    return page


def promotion_rates(c: Context) -> Section:
    latest = families_in_latest_year(c, "avg_headcount")
    latest["rate"] = shares(latest.promotions, latest.avg_headcount, c.min_n, interval=False)
    rated = sum(float(h) >= c.min_n for h in latest.avg_headcount)
    return Section(
        f"Promotion rate by job family in {latest.year.max() if len(latest) else '-'}: "
        f"{rated} of {len(latest)} families have {c.min_n} or more people to rate",
        table(latest, {"job_family": "job family", "promotions": "promotions",
                       "avg_headcount": "average headcount", "rate": "promotion rate (n)"}),
        note=f"A family of fewer than {c.min_n} people (average headcount) is not rated "
        "(RXSTAFF_REPORT_MIN_N).",
    )  # fmt: skip


def families_in_latest_year(c: Context, largest_by: str) -> pd.DataFrame:
    """The latest year's row of each job family (every pharmacy model), largest first."""
    annual = c["mart_retention_annual"]
    rows = annual[(annual.pharmacy_model == "ALL") & (annual.job_family != "ALL")]
    rows = rows[rows.year == rows.year.max()] if len(rows) else rows
    return rows.sort_values(largest_by, ascending=False).copy()


# --- new roles ----------------------------------------------------------------------------


def new_roles(c: Context) -> Page:
    page = Page("roles", "New roles and new seats")
    created = c["mart_new_positions"]
    created = created[created.pharmacy_model == "ALL"].copy()
    created["role"] = created.job_code.map(c.title)
    created["kind"] = created.created_in_expansion.map({True: "new role", False: "existing role"})
    in_new = int(created[created.created_in_expansion.astype(bool)].positions.sum())
    page.sections.append(Section(
        f"{in_new} positions created in the new roles, "
        f"{int(created.positions.sum()) - in_new} in existing roles",
        table(created, {"year": "year", "role": "role", "kind": "kind", "positions": "positions",
                        "fte": "FTE", "annual_amount": "annual budget"}).assign(
            **{"annual budget": created.annual_amount.map(money).to_list()}),
        stacked_bars(created, "year", "positions", "role", "positions created")
        if len(created) else None,
        "Stacked bars of the positions created each year, one colour per role.",
    ))  # fmt: skip
    staffed = latest_role_headcount(c)
    jobs = c["jobs"]
    new = jobs[jobs.created_in_expansion.astype(bool)][["job_code"]]
    staffed = new.merge(staffed, on="job_code", how="left").fillna(0)
    staffed["role"] = staffed.job_code.map(c.title)
    staffed = staffed.sort_values("headcount", ascending=False)
    page.sections.append(Section(
        f"{_people(staffed.headcount.sum())} in the new roles on {c.as_of}; "
        f"{int((staffed.headcount == 0).sum())} new role(s) with no one in them",
        table(staffed, {"role": "new role", "headcount": "people", "open_vacancies": "open seats"}),
        bars(staffed, "role", "headcount", "people on the latest snapshot"),
        "Bars of the people in each new role on the latest roster snapshot.",
    ))  # fmt: skip
    models = c["mart_role_by_model"]
    single = models[(models.year == models.year.max()) & models.unique_to_model.astype(bool)]
    page.sections.append(Section(
        f"{len(single)} role(s) are found in one pharmacy model only",
        table(single.assign(role=single.job_code.map(c.title)),
              {"role": "role", "pharmacy_model": "only in", "headcount": "people"}),
    ))  # fmt: skip
    return page


# --- backfill and budget --------------------------------------------------------------------

KINDS = {True: "new roles", False: "existing roles"}
REASONS = {"separation": "left the pharmacy", "internal_move": "moved to another seat",
           "new_position": "new seat", "ALL": "all"}  # fmt: skip


def backfill(c: Context) -> Page:
    page = Page("backfill", "Backfill and budget")
    page.sections += [time_to_fill(c), open_vacancies(c), unrequested(c), longest_waits(c)]
    return page


def time_to_fill(c: Context) -> Section:
    delays = c["mart_backfill_delays"]
    delays = delays[(delays.job_family == "ALL") & (delays.pharmacy_model == "ALL")].copy()
    delays["reason"] = delays.open_reason.map(REASONS)
    delays = delays.sort_values(["year", "open_reason"])
    whole = delays[delays.open_reason == "ALL"]
    filled = whole[whole.vacancies_filled > 0]
    title = "No vacancy filled yet"
    if len(filled):
        row = filled.iloc[-1]
        title = (
            f"Seats opened in {row.year} took a median {days(row.median_days_to_fill)} to fill "
            f"(90th percentile {days(row.p90_days_to_fill)}; n={count(row.vacancies_filled)} "
            f"filled, {count(row.still_open)} still open)"
        )
    long = whole.melt(id_vars="year", value_vars=["median_days_to_fill", "p90_days_to_fill"],
                      var_name="measure", value_name="days").dropna()  # fmt: skip
    long["measure"] = long.measure.map({"median_days_to_fill": "median",
                                        "p90_days_to_fill": "90th percentile"})  # fmt: skip
    long["days"] = long.days.astype(float)
    return Section(
        title,
        table(delays, {"year": "opened", "reason": "why it opened",
                       "vacancies_opened": "seats", "vacancies_filled": "filled (n)",
                       "median_days_to_fill": "median to fill",
                       "p90_days_to_fill": "p90 to fill",
                       "median_days_waiting_for_budget": "median budget wait",
                       "still_open": "still open",
                       "median_days_open_unfilled": "median open so far"}),
        grouped_bars(long, "year", "days", "measure", "days to fill") if len(long) else None,
        "Bars side by side per year: the median and the 90th percentile of the days from a "
        "seat opening to its filling, over the seats filled.",
        note="Days. To fill: over the filled seats only; the seats still open are counted "
        "beside them with how long they have waited so far (median open so far).",
    )  # fmt: skip


def open_vacancies(c: Context) -> Section:
    backlog = c["mart_vacancy_backlog"]
    backlog = backlog[(backlog.job_family == "ALL") & (backlog.pharmacy_model == "ALL")]
    whole = backlog[backlog.state == "ALL"]
    states = backlog[backlog.state != "ALL"].sort_values("open_vacancies", ascending=False)
    if whole.empty:
        return Section(f"No vacancy open on {c.as_of}")
    row = whole.iloc[0]
    return Section(
        f"{count(row.open_vacancies)} vacancies open on {c.as_of} (vacancy rate "
        f"{vacancy_rate(backlog)}); {money(row.awaiting_budget_amount)} awaits budget release",
        table(states.assign(state=states.state.str.replace("_", " "),
                            amount=states.awaiting_budget_amount.map(money)),
              {"state": "state", "open_vacancies": "open", "open_fte": "FTE",
               "median_days_open": "median days open", "oldest_opened_on": "oldest opened",
               "amount": "awaiting release"}),
        note="Vacancy rate: FTE of the open seats recruiting or awaiting budget over that FTE "
        "plus the FTE employed.",
    )  # fmt: skip


def unrequested(c: Context) -> Section:
    seats = c["promotion_seats_unrequested"].copy()
    seats["role"] = seats.job_code.map(c.title)
    still = int(seats.closed_on.isna().sum())
    return Section(
        f"{len(seats)} seat(s) left by a promotion never had backfill budget requested "
        f"({still} still open)",
        table(seats.sort_values("opened_on"), {"vacancy_id": "vacancy", "role": "role",
                                               "opened_on": "opened", "closed_on": "filled"}),
    )  # fmt: skip


def longest_waits(c: Context) -> Section:
    waiting = c["vacancies_waiting"].copy()
    if len(waiting) and c.as_of is not None:
        requested = pd.to_datetime(waiting.budget_requested_on)
        waiting["days_waiting"] = (pd.Timestamp(c.as_of) - requested).dt.days
        waiting = waiting.sort_values("days_waiting", ascending=False).head(10)
    waiting["role"] = waiting.job_code.map(c.title)
    return Section(
        "The seats waiting longest for budget release, with their lineage"
        if len(waiting) else "No seat is waiting for budget release",
        table(waiting, {"vacancy_id": "vacancy", "role": "role", "pharmacy_model": "model",
                        "days_waiting": "days waiting", "backfill_release_id": "release",
                        "opened_batch_id": "batch", "opened_row_number": "row"}),
        note="rxstaff trace VACANCY prints each one's files, their sha256 and rows.",
    )  # fmt: skip


# --- turnover and retention -------------------------------------------------------------------


def turnover(c: Context) -> Page:
    page = Page("turnover", "Turnover and retention")
    annual = c["mart_retention_annual"]
    whole = annual[(annual.pharmacy_model == "ALL") & (annual.job_family == "ALL")].copy()
    whole["retention"] = retained(whole.retention_rate, whole.start_headcount, c.min_n)
    whole["turnover"] = shares(whole.separations, whole.avg_headcount, c.min_n, interval=False)
    title = "No whole year of roster data yet"
    if len(whole):
        title = (f"Retention {whole.retention.iloc[-1]} in {whole.year.iloc[-1]}; "
                 f"turnover {whole.turnover.iloc[-1]}")  # fmt: skip
    page.sections.append(Section(
        title,
        table(whole, {"year": "year", "start_headcount": "employed 31 Dec before (n)",
                      "retention": "retention (95% CI)", "separations": "left",
                      "turnover": "turnover (of average headcount)", "hires": "hires"}),
        note="Years whose start the roster did not see are left out.",
    ))  # fmt: skip
    page.sections += [by_family(c), first_year(c), promoted_stay(c), early_exits(c)]
    return page


def by_family(c: Context) -> Section:
    rows = families_in_latest_year(c, "start_headcount")
    rows["retention"] = retained(rows.retention_rate, rows.start_headcount, c.min_n)
    rows["turnover"] = shares(rows.separations, rows.avg_headcount, c.min_n, interval=False)
    small = int((rows.start_headcount < c.min_n).sum())
    return Section(
        f"By job family in {rows.year.max() if len(rows) else '-'}: {small} of {len(rows)} "
        f"families are too small (under {c.min_n}) to rate",
        table(rows, {"job_family": "job family", "start_headcount": "n",
                     "retention": "retention (95% CI)", "turnover": "turnover"}),
    )  # fmt: skip


def first_year(c: Context) -> Section:
    hires = first_year_turnover(c).copy()
    hires["rate"] = shares(hires.left_within_365, hires.observable_365, c.min_n)
    return Section(
        f"First-year turnover by hire year ({len(hires)} hire year(s) the data covers whole "
        "and can follow for a year)",
        table(hires, {"hire_year": "hire year", "hires": "hires", "observable_365":
                      "followed a year (n)", "left_within_365": "left within a year",
                      "rate": "first-year turnover (95% CI)"}),
        note="Hire years that began before the first roster snapshot are not shown: only "
        "those hires who stayed could be seen.",
    )  # fmt: skip


def promoted_stay(c: Context) -> Section:
    rows = c["mart_retention_by_promotion"]
    rows = rows[rows.job_family == "ALL"].copy()
    rows["who"] = rows.promoted_last_24m.map({True: "promoted in the 24 months before",
                                              False: "not promoted"})  # fmt: skip
    rows["rate"] = shares(rows.retained, rows.start_headcount, c.min_n)
    complete = rows.lookback_complete.astype(bool).all() if len(rows) else True
    return Section(
        "Retention of people promoted in the 24 months before the year, beside the rest",
        table(rows, {"year": "year", "who": "who", "start_headcount": "n",
                     "rate": "retention (95% CI)"}),
        note="" if complete else "The roster began less than 24 months before some of these "
        "years: promotions before it are unknown, so some promoted people count as not.",
    )  # fmt: skip


def early_exits(c: Context) -> Section:
    exits = c["mart_role_early_exit"]
    exits = exits.assign(kind=exits.created_in_expansion.map(KINDS))
    grouped = exits.groupby(["year", "kind"], as_index=False)[
        ["observable_365", "early_exits_365"]
    ].sum()
    grouped = grouped[grouped.observable_365 > 0]
    grouped["rate"] = shares(grouped.early_exits_365, grouped.observable_365, c.min_n)
    return Section(
        "Early exits (left, moved sideways or down within a year), new roles beside existing",
        table(grouped, {"year": "year started", "kind": "roles", "observable_365": "n",
                        "rate": "early exit (95% CI)"}),
    )  # fmt: skip


# --- engagement -----------------------------------------------------------------------------


def engagement(c: Context) -> Page:
    page = Page("engagement", "Engagement")
    scores = c["mart_engagement"]
    if scores.empty:
        return not_loaded(page, "No engagement survey loaded: engagement cannot be measured yet",
                          "Survey exports arrive as survey/engagement_survey_YYYY.csv with their "
                          "codebook survey/survey_items_YYYY.csv.")  # fmt: skip
    whole = scores[scores.group_by == "ALL"].copy()
    long = whole.melt(id_vars="survey_year", value_vars=["engagement_index", "career_growth_index"],
                      var_name="index", value_name="score").dropna()  # fmt: skip
    long["score"] = long.score.astype(float)
    long["index"] = long["index"].map({"engagement_index": "engagement",
                                       "career_growth_index": "career growth"})  # fmt: skip
    whole["rate"] = [
        "-" if missing(r) else f"{float(r):.0%} of {count(h)}"
        for r, h in zip(whole.response_rate, whole.headcount_at_close, strict=True)
    ]
    page.sections.append(Section(
        engagement_finding(c).title,
        table(whole.assign(change=whole.engagement_change.map(signed)),
              {"survey_year": "year", "respondents": "respondents (n)", "rate": "response rate",
               "engagement_index": "engagement", "engagement_index_comparable": "like for like",
               "change": "change, like for like", "career_growth_index": "career growth"}),
        lines(long, "survey_year", "score", "index", "index (0-100)"),
        "Lines per survey year of the engagement index and the career-growth index, 0 to 100.",
    ))  # fmt: skip
    page.sections += [by_group(c), drivers(c)]
    return page


def by_group(c: Context) -> Section:
    groups = c["mart_engagement"]
    groups = groups[groups.group_by == "job_family"].copy()
    groups["shown"] = [
        "suppressed" if s else f"{score(e)} (n={count(r)})"
        for s, e, r in zip(
            groups.suppressed, groups.engagement_index, groups.respondents, strict=True
        )
    ]
    wide = groups.pivot_table(index="group_value", columns="survey_year", values="shown",
                              aggfunc="first").reset_index()  # fmt: skip
    wide.columns = [str(col) for col in wide.columns]
    hidden = int(groups.suppressed.astype(bool).sum())
    return Section(
        f"Engagement by job family: {hidden} group-year(s) suppressed to protect anonymity",
        table(wide, {col: ("job family" if col == "group_value" else col) for col in wide.columns}),
        note="A suppressed group shows neither its score nor its respondents: fewer than the "
        "minimum group size (RXSTAFF_MIN_GROUP_SIZE) answered, or it is hidden so that a small "
        "group's answers cannot be worked out from the total.",
    )  # fmt: skip


def drivers(c: Context) -> Section:
    found = c["mart_engagement_drivers"].dropna(subset=["impact"])
    latest = found[found.survey_year == found.survey_year.max()] if len(found) else found
    clear = latest[latest.clear.astype(bool)].sort_values("impact", ascending=False).head(5)
    clear = clear.assign(
        interval=[
            f"{lo:.2f} to {hi:.2f}"
            for lo, hi in zip(clear.impact_ci_low, clear.impact_ci_high, strict=True)
        ],
        r=clear.impact.map(lambda v: f"{float(v):.2f}"),
    )
    year = latest.survey_year.max() if len(latest) else "-"
    return Section(
        f"{len(clear)} item(s) clearly move with engagement in {year} ({len(latest) - len(clear)} "
        "not clear of zero, not shown)",
        table(clear, {"item_text": "item", "r": "correlation", "interval": "95% interval",
                      "respondents": "n"}),
        note="An association across respondents, not a cause: people who answer one higher "
        "tend to answer the other higher. Only items whose 95% interval excludes zero.",
    )  # fmt: skip


# --- training -------------------------------------------------------------------------------


def training(c: Context) -> Page:
    page = Page("training", "Training and readiness")
    ready = c["readiness"].copy()
    if ready.empty:
        return not_loaded(page, "No training records loaded: readiness cannot be measured yet",
                          "The learning system's records arrive as "
                          "training/training_records_YYYY-MM-DD.csv (optional).")  # fmt: skip
    ready["kind"] = ready.created_in_expansion.map(KINDS)
    ready["rate"] = shares(ready.proficient, ready.followed, c.min_n)
    page.sections.append(Section(
        "Proficient within 90 days of starting a role, new roles beside existing",
        table(ready, {"year": "year started", "kind": "roles", "followed": "n",
                      "rate": "proficient in 90 days (95% CI)",
                      "median_days": "median days to proficiency"}),
        note="n: spells with required training started at least 90 days before the latest "
        "snapshot and on or after the first.",
    ))  # fmt: skip
    return page


# --- helpers ----------------------------------------------------------------------------------


def not_loaded(page: Page, title: str, arrives_as: str) -> Page:
    """A page whose source has not arrived: what cannot be measured, and how it arrives."""
    page.sections.append(Section(title, note=arrives_as))
    return page


def _year(frame: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The frame for one year (or all), oldest year first."""
    for column in ("year", "survey_year", "hire_year", "month_end"):
        if column in frame.columns:
            frame = frame.sort_values(column, kind="stable").reset_index(drop=True)
            if year is not None and column != "month_end":
                return frame[frame[column] == year]
            return frame
    return frame
