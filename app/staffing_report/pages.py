"""The report's pages: each chart with a title that states its finding, the figures
behind it in a table, and an alt text. Pure: frames in, pages out (charts as Vega-Lite
specifications; ``render`` draws them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from rxstaff.staffing_report.data import Figures

# Okabe and Ito's palette: told apart by readers with any common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]


@dataclass
class Section:
    title: str  # the finding, in words
    table: pd.DataFrame  # the figures behind it, formatted for people
    chart: dict[str, Any] | None = None  # a Vega-Lite specification
    alt: str = ""
    note: str = ""


@dataclass
class Page:
    slug: str
    title: str
    sections: list[Section] = field(default_factory=list)


def build_pages(figures: Figures, year: int | None = None) -> list[Page]:
    f = {k: _year(v, year) for k, v in figures.frames.items()}
    return [
        career_ladder(f),
        new_roles(f),
        backfill(f),
        turnover(f),
        engagement(f),
        training(f),
        provenance(figures, f),
    ]


# --- pages -------------------------------------------------------------------------------


def career_ladder(f: dict[str, pd.DataFrame]) -> Page:
    page = Page("ladder", "Career ladder")
    moves = f["mart_career_progression"]
    promoted = moves[moves.event_type == "promotion"].copy()
    promoted["step"] = promoted.from_job_code + " -> " + promoted.to_job_code
    by_year = promoted.groupby(["year", "step"], as_index=False).agg(moves=("moves", "sum"))
    total = int(by_year.moves.sum()) if len(by_year) else 0
    top = by_year.groupby("step").moves.sum().sort_values(ascending=False)
    title = (
        f"{total:,} promotions on the ladder; {top.index[0]} is the most common step"
        if total
        else "No promotions in these years"
    )
    page.sections.append(
        Section(
            title,
            _table(
                by_year.sort_values(["year", "moves"], ascending=[True, False]),
                {"year": "year", "step": "step", "moves": "promotions"},
            ),
            _stacked_bars(by_year, "year", "moves", "step", "promotions"),
            f"Stacked bars of promotions per year, one colour per ladder step; {total} in all.",
        )
    )
    cumulative = top.reset_index().rename(columns={"moves": "promotions"})
    page.sections.append(
        Section(
            "Promotions since the programme started, by step",
            _table(cumulative, {"step": "step", "promotions": "promotions"}),
            _bars(cumulative, "step", "promotions", "promotions since the start"),
            "Bars of the cumulative promotions per ladder step.",
        )
    )
    rates = f["mart_retention_annual"]
    rates = rates[(rates.pharmacy_model == "ALL") & (rates.job_family != "ALL")]
    page.sections.append(
        Section(
            "Promotion rate by job family",
            _table(
                rates[["year", "job_family", "promotions", "promotion_rate"]],
                {
                    "year": "year",
                    "job_family": "family",
                    "promotions": "promotions",
                    "promotion_rate": "promotion rate",
                },
                rates=["promotion rate"],
            ),
            _lines(rates, "year", "promotion_rate", "job_family", "promotion rate", percent=True),
            "Lines of the promotion rate per year, one per job family.",
        )
    )
    return page


def new_roles(f: dict[str, pd.DataFrame]) -> Page:
    page = Page("roles", "New roles")
    created = f["mart_new_positions"]
    created = created[created.pharmacy_model == "ALL"]
    seats = int(created.positions.sum()) if len(created) else 0
    page.sections.append(
        Section(
            f"{seats:,} new positions created",
            _table(
                created[["year", "job_code", "job_title", "positions", "fte", "annual_amount"]],
                {
                    "year": "year",
                    "job_code": "role",
                    "job_title": "title",
                    "positions": "positions",
                    "fte": "FTE",
                    "annual_amount": "annual budget",
                },
                money=["annual budget"],
            ),
            _stacked_bars(created, "year", "positions", "job_code", "positions created"),
            "Stacked bars of positions created per year, one colour per role.",
        )
    )
    heads = f["headcount_new_roles"]
    latest = heads[heads.month_end == heads.month_end.max()] if len(heads) else heads
    now = int(latest.headcount.sum()) if len(latest) else 0
    page.sections.append(
        Section(
            f"{now:,} people work in the new roles at the latest month end",
            _table(
                latest.sort_values("job_code"),
                {"month_end": "month end", "job_code": "role", "headcount": "headcount"},
            ),
            _lines(heads, "month_end", "headcount", "job_code", "headcount", temporal=True),
            "Lines of the month-end headcount in each new role.",
        )
    )
    models = f["mart_role_by_model"]
    if len(models):
        models = models[models.year == models.year.max()]
    single = models[models.unique_to_model.astype(bool)] if len(models) else models
    page.sections.append(
        Section(
            f"{len(single)} role(s) are staffed in one pharmacy model only",
            _table(
                single[["year", "job_code", "job_title", "pharmacy_model", "headcount"]],
                {
                    "year": "year",
                    "job_code": "role",
                    "job_title": "title",
                    "pharmacy_model": "only in",
                    "headcount": "headcount",
                },
            ),
        )
    )
    return page


def backfill(f: dict[str, pd.DataFrame]) -> Page:
    page = Page("backfill", "Backfill and budget")
    delays = f["mart_backfill_delays"]
    delays = delays[
        (delays.job_family == "ALL")
        & (delays.pharmacy_model == "ALL")
        & (delays.open_reason == "ALL")
    ]
    stages = delays.melt(
        id_vars="year",
        value_vars=[
            "median_days_to_request",
            "median_days_waiting_for_budget",
            "median_days_release_to_fill",
        ],
        var_name="stage",
        value_name="days",
    ).dropna()
    stages["stage"] = stages.stage.map(
        {
            "median_days_to_request": "1 open to request",
            "median_days_waiting_for_budget": "2 request to release",
            "median_days_release_to_fill": "3 release to fill",
        }
    )
    stages["days"] = stages.days.astype(float)
    wait = stages[stages.stage == "2 request to release"]
    title = (
        f"Waiting for budget took a median {wait.days.iloc[-1]:.1f} days in {wait.year.iloc[-1]}"
        if len(wait)
        else "Time to fill, by stage"
    )
    page.sections.append(
        Section(
            title,
            _table(
                delays[
                    [
                        "year",
                        "vacancies_opened",
                        "vacancies_filled",
                        "median_days_to_request",
                        "median_days_waiting_for_budget",
                        "median_days_release_to_fill",
                        "median_days_to_fill",
                    ]
                ],
                {
                    "year": "year",
                    "vacancies_opened": "opened",
                    "vacancies_filled": "filled",
                    "median_days_to_request": "open to request",
                    "median_days_waiting_for_budget": "request to release",
                    "median_days_release_to_fill": "release to fill",
                    "median_days_to_fill": "open to fill",
                },
            ),
            _stacked_bars(stages, "year", "days", "stage", "median days"),
            "Stacked bars per year of the median days in each stage: open to request, "
            "request to budget release, release to fill.",
        )
    )
    backlog = f["mart_vacancy_backlog"]
    backlog = backlog[(backlog.job_family == "ALL") & (backlog.pharmacy_model == "ALL")
                      & (backlog.state != "ALL")]  # fmt: skip
    open_now = int(backlog.open_vacancies.sum()) if len(backlog) else 0
    page.sections.append(
        Section(
            f"{open_now:,} vacancies open today, by state",
            _table(
                backlog[["state", "open_vacancies", "open_fte", "median_days_open"]],
                {
                    "state": "state",
                    "open_vacancies": "open",
                    "open_fte": "FTE",
                    "median_days_open": "median days open",
                },
            ),
            _bars(backlog, "state", "open_vacancies", "open vacancies"),
            "Bars of the open vacancies by state.",
        )
    )
    waiting = f["vacancies_waiting"].copy()
    as_of = _as_of(f)
    if len(waiting) and as_of is not None:
        waiting["days_waiting"] = (as_of - pd.to_datetime(waiting.budget_requested_on)).dt.days
        waiting = waiting.sort_values("days_waiting", ascending=False).head(10)
    page.sections.append(
        Section(
            "The vacancies waiting longest for budget, with their lineage",
            _table(
                waiting,
                {
                    "vacancy_id": "vacancy",
                    "job_code": "role",
                    "pharmacy_model": "model",
                    "days_waiting": "days waiting",
                    "backfill_release_id": "release",
                    "opened_batch_id": "batch",
                    "opened_row_number": "row",
                },
            ),
            note="`rxstaff trace VACANCY` prints each one's files, sha256 and rows.",
        )
    )
    return page


def turnover(f: dict[str, pd.DataFrame]) -> Page:
    page = Page("turnover", "Turnover and retention")
    rates = f["mart_retention_annual"]
    rates = rates[rates.pharmacy_model == "ALL"]
    total = rates[rates.job_family == "ALL"]
    title = (
        f"Retention {_pct(total.retention_rate.iloc[-1])} in {total.year.iloc[-1]}, "
        f"turnover {_pct(total.turnover_rate.iloc[-1])}"
        if len(total)
        else "Turnover and retention"
    )
    page.sections.append(
        Section(
            title,
            _table(
                rates[
                    [
                        "year",
                        "job_family",
                        "turnover_rate",
                        "voluntary_turnover_rate",
                        "retention_rate",
                        "first_year_separations",
                    ]
                ],
                {
                    "year": "year",
                    "job_family": "family",
                    "turnover_rate": "turnover",
                    "voluntary_turnover_rate": "voluntary",
                    "retention_rate": "retention",
                    "first_year_separations": "first-year leavers",
                },
                rates=["turnover", "voluntary", "retention"],
            ),
            _lines(rates, "year", "retention_rate", "job_family", "retention", percent=True),
            "Lines of the retention rate per year, one per job family and one for all.",
        )
    )
    exits = f["mart_role_early_exit"]
    grouped = (
        exits.assign(kind=exits.created_in_expansion.map({True: "new roles", False: "legacy"}))
        .groupby(["year", "kind"], as_index=False)[["observable_365", "early_exits_365"]]
        .sum()
    )
    grouped["early_exit_rate_365"] = grouped.early_exits_365 / grouped.observable_365.where(
        grouped.observable_365 > 0
    )
    page.sections.append(
        Section(
            "Early exits within a year: new roles against legacy roles",
            _table(
                grouped,
                {
                    "year": "year started",
                    "kind": "roles",
                    "observable_365": "observable",
                    "early_exits_365": "early exits",
                    "early_exit_rate_365": "early exit rate",
                },
                rates=["early exit rate"],
            ),
            _grouped_bars(
                grouped.dropna(subset=["early_exit_rate_365"]),
                "year",
                "early_exit_rate_365",
                "kind",
                "early exits within 365 days",
            ),
            "Bars per year of the share of spells ended within 365 days by a separation, "
            "a lateral move or a demotion, new roles beside legacy roles.",
        )
    )
    return page


def engagement(f: dict[str, pd.DataFrame]) -> Page:
    page = Page("engagement", "Engagement")
    scores = f["mart_engagement"]
    if scores.empty:
        page.sections.append(
            Section(
                "No engagement survey loaded: engagement cannot be measured yet",
                pd.DataFrame(),
                note="Survey exports arrive as survey/engagement_survey_YYYY.csv with their "
                "codebook survey/survey_items_YYYY.csv.",
            )
        )
        return page
    whole = scores[scores.group_by == "ALL"].copy()
    long = whole.melt(
        id_vars="survey_year",
        value_vars=["engagement_index", "engagement_index_comparable", "career_growth_index"],
        var_name="index",
        value_name="score",
    ).dropna()
    long["score"] = long.score.astype(float)
    long["index"] = long["index"].map(
        {
            "engagement_index": "engagement",
            "engagement_index_comparable": "engagement, like for like",
            "career_growth_index": "career growth",
        }
    )
    shown = whole.dropna(subset=["engagement_index"])
    title = (
        f"Engagement went from {float(shown.engagement_index.iloc[0]):.0f} to "
        f"{float(shown.engagement_index.iloc[-1]):.0f} "
        f"({shown.survey_year.iloc[0]}-{shown.survey_year.iloc[-1]})"
        if len(shown) > 1
        else "Engagement by survey year"
    )
    page.sections.append(
        Section(
            title,
            _table(
                whole[
                    [
                        "survey_year",
                        "respondents",
                        "response_rate",
                        "engagement_index",
                        "engagement_index_comparable",
                        "engagement_change",
                        "career_growth_index",
                    ]
                ],
                {
                    "survey_year": "year",
                    "respondents": "respondents",
                    "response_rate": "response rate",
                    "engagement_index": "engagement",
                    "engagement_index_comparable": "like for like",
                    "engagement_change": "change",
                    "career_growth_index": "career growth",
                },
                rates=["response rate"],
            ),
            _lines(long, "survey_year", "score", "index", "index (0-100)"),
            "Lines per survey year of the engagement index, the like-for-like engagement "
            "index and the career-growth index, each 0 to 100.",
        )
    )
    groups = scores[scores.group_by == "job_family"]
    page.sections.append(
        Section(
            "Engagement by job family (groups too small to show are marked suppressed)",
            _table(
                groups[
                    ["survey_year", "group_value", "respondents", "engagement_index", "suppressed"]
                ],
                {
                    "survey_year": "year",
                    "group_value": "family",
                    "respondents": "respondents",
                    "engagement_index": "engagement",
                    "suppressed": "suppressed",
                },
            ),
            note="A suppressed group shows neither its score nor its respondents: it had "
            "fewer respondents than the minimum group size (RXSTAFF_MIN_GROUP_SIZE, 5 by "
            "default), or it is the next smallest group, hidden so that a small group's "
            "answers cannot be worked out from the total (complementary suppression).",
        )
    )
    items = f["mart_engagement_item"]
    items = items[(items.group_by == "ALL") & items.change_vs_prior.notna()].copy()
    if len(items):
        items = items[items.survey_year == items.survey_year.max()]
        items["change"] = items.change_vs_prior.astype(float)
        items = items.reindex(items.change.abs().sort_values(ascending=False).index).head(5)
    page.sections.append(
        Section(
            "The items that changed most against the year before",
            _table(
                items,
                {
                    "survey_year": "year",
                    "item_text": "item",
                    "mean_score": "score",
                    "change_vs_prior": "change",
                },
            ),
            _bars(items, "item_text", "change", "change against the year before")
            if len(items)
            else None,
            "Bars of the change in each item's score against the year before.",
        )
    )
    drivers = f["mart_engagement_drivers"].dropna(subset=["impact"])
    if len(drivers):
        drivers = drivers[drivers.survey_year == drivers.survey_year.max()]
        drivers = drivers.sort_values("impact", ascending=False).head(5)
    page.sections.append(
        Section(
            "What moves engagement most (correlation with the engagement score)",
            _table(
                drivers,
                {
                    "survey_year": "year",
                    "item_text": "item",
                    "dimension": "dimension",
                    "impact": "impact",
                    "respondents": "respondents",
                },
                precise=["impact"],
            ),
        )
    )
    stayed = f["mart_engagement_retention"]
    stayed = stayed[stayed.group_by.isin(["ALL", "job_family"])]
    page.sections.append(
        Section(
            "Did the surveyed groups stay? Separations in the 12 months after each survey",
            _table(
                stayed[
                    [
                        "survey_year",
                        "group_value",
                        "engagement_index",
                        "suppressed",
                        "headcount_at_close",
                        "separations_next_12m",
                        "retention_next_12m",
                        "complete",
                    ]
                ],
                {
                    "survey_year": "year",
                    "group_value": "group",
                    "engagement_index": "engagement",
                    "suppressed": "suppressed",
                    "headcount_at_close": "headcount",
                    "separations_next_12m": "left in 12 months",
                    "retention_next_12m": "retention",
                    "complete": "12 months observed",
                },
                rates=["retention"],
            ),
        )
    )
    return page


def training(f: dict[str, pd.DataFrame]) -> Page:
    page = Page("training", "Training")
    ready = f["mart_role_readiness"].copy()
    ready["roles"] = ready.created_in_expansion.map({True: "new roles", False: "legacy"})
    ready = ready[ready.entries_with_requirements.fillna(0) > 0]  # years with training data
    known = ready.dropna(subset=["median_days_to_proficiency"]).copy()
    known["days"] = known.median_days_to_proficiency.astype(float)
    # one bar per year and kind: the median over its roles of each role's median days
    by_kind = known.groupby(["year", "roles"], as_index=False).agg(days=("days", "median"))
    if ready.empty:
        page.sections.append(
            Section(
                "No training records loaded: readiness cannot be measured yet",
                pd.DataFrame(),
                note="The learning system's records arrive as "
                "training/training_records_YYYY-MM-DD.csv (optional).",
            )
        )
        return page
    title = "Time to proficiency: new roles against legacy roles"
    page.sections.append(
        Section(
            title,
            _table(
                ready[
                    [
                        "year",
                        "job_code",
                        "roles",
                        "entries",
                        "entries_with_requirements",
                        "proficiency_rate_90",
                        "median_days_to_proficiency",
                    ]
                ],
                {
                    "year": "year",
                    "job_code": "role",
                    "roles": "kind",
                    "entries": "entries",
                    "entries_with_requirements": "with training",
                    "proficiency_rate_90": "proficient in 90 days",
                    "median_days_to_proficiency": "median days",
                },
                rates=["proficient in 90 days"],
            ),
            _grouped_bars(by_kind, "year", "days", "roles", "median days to proficiency")
            if len(by_kind)
            else None,
            "Bars per year of the median days to proficiency (the median over the roles of "
            "each role's median), new roles beside legacy roles.",
        )
    )
    return page


def provenance(figures: Figures, f: dict[str, pd.DataFrame]) -> Page:
    page = Page("provenance", "Data quality and provenance")
    schema = figures.schema_version
    basis = (
        f"marts as run {figures.as_of_run} published them" if figures.as_of_run else "live marts"
    )
    page.sections.append(
        Section(
            f"Freshness of each source (schema version {schema or 'not readable here'}; {basis})",
            _table(
                f["mart_freshness"],
                {
                    "source": "source",
                    "latest_file_date": "newest file",
                    "files_loaded": "files loaded",
                    "rows_quarantined_last_run": "quarantined last run",
                },
            ),
            note="; ".join(figures.notes),
        )
    )
    if not figures.audit:
        page.sections.append(
            Section(
                "The audit trail is not readable by this reader",
                pd.DataFrame(),
                note="Runs, files, quarantined rows and anomalies are in the etl_* relations: "
                "run the report on the warehouse, an auditor role or the --audit-copy.",
            )
        )
        return page
    page.sections += [
        Section("The runs behind these figures (newest first)",
                _table(f["runs"].head(15), {c: c.replace("_", " ") for c in f["runs"].columns})),
        Section("Files and rows loaded, by source",
                _table(f["files"], {c: c.replace("_", " ") for c in f["files"].columns})),
        Section("Quarantined rows, by rule",
                _table(f["quarantine"], {"rule": "rule", "rows": "rows"}),
                _bars(f["quarantine"].head(12), "rule", "rows", "rows quarantined")
                if len(f["quarantine"]) else None,
                "Bars of the rows quarantined under each rule."),
        Section("Anomalies kept for review",
                _table(f["anomalies"], {"kind": "kind", "anomalies": "anomalies"})),
    ]  # fmt: skip
    return page


# --- helpers -------------------------------------------------------------------------------


def _year(frame: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The frame for one year (or all), oldest year first."""
    for column in ("year", "survey_year", "month_end"):
        if column in frame.columns:
            frame = frame.sort_values(column, kind="stable").reset_index(drop=True)
            if year is not None and column != "month_end":
                return frame[frame[column] == year]
            return frame
    return frame


