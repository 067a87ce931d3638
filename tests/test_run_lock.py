"""One run at a time per warehouse, with real processes: a second process holds the
warehouse's run lock (as a run does), and the run under test waits, gives up naming the
holder, or goes ahead once the holder has let go, however it ended."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import run_nightly

HOLDER = """
import sys, time
from rxstaff.warehouse.connection import Warehouse
from rxstaff.warehouse.run_lock import run_lock
with run_lock(Warehouse.at(sys.argv[1]), "holder-run", 0):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(url: str, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the warehouse for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_gives_up_naming_the_holder(
    landing_small: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RXSTAFF_RUN_LOCK_WAIT", "1")
    holder = hold(url, 60)
    try:
        code, summary = run_nightly(landing_small, url)
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert "holder-run" in summary.busy and socket.gethostname() in summary.busy
    assert summary.status == "busy" and not summary.sources  # nothing was read or loaded
    # The holder crashed (killed): its lock went with it, and the next run goes ahead.
    assert run_nightly(landing_small, url)[0] == 0


def test_a_second_run_waits_for_the_first_to_finish(
    landing_small: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RXSTAFF_RUN_LOCK_WAIT", "60")
    holder = hold(url, 3)
    started = time.monotonic()
    code, summary = run_nightly(landing_small, url)
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert code == 0 and summary.loaded_any
    assert waited >= 2  # it waited for the holder rather than racing it
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM etl_run")).scalar() == 1
    engine.dispose()
