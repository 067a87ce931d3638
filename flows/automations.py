"""Alerts through Prefect's own automations, where a Prefect server runs.

`rxstaff setup-alerts` creates two automations on the server, for flow runs tagged
``rxstaff`` (every rxstaff deployment is):

- **rxstaff: crash silent runs**: a flow run that stops sending heartbeats (its worker
  or machine killed outright, so no hook of its own can run) is marked Crashed, as
  Prefect's guide to zombie flow runs does;
- **rxstaff: alert failed or crashed runs**: a Failed or Crashed run calls the webhook
  and sends the e-mail, with the run, its state, its message and where to look.

The server acts, so the alert goes out whatever became of the worker. The flow's own
hook (alerts.on_failure) then stays silent, and a command-line run without a server
alerts by itself (alerts.alert_without_server).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from uuid import UUID

from prefect.automations import Automation
from prefect.blocks.webhook import Webhook
from prefect.client.schemas.objects import StateType
from prefect.events.actions import Action, CallWebhook, ChangeFlowRunState, SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

from rxstaff.alert_channels import AlertSettings
from rxstaff.flows.email_block import RxstaffSmtpEmail

TAG = "rxstaff"  # every rxstaff deployment's tag (prefect.yaml)
CRASH_SILENT = "rxstaff: crash silent runs"
ALERT = "rxstaff: alert failed or crashed runs"
WEBHOOK_BLOCK = "rxstaff-alerts-webhook"
EMAIL_BLOCK = "rxstaff-alerts-email"
ENDED = {"prefect.flow-run.Completed", "prefect.flow-run.Failed",
         "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"}  # fmt: skip

# What the webhook receives: the keys of rxstaff's own alerts (alerts.message), filled
# by the server from the flow run the event is about.
SUBJECT_EXPR = '("rxstaff run \'" ~ flow_run.name ~ "\' " ~ (flow_run.state.name | lower))'
SUBJECT = f"{{{{ {SUBJECT_EXPR} }}}}"
WHAT = "(flow_run.state.message or '(no message)')"
WHERE = "{{ flow_run | ui_url }}; the warehouse's etl_run and etl_batch rows of this run"
PAYLOAD = (
    "{"
    f'"subject": {{{{ {SUBJECT_EXPR} | tojson }}}}, '
    f'"text": {{{{ ({SUBJECT_EXPR} ~ ": " ~ {WHAT}) | tojson }}}}, '
    '"run": {{ flow_run.name | tojson }}, '
    '"flow_run_id": "{{ flow_run.id }}", '
    '"state": {{ flow_run.state.name | tojson }}, '
    f'"what": {{{{ {WHAT} | tojson }}}}, '
    f'"where_to_look": "{WHERE}", '
    '"source": "prefect automation"'
    "}"
)
BODY = f"""{{{{ {WHAT} }}}}

Run: {{{{ flow_run.name }}}} ({{{{ flow_run.state.name }}}})
Where to look: {WHERE}"""


def ensure_automations(settings: AlertSettings, silent_after: timedelta) -> list[str]:
    """Create (or replace) rxstaff's two automations and the blocks their actions use;
    their names."""
    actions: list[Action] = []
    if settings.webhook:
        actions.append(CallWebhook(block_document_id=_webhook_block(settings.webhook),
                                   payload=PAYLOAD))  # fmt: skip
    if settings.email_to and settings.smtp:
        actions.append(SendNotification(block_document_id=_email_block(settings),
                                        subject=SUBJECT, body=BODY))  # fmt: skip
    ours = ResourceSpecification({"prefect.resource.role": "tag",
                                  "prefect.resource.id": f"prefect.tag.{TAG}"})  # fmt: skip
    runs = ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]})
    crash = Automation(
        name=CRASH_SILENT,
        description="A flow run of rxstaff that stops sending heartbeats is marked Crashed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *ENDED},
            match=runs, match_related=ours, for_each={"prefect.resource.id"},
            posture=Posture.Proactive, threshold=1, within=silent_after,
        ),
        actions=[ChangeFlowRunState(
            state=StateType.CRASHED,
            message=f"no heartbeat for {int(silent_after.total_seconds())} s: the worker or "
            "its machine stopped (the run's changes were rolled back or never committed)",
        )],
    )  # fmt: skip
    alert = Automation(
        name=ALERT,
        description="A Failed or Crashed flow run of rxstaff calls the webhook and e-mails.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
            match=runs, match_related=ours, posture=Posture.Reactive, threshold=1,
        ),
        actions=actions,
    )  # fmt: skip
    for automation in (crash, alert):
        _replace(automation)
    return [CRASH_SILENT, ALERT]


def _replace(automation: Automation) -> None:
    """One automation of that name: an earlier one (an older setting) is removed."""
    with contextlib.suppress(ValueError):  # none of that name yet
        Automation.read(name=automation.name).delete()
    automation.create()


def _webhook_block(url: str) -> UUID:
    block = Webhook(method="POST", url=url)
    return block.save(WEBHOOK_BLOCK, overwrite=True)


def _email_block(settings: AlertSettings) -> UUID:
    assert settings.email_to and settings.smtp
    block = RxstaffSmtpEmail(smtp=settings.smtp, email_to=settings.email_to,
                             email_from=settings.email_from)  # fmt: skip
    return block.save(EMAIL_BLOCK, overwrite=True)
