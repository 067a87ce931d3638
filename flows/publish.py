"""After the commit: the copies for readers, the staffing report and the budget watch."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rxstaff.flows.budget_watch import watch_budget
from rxstaff.flows.steps import run_logger, step
from rxstaff.settings import RunSettings
from rxstaff.warehouse.publish import publish_for_audit, publish_for_bi
from rxstaff.warehouse.runs import PublicationFailed, RunSummary


@task(cache_policy=NO_CACHE)
def publish_copies(run: RunSettings) -> None:
    """Replace the copies for BI tools (BI relations only) and auditors, each whole."""
    if run.read_copy:
        publish_for_bi(run.warehouse, run.read_copy)
    if run.audit_copy:
        publish_for_audit(run.warehouse, run.audit_copy)


@task(cache_policy=NO_CACHE)
def write_staffing_report(run: RunSettings) -> str:
    """The staffing report of the warehouse as this run left it; the HTML file's path."""
    from rxstaff.staffing_report.render import write_report
    from rxstaff.warehouse.reading import existing_warehouse

    assert run.report_dir is not None
    with existing_warehouse(run.warehouse) as conn:
        files = write_report(conn, run.report_dir, run.warehouse.description, options=run.report)
    if files.pdf_problem:
        run_logger().warning(files.pdf_problem)
    return str(files.html)


def publish_and_report(run: RunSettings, summary: RunSummary) -> None:
    """The budget watch, the copies a committed run publishes, then its report (none of
    which undoes it)."""
    log = run_logger()
    try:
        summary.budget_watch = step(watch_budget)(run)
    except Exception as error:  # the run committed: an unsent watch is tried next run
        log.error(f"the budget watch failed: {type(error).__name__}: {error}")
    if run.read_copy or run.audit_copy:
        try:
            step(publish_copies)(run)
        except Exception as error:
            summary.failed = f"the run committed, but publishing its copies failed: {error}"
            raise PublicationFailed(summary.failed) from error
    if run.report_dir:
        try:
            summary.report = step(write_staffing_report)(run)
        except Exception as error:  # the run committed: a report problem does not undo it
            summary.report_problem = f"the run committed, but its report failed: {error}"
            log.error(summary.report_problem)
