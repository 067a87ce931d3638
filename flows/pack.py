"""The director's pack, monthly: the staffing report written from the warehouse and its
PDF e-mailed to a list. The ``monthly-pack`` deployment of prefect.yaml runs it.

Where it goes: ``out`` (or $RXSTAFF_PACK_DIR), to ``email_to`` (or
$RXSTAFF_PACK_EMAIL_TO, addresses separated by commas) through the alerts' SMTP server
($RXSTAFF_ALERT_SMTP and $RXSTAFF_ALERT_EMAIL_FROM, or what `rxstaff setup-alerts`
stored). A pack that cannot be printed or sent fails the run, so the failure alert says so.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

from prefect import flow

from rxstaff import settings
from rxstaff.alert_channels import AlertSettings, configured
from rxstaff.flows import alerts
from rxstaff.flows.steps import run_logger
from rxstaff.staffing_report.options import from_environment as report_options
from rxstaff.staffing_report.render import ReportFiles, write_report
from rxstaff.warehouse.reading import existing_warehouse

PACK_DIR_ENV = "RXSTAFF_PACK_DIR"
PACK_EMAIL_ENV = "RXSTAFF_PACK_EMAIL_TO"


class PackNotDelivered(RuntimeError):
    """The pack was not written as a PDF, or no one could be sent it."""


def pack_name() -> str:
    return f"pack {date.today()}"


@flow(
    name="director-pack",
    log_prints=False,
    flow_run_name=pack_name,
    on_failure=[alerts.on_failure],
    on_crashed=[alerts.on_failure],
)
def director_pack(
    out: str | None = None, warehouse: str | None = None, email_to: str | None = None
) -> str:
    """Write the director's pack (HTML and PDF) into ``out`` and e-mail the PDF to
    ``email_to``; the PDF's path. Left empty, each comes from the worker's environment
    ($RXSTAFF_PACK_DIR, $RXSTAFF_WAREHOUSE_URL, $RXSTAFF_PACK_EMAIL_TO)."""
    folder = out or os.environ.get(PACK_DIR_ENV)
    if not folder:
        raise settings.ConfigurationError(f"set the pack's folder: out, or ${PACK_DIR_ENV}")
    target, options = settings.warehouse(warehouse), report_options()
    recipients = email_to or os.environ.get(PACK_EMAIL_ENV)
    channel = replace(configured(), email_to=recipients) if recipients else None
    with existing_warehouse(target) as conn:
        files = write_report(conn, Path(folder), target.description, options=options)
    if files.pdf is None:
        raise PackNotDelivered(files.pdf_problem or "the pack's PDF was not printed")
    if channel:
        send_pack(files, channel, options.pharmacy)
    run_logger().info(
        f"director's pack: {files.pdf}" + (f", sent to {recipients}" if recipients else "")
    )
    return str(files.pdf)


def send_pack(files: ReportFiles, channel: AlertSettings, pharmacy: str) -> None:
    """The PDF, with page 1's findings as the message, to every address of the channel's
    ``email_to``."""
    assert files.pdf is not None
    recipients = channel.email_to
    if not channel.smtp:
        raise PackNotDelivered("no SMTP server to send the pack: set $RXSTAFF_ALERT_SMTP")
    subject = f"{pharmacy}: staffing programme report, data to {files.as_of or '?'}"
    text = (
        f"{subject}\n\nWhat the pack finds (page 1):\n"
        + "".join(f"- {finding}\n" for finding in files.findings)
        + f"\nThe pack is attached ({files.pdf.name}); each figure is traced in its audit appendix."
    )
    if not alerts.email(subject, text, channel, (files.pdf,)):
        raise PackNotDelivered(f"the pack could not be sent to {recipients} (see the log)")
