"""The budget watch: after a committed run, seats waiting for budget release past a
threshold reach the alert channels (a webhook receiver and an SMTP sink on 127.0.0.1),
once per seat and threshold crossed, and are recorded in etl_budget_alert."""

from __future__ import annotations

import os
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

import pytest

from rxstaff.warehouse.runs import RunSummary
from tests.helpers import hold_back_rosters, query, run_nightly


@dataclass
class Watch:
    """A private landing folder, its warehouse, and what reached the receivers."""

    landing: Path
    db: Path
    posted: list[dict]
    mails: list[bytes]

    def night(self) -> tuple[int, RunSummary | BaseException]:
        return run_nightly(self.landing, self.db)


@pytest.fixture
def watch(landing_small: Path, receivers: tuple[list[dict], list[bytes]]) -> Watch:
    posted, mails = receivers
    return Watch(landing_small, landing_small.parent / "w.duckdb", posted, mails)


def waiting_seats(db: Path) -> dict[str, int]:
    """Each seat awaiting budget on as_of_date and its days waiting, from the warehouse."""
    seats = query(db, """
        SELECT v.vacancy_id, CAST(b.as_of_date - v.budget_requested_on AS INTEGER) AS days
        FROM fct_vacancy AS v
        CROSS JOIN (SELECT MAX(as_of_date) AS as_of_date FROM mart_vacancy_backlog) AS b
        WHERE v.state = 'awaiting_budget'""")  # fmt: skip
    return dict(zip(seats.vacancy_id, seats.days.astype(int), strict=True))


def test_each_seat_is_sent_once_per_threshold_it_crosses(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted, mails, db = watch.posted, watch.mails, watch.db
    monkeypatch.setenv("RXSTAFF_BUDGET_WATCH_DAYS", "30,120")
    _, restore = hold_back_rosters(watch.landing, 20)  # the warehouse as of months ago

    assert watch.night()[0] == 0
    early = waiting_seats(db)
    assert early and all(days < 120 for days in early.values())  # the scenario holds
    past_30 = {seat for seat, days in early.items() if days >= 30}
    assert past_30
    assert len(posted) == 1 and len(mails) == 1
    sent = {s["vacancy_id"]: s for s in posted[0]["seats"]}
    assert set(sent) == past_30
    for seat, figures in sent.items():
        assert figures["days_waiting"] == early[seat] and figures["threshold_days"] == 30
        assert figures["role"] and figures["pharmacy_model"]  # a title, not a code alone
    mail = message_from_bytes(mails[0])
    assert "budget watch" in mail["Subject"] and all(s in mail.get_payload() for s in past_30)

    assert watch.night()[0] == 0  # nothing new: nothing sent again
    assert len(posted) == 1 and len(mails) == 1

    restore()  # the later snapshots arrive: the same seats now wait longer
    assert watch.night()[0] == 0
    late = waiting_seats(db)
    crossed = {(seat, t) for seat, days in late.items() for t in (30, 120) if days >= t}
    fresh = crossed - {(seat, 30) for seat in past_30}
    assert any(t == 120 for _, t in fresh) and len(posted) == 2
    assert {(s["vacancy_id"], s["threshold_days"]) for s in posted[1]["seats"]} == {
        (seat, max(t for v, t in fresh if v == seat)) for seat, _ in fresh
    }

    assert watch.night()[0] == 0
    assert len(posted) == 2  # no repeat
    recorded = query(db, "SELECT vacancy_id, threshold_days, sent_to FROM etl_budget_alert")
    assert set(zip(recorded.vacancy_id, recorded.threshold_days, strict=True)) == crossed | {
        (seat, 30) for seat in past_30
    }
    assert set(recorded.sent_to) == {"webhook,email"}


def test_an_unsent_watch_is_tried_again(watch: Watch, monkeypatch: pytest.MonkeyPatch) -> None:
    posted, db = watch.posted, watch.db
    receiver_url = os.environ["RXSTAFF_ALERT_WEBHOOK"]
    monkeypatch.setenv("RXSTAFF_BUDGET_WATCH_DAYS", "30")
    monkeypatch.delenv("RXSTAFF_ALERT_EMAIL_TO")
    monkeypatch.setenv("RXSTAFF_ALERT_WEBHOOK", "http://127.0.0.1:9/refused")
    code, summary = watch.night()
    assert code == 0 and summary.budget_watch == 0  # the run stands
    assert query(db, "SELECT COUNT(*) AS n FROM etl_budget_alert").n.iloc[0] == 0
    monkeypatch.setenv("RXSTAFF_ALERT_WEBHOOK", receiver_url)  # the receiver is back
    code, summary = watch.night()
    assert code == 0 and summary.budget_watch > 0
    assert len(posted) == 1 and posted[0]["kind"] == "budget_watch"
