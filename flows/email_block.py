"""An e-mail notification block for Prefect automations: the server sends it through a
plain SMTP relay (host:port, no login), as rxstaff's own alerts do.

Prefect has no such block of its own (its e-mail block is SendGrid's). The server finds
this class through the ``prefect.collections`` entry point of rxstaff's pyproject.toml, as
it finds prefect-aws's, so rxstaff must be installed beside the Prefect server for the
automation's e-mail action; its webhook action needs nothing of rxstaff's.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from prefect.blocks.abstract import NotificationBlock

TIMEOUT = 10


class RxstaffSmtpEmail(NotificationBlock):
    """E-mail through an SMTP relay (no login), for rxstaff's alert automation."""

    _block_type_name = "rxstaff SMTP e-mail"
    _block_type_slug = "rxstaff-smtp-email"

    smtp: str  # host:port
    email_to: str  # addresses separated by commas
    email_from: str = "rxstaff@localhost"

    async def notify(self, body: str, subject: str | None = None) -> None:
        await asyncio.to_thread(self._send, body, subject or "rxstaff")

    def _send(self, body: str, subject: str) -> None:
        host, _, port = self.smtp.partition(":")
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = subject, self.email_from, self.email_to
        mail.set_content(body)
        with smtplib.SMTP(host, int(port or 25), timeout=TIMEOUT) as relay:
            relay.send_message(mail)
