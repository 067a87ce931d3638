"""The audit appendix: what an auditor checks before signing. The runs, the files, the
quarantined rows beside the rule hits (and why they differ), the anomalies and the gaps
between roster snapshots, freshness, the schema and contract versions, and the job
codes behind the titles. Pure."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd

from rxstaff.staffing_report.data import Figures
from rxstaff.staffing_report.layout import Context, Page, Section, table
from rxstaff.warehouse.schema import CONTRACT_VERSION

GAP_FACTOR = 2  # a wait between snapshots over twice the usual one is a gap


def appendix(figures: Figures, c: Context) -> Page:
    page = Page("appendix", "Audit appendix")
    basis = (
        f"the marts as run {figures.as_of_run} published them"
        if figures.as_of_run
        else "the live marts"
    )
    page.sections.append(Section(
        f"Data from {c.coverage}; schema version {figures.schema_version or 'not readable here'}, "
        f"contract version {CONTRACT_VERSION}; {basis}",
        table(c["mart_freshness"], {"source": "source", "latest_file_date": "newest file",
                                    "files_loaded": "files loaded",
                                    "rows_quarantined_last_run": "quarantined by the last run"}),
        note="; ".join(figures.notes),
    ))  # fmt: skip
    if not figures.audit:
        page.sections.append(Section(
            "The audit trail is not readable by this reader",
            note="Runs, files, quarantined rows and anomalies are in the etl_* relations: "
            "run the report on the warehouse, an auditor role or the --audit-copy."))  # fmt: skip
    else:
        page.sections += [runs(c), files(c), quarantine(c), anomalies(c)]
    page.sections.append(job_codes(c))
    return page


def runs(c: Context) -> Section:
    done = c["runs"]
    failed = int((done.status == "failed").sum()) if len(done) else 0
    return Section(
        f"{len(done)} run(s) behind these figures, {failed} failed and rolled back "
        "(the newest 10 shown)",
        table(
            done.head(10).assign(started=done.started_at.astype(str).str[:16]),
            {
                "run_id": "run",
                "status": "status",
                "files_loaded": "files",
                "files_rejected": "rejected",
                "rows_loaded": "rows",
                "rows_quarantined": "quarantined",
                "started": "started",
            },
        ),
    )


def files(c: Context) -> Section:
    by_source = c["files"]
    return Section(
        f"{int(by_source.files.sum()) if len(by_source) else 0} live file(s) read, "
        f"{int(by_source.files_rejected.sum()) if len(by_source) else 0} rejected whole",
        table(by_source, {col: col.replace("_", " ") for col in by_source.columns}),
    )


def quarantine(c: Context) -> Section:
    hits = c["quarantine"]
    rows = int(c["quarantined_rows"].rows.iloc[0]) if len(c["quarantined_rows"]) else 0
    total_hits = int(hits.rows.sum()) if len(hits) else 0
    why = (
        f": {total_hits - rows} rule hit(s) more than rows, because a row that breaks "
        "several rules is quarantined once and counted under each rule it broke"
        if total_hits > rows
        else ""
    )
    return Section(
        f"{rows} row(s) quarantined, {total_hits} rule hit(s){why}",
        table(hits.rename(columns={"rows": "hits"}), {"rule": "rule", "hits": "rule hits"}),
        note="No quarantined row became an event: the figures keep what was known before it.",
    )


def anomalies(c: Context) -> Section:
    found = c["anomalies"]
    gaps = snapshot_gaps(c["roster_dates"])
    shown = found.assign(kind=found.kind.str.replace("_", " "))
    if len(gaps):
        listed = ", ".join(gaps[:4]) + (" ..." if len(gaps) > 4 else "")
        gap_row = {"kind": f"gap between roster snapshots ({listed})", "anomalies": len(gaps)}
        shown = pd.concat([shown, pd.DataFrame([gap_row])], ignore_index=True)
    return Section(
        f"{int(found.anomalies.sum()) if len(found) else 0} anomalies kept for review; "
        f"{len(gaps)} gap(s) in the roster's snapshots",
        table(shown, {"kind": "kind", "anomalies": "count"}),
        note="An employee absent from a snapshot without a termination keeps their last known "
        "state (vanished without termination); each absence is kept, also one who came back.",
    )


def snapshot_gaps(dates: pd.DataFrame) -> list[str]:
    """The waits between consecutive roster snapshots over twice the usual (median) one."""
    if len(dates) < 3:
        return []
    days = sorted(pd.to_datetime(dates.file_date))
    waits = [(after - before).days for before, after in pairwise(days)]
    usual = float(pd.Series(waits).median())
    return [
        f"{days[i]:%Y-%m-%d} to {days[i + 1]:%Y-%m-%d}"
        for i, wait in enumerate(waits)
        if wait > GAP_FACTOR * usual
    ]


def job_codes(c: Context) -> Section:
    jobs = c["jobs"].sort_values(["job_family", "ladder_level", "job_code"])
    return Section(
        "The job codes behind the titles (the job catalog as loaded)",
        table(jobs.assign(new=jobs.created_in_expansion.map({True: "yes", False: ""})),
              {"job_code": "code", "job_title": "title", "job_family": "family",
               "new": "new role"}),
    )  # fmt: skip