def _as_of(f: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    fresh = f["mart_freshness"]
    roster = fresh[fresh.source == "roster"]
    return pd.Timestamp(roster.latest_file_date.iloc[0]) if len(roster) else None


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _pct(value: Any) -> str:
    return "n/a" if _missing(value) else f"{float(value):.1%}"


def _table(
    frame: pd.DataFrame,
    columns: dict[str, str],
    rates: list[str] | None = None,
    money: list[str] | None = None,
    precise: list[str] | None = None,
) -> pd.DataFrame:
    """The figures as people read them: percents, thousands separators, one decimal."""
    present = [c for c in columns if c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    for source in present:
        label = columns[source]
        if _is_name(source):  # years and ids are names, not quantities: no separators
            out[label] = frame[source].map(lambda v: "-" if _missing(v) else str(v))
        elif label in (precise or []):  # a correlation: three decimals
            out[label] = frame[source].map(lambda v: "-" if _missing(v) else f"{float(v):.3f}")
        else:
            out[label] = frame[source].map(
                lambda v, c=label: _cell(v, c in (rates or []), c in (money or []))
            )
    return out.reset_index(drop=True)


def _is_name(column: str) -> bool:
    return "year" in column or column.endswith(("_id", "_number", "_code")) or column == "month_end"


def _cell(value: Any, rate: bool, money: bool) -> str:
    if _missing(value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if rate:
        return f"{float(value):.1%}"
    if money:
        return f"${float(value):,.0f}"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if hasattr(value, "is_integer") and not isinstance(value, str):  # Decimal
        return f"{float(value):,.1f}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _data(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.copy()
    for column in plain.columns:
        if pd.api.types.is_datetime64_any_dtype(plain[column]):
            plain[column] = plain[column].dt.strftime("%Y-%m-%d")
        elif plain[column].dtype == object:
            plain[column] = plain[column].map(_json_value)
    return plain.astype(object).where(plain.notna(), None).to_dict("records")  # type: ignore[return-value]


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _spec(frame: pd.DataFrame, mark: dict[str, Any], encoding: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 560,
        "height": 240,
        "data": {"values": _data(frame)},
        "mark": mark,
        "encoding": encoding,
        "config": {"range": {"category": PALETTE}, "font": "sans-serif"},
    }


def _stacked_bars(frame: pd.DataFrame, x: str, y: str, color: str, label: str) -> dict[str, Any]:
    return _spec(frame, {"type": "bar"}, {
        "x": {"field": x, "type": "ordinal", "title": x.replace("_", " ")},
        "y": {"field": y, "type": "quantitative", "title": label, "stack": "zero"},
        "color": {"field": color, "type": "nominal", "title": color.replace("_", " ")},
        "tooltip": [{"field": x}, {"field": color}, {"field": y}],
    })  # fmt: skip


def _grouped_bars(frame: pd.DataFrame, x: str, y: str, color: str, label: str) -> dict[str, Any]:
    return _spec(frame, {"type": "bar"}, {
        "x": {"field": x, "type": "ordinal", "title": x.replace("_", " ")},
        "xOffset": {"field": color},
        "y": {"field": y, "type": "quantitative", "title": label},
        "color": {"field": color, "type": "nominal", "title": color.replace("_", " ")},
    })  # fmt: skip


def _bars(frame: pd.DataFrame, x: str, y: str, label: str) -> dict[str, Any]:
    return _spec(frame, {"type": "bar", "color": PALETTE[0]}, {
        "y": {"field": x, "type": "nominal", "title": None, "sort": "-x",
              "axis": {"labelLimit": 360}},
        "x": {"field": y, "type": "quantitative", "title": label},
    })  # fmt: skip


def _lines(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    label: str,
    percent: bool = False,
    temporal: bool = False,
) -> dict[str, Any]:
    axis = {"format": ".0%"} if percent else {}
    return _spec(frame.dropna(subset=[y]), {"type": "line", "point": True}, {
        "x": {"field": x, "type": "temporal" if temporal else "ordinal",
              "title": x.replace("_", " ")},
        "y": {"field": y, "type": "quantitative", "title": label, "axis": axis},
        "color": {"field": color, "type": "nominal", "title": color.replace("_", " ")},
    })  # fmt: skip
