"""An e-mail notification block for Prefect automations: the server sends it through a
plain SMTP relay (host:port, no login), through rxstaff's own alerts' sending
(``alerts.deliver``), which raises here so that the server records a failed send.

Prefect has no such block of its own (its e-mail block is SendGrid's). The server finds
this class through the ``prefect.collections`` entry point of rxstaff's pyproject.toml, as
it finds prefect-aws's, so rxstaff must be installed beside the Prefect server for the
automation's e-mail action; its webhook action needs nothing of rxstaff's.
"""

from __future__ import annotations

import asyncio

from prefect.blocks.abstract import NotificationBlock

from rxstaff.alert_channels import AlertSettings
from rxstaff.flows.alerts import deliver


class RxstaffSmtpEmail(NotificationBlock):
    """E-mail through an SMTP relay (no login), for rxstaff's alert automation."""

    _block_type_name = "rxstaff SMTP e-mail"
    _block_type_slug = "rxstaff-smtp-email"

    smtp: str  # host:port
    email_to: str  # addresses separated by commas
    email_from: str = "rxstaff@localhost"

    async def notify(self, body: str, subject: str | None = None) -> None:
        channel = AlertSettings(email_to=self.email_to, email_from=self.email_from,
                                smtp=self.smtp)  # fmt: skip
        await asyncio.to_thread(deliver, subject or "rxstaff", body, channel)
