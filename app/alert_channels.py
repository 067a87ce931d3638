"""Where alerts go: a webhook, an e-mail list through an SMTP server.

The worker's environment wins (``RXSTAFF_ALERT_WEBHOOK``, ``RXSTAFF_ALERT_EMAIL_TO``,
``RXSTAFF_ALERT_SMTP`` as host:port, ``RXSTAFF_ALERT_EMAIL_FROM``); else what
``rxstaff setup-alerts`` stored in Prefect as a Variable, so that every worker of the
server knows it. A run resolves its channels once, with its other settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

VARIABLE = "rxstaff_alerts"


@dataclass(frozen=True)
class AlertSettings:
    webhook: str | None = None
    email_to: str | None = None
    email_from: str = "rxstaff@localhost"
    smtp: str | None = None  # host:port
    by_server: bool = False  # the server's automations send the Failed and Crashed alerts

    @property
    def any(self) -> bool:
        return bool(self.webhook or (self.email_to and self.smtp))


def from_environment(env: Mapping[str, str] = os.environ) -> AlertSettings:
    return AlertSettings(
        webhook=env.get("RXSTAFF_ALERT_WEBHOOK") or None,
        email_to=env.get("RXSTAFF_ALERT_EMAIL_TO") or None,
        email_from=env.get("RXSTAFF_ALERT_EMAIL_FROM") or "rxstaff@localhost",
        smtp=env.get("RXSTAFF_ALERT_SMTP") or None,
    )


def configured(
    stored: dict[str, Any] | None = None, env: Mapping[str, str] = os.environ
) -> AlertSettings:
    """The worker's environment wins; else what `rxstaff setup-alerts` stored in Prefect
    (``stored``, where the caller has read it already)."""
    found = from_environment(env)
    if found.any:
        return found
    stored = stored_in_prefect() if stored is None else stored
    return AlertSettings(**stored) if stored else found


def stored_in_prefect() -> dict[str, Any]:
    """What `rxstaff setup-alerts` stored in Prefect; empty without a server (asking
    would start a temporary one: a command-line run starts no server)."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return {}
    try:
        from prefect.variables import Variable

        stored = Variable.get(VARIABLE, default=None)
    except Exception:  # no Prefect API to ask: no stored settings
        return {}
    return stored if isinstance(stored, dict) else {}


def store(settings: AlertSettings) -> None:
    """Keep the alert settings in Prefect, for every worker of the server."""
    from prefect.variables import Variable

    Variable.set(VARIABLE, asdict(settings), overwrite=True)
