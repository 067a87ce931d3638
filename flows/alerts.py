"""Someone hears of a failed, crashed or stale run: a webhook and an e-mail.

The flow's failure and crash hooks send one message naming the run, what failed and
where to look, to the channels of ``rxstaff.alert_channels`` (a webhook that takes a JSON
POST: Slack, Teams or any receiver; an e-mail list through an SMTP server). A stale or
empty landing folder and rejected files end the run failed, so they alert too. An alert
that cannot be sent is logged, never raised: the run's own outcome stands.
"""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from rxstaff.alert_channels import AlertSettings, configured, from_environment, stored_in_prefect

TIMEOUT = 10
log = logging.getLogger("rxstaff.alerts")


def message(flow_run: Any, state: Any) -> dict[str, str]:
    """What failed, in which run, and where to look."""
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    where = f"{ui}/runs/flow-run/{flow_run.id}" if ui else f"Prefect flow run {flow_run.id}"
    return {
        "subject": f"rxstaff run '{flow_run.name}' {state.name.lower()}",
        "run": flow_run.name,
        "flow_run_id": str(flow_run.id),
        "state": state.name,
        "what": state.message or "(no message)",
        "where_to_look": f"{where}; the warehouse's etl_run and etl_batch rows of this run",
    }


def send(alert: dict[str, Any], settings: AlertSettings) -> list[str]:
    """Send the alert everywhere configured; the channels it reached."""
    reached = []
    if settings.webhook:
        try:
            response = httpx.post(
                settings.webhook, json={"text": _text(alert), **alert}, timeout=TIMEOUT
            )
            response.raise_for_status()
            reached.append("webhook")
        except httpx.HTTPError as error:
            log.error(f"the alert webhook failed: {type(error).__name__}")
    if settings.email_to and settings.smtp and email(alert["subject"], _text(alert), settings):
        reached.append("email")
    return reached


def email(
    subject: str, text: str, settings: AlertSettings, attachments: tuple[Path, ...] = ()
) -> bool:
    """One e-mail to the alert list (PDFs attached); whether the SMTP server took it."""
    if not (settings.email_to and settings.smtp):
        return False
    try:
        deliver(subject, text, settings, attachments)
        return True
    except (OSError, smtplib.SMTPException) as error:
        log.error(f"the e-mail failed: {type(error).__name__}")
        return False


def deliver(
    subject: str, text: str, settings: AlertSettings, attachments: tuple[Path, ...] = ()
) -> None:
    """Send one e-mail through the settings' SMTP relay (host:port, no login); raises
    what the relay or the network raised."""
    assert settings.email_to and settings.smtp
    host, _, port = settings.smtp.partition(":")
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = subject, settings.email_from, settings.email_to
    mail.set_content(text)
    for path in attachments:
        mail.add_attachment(
            path.read_bytes(), maintype="application", subtype="pdf", filename=path.name
        )
    with smtplib.SMTP(host, int(port or 25), timeout=TIMEOUT) as smtp:
        smtp.send_message(mail)


def _text(alert: dict[str, Any]) -> str:
    return (
        f"{alert['subject']}\n\nWhat happened: {alert['what']}\n"
        f"Where to look: {alert['where_to_look']}\n\n{json.dumps(alert, indent=1)}"
    )


def on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect's failure and crash hook."""
    stored = stored_in_prefect()
    if stored.get("by_server"):  # the server's automation sends it (automations.py)
        return
    settings = configured(stored)
    if settings.any:
        send(message(flow_run, state), settings)


def alert_without_server(run_id: str, run_date: date, outcome: object) -> list[str]:
    """A run of the command line without a Prefect server has no flow hooks: it alerts
    the worker's channels ($RXSTAFF_ALERT_*) itself, once, when it failed or needs
    attention. The channels reached."""
    from rxstaff.warehouse.runs import RunSummary

    chosen = from_environment()
    if not chosen.any:
        return []
    if isinstance(outcome, RunSummary):
        state, what = ("Failed", outcome.failed or outcome.attention or "(no message)")
    else:
        state, what = "Failed", f"{type(outcome).__name__}: {outcome}"
    name = f"nightly {run_date}"
    alert = {
        "subject": f"rxstaff run '{name}' {state.lower()}",
        "run": name,
        "flow_run_id": "-",
        "state": state,
        "what": what,
        "where_to_look": f"the warehouse's etl_run and etl_batch rows of run {run_id}",
    }
    return send(alert, chosen)
