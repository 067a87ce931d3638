"""A failed or stale run notifies someone: a webhook receiver and an SMTP sink on
127.0.0.1 (real sockets, real protocols) receive the alert a real run sends."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rxstaff import alert_channels
from rxstaff.cli import app
from rxstaff.flows import automations
from tests.helpers import run_nightly

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_a_stale_run_alerts_by_webhook_and_email(
    landing_small: Path, tmp_path: Path, receivers: tuple[list[dict], list[bytes]]
) -> None:
    posted, mails = receivers
    code, summary = run_nightly(
        landing_small, tmp_path / "w.duckdb", prefect=True, max_roster_age_days=10
    )
    assert code == 1 and summary.landing_problem  # stale on the run date 2030-01-01
    assert len(posted) == 1 and len(mails) == 1
    alert = posted[0]
    assert alert["run"] == "nightly 2030-01-01" and alert["state"] == "Failed"
    assert "stale" in alert["what"] or "roster snapshot" in alert["what"]
    assert "etl_run" in alert["where_to_look"] and alert["flow_run_id"] in alert["where_to_look"]
    mail = message_from_bytes(mails[0])
    assert mail["To"] == "pharmacy-data@example.org"
    assert "nightly 2030-01-01" in mail["Subject"]
    assert "roster snapshot" in mail.get_payload()


def test_a_good_run_sends_nothing(
    landing_small: Path, tmp_path: Path, receivers: tuple[list[dict], list[bytes]]
) -> None:
    assert run_nightly(landing_small, tmp_path / "w.duckdb", prefect=True)[0] == 0
    assert receivers == ([], [])


def test_setup_alerts_stores_them_in_prefect_and_tests_them(
    receivers: tuple[list[dict], list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    posted, mails = receivers
    webhook = alert_channels.from_environment().webhook
    smtp = alert_channels.from_environment().smtp
    for name in ("RXSTAFF_ALERT_WEBHOOK", "RXSTAFF_ALERT_EMAIL_TO", "RXSTAFF_ALERT_SMTP"):
        monkeypatch.delenv(name)
    from prefect.automations import Automation
    from prefect.variables import Variable

    try:
        result = CliRunner().invoke(
            app, ["setup-alerts", "--webhook", str(webhook), "--email-to", "ops@example.org",
                  "--smtp", str(smtp), "--test"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "webhook, email" in result.output and len(posted) == 1 and len(mails) == 1
        assert alert_channels.configured().email_to == "ops@example.org"  # read back from Prefect
        assert alert_channels.configured().by_server  # the flows' hooks leave it to the server
        for name in (automations.CRASH_SILENT, automations.ALERT):  # made, and made once
            assert Automation.read(name=name).enabled
        again = CliRunner().invoke(app, ["setup-alerts", "--webhook", str(webhook)])
        assert again.exit_code == 0, again.output
        alert = Automation.read(name=automations.ALERT)
        assert [a.type for a in alert.actions] == ["call-webhook"]  # replaced, not added
    finally:  # the session's other tests run with no stored alerts
        Variable.unset(alert_channels.VARIABLE)


def test_a_crashed_run_alerts_too(
    landing_small: Path,
    tmp_path: Path,
    receivers: tuple[list[dict], list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run whose process is brought down (an injected SystemExit, as a signal would)."""
    from rxstaff.flows import nightly as nightly_module

    def bring_down(*args: object, **kwargs: object) -> None:
        raise SystemExit("the worker's process was told to stop")

    monkeypatch.setattr(nightly_module, "load_publish_report", bring_down)
    with pytest.raises(BaseException):  # noqa: B017 - whatever Prefect re-raises of it
        run_nightly(landing_small, tmp_path / "w.duckdb", prefect=True)
    posted, mails = receivers
    assert len(posted) == 1 and posted[0]["state"] == "Crashed"
    assert len(mails) == 1
