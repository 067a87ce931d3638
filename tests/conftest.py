"""Test harness: a private Prefect home and server for the session, generated landing folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.receivers import receivers  # noqa: F401  (a fixture: where alerts land)

# Before anything imports Prefect: its home and database must not touch the user's.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="rxstaff-prefect-home-")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
os.environ["RXSTAFF_ID_SECRET"] = "rxstaff-test-secret"
os.environ.pop("RXSTAFF_WAREHOUSE_URL", None)
os.environ.pop("PREFECT_API_URL", None)  # never a real server of the user's
# The test server's background services (scheduling, late runs, automations, event
# recording, telemetry) compete with the tests for the CPU; no test needs them. Task runs
# are recorded: a test reads them back (test_run_report.py).
os.environ.update(
    {
        f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false"
        for service in (
            "CANCELLATION_CLEANUP", "EVENT_PERSISTER", "FOREMAN", "LATE_RUNS", "SCHEDULER",
            "PAUSE_EXPIRATIONS", "REPOSSESSOR", "CLEANUP_RECONCILER", "TRIGGERS",
        )
    }
)  # fmt: skip
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["RXSTAFF_GX_HOME"] = tempfile.mkdtemp(prefix="rxstaff-gx-")  # PostgreSQL runs' GX
# Storing results and building Data Docs costs each run seconds: the tests of that turn it
# on (test_validation_docs.py); the end-to-end deployment runs with the default (on).
os.environ["RXSTAFF_VALIDATION_DOCS"] = "off"
os.environ["RXSTAFF_SETTLE_SECONDS"] = "0"  # fixtures write files and load them at once
os.environ["RXSTAFF_CONNECT_RETRY_PAUSE"] = "0.1"  # the retries still happen, faster

from tests.helpers import generated, run_nightly

THREE_YEAR_FIXTURES = {"landing_3y", "warehouse_3y", "pg_warehouse_3y", "url_3y"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (--dist loadgroup), the tests of the three-year pharmacy share a worker,
    so its landing folder and warehouses are built once, not once per worker."""
    for item in items:
        if THREE_YEAR_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("three_years"))


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test harness (temporary database and API server) for the whole session.

    Requested by the modules that run flows (``pytestmark``) and the fixtures that do;
    model, source and unit tests run without Prefect.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def landing_3y(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three years of weekly snapshots of a small pharmacy, messy files, some bad rows."""
    return generated(tmp_path_factory, "landing_3y", 80, "2022-01-03", "2024-12-30", seed=11,
                     bad_rows=0.003)  # fmt: skip


@pytest.fixture(scope="session")
def warehouse_3y(landing_3y: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three-year landing folder loaded once; read-only for the tests that use it."""
    db = tmp_path_factory.mktemp("wh3y") / "warehouse.duckdb"
    code, _ = run_nightly(landing_3y, db)
    assert code == 0
    return db


@pytest.fixture(scope="session")
def landing_small_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory, "landing_small", 40, "2023-01-02", "2023-09-29", seed=5)


@pytest.fixture
def landing_small(landing_small_master: Path, tmp_path: Path) -> Path:
    """A private copy of a nine-month landing folder, free to change."""
    copy = tmp_path / "landing"
    shutil.copytree(landing_small_master, copy)
    return copy


POSTGRES_ENV = "RXSTAFF_TEST_POSTGRES_URL"


def _fresh_postgres_database() -> tuple[str, callable]:
    """A new, empty database on the test server; its URL and how to drop it."""
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"{POSTGRES_ENV} is not set: PostgreSQL tests need a server "
            "(see DEVELOPERS.md; .ci/run always sets it)"
        )
    name = f"rxstaff_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test."""
    url, drop = _fresh_postgres_database()
    yield url
    drop()


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new warehouse of each engine in turn: a DuckDB file, a PostgreSQL database."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'w.duckdb'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def pg_warehouse_3y(landing_3y: Path):
    """The three-year landing folder loaded into its own PostgreSQL database."""
    url, drop = _fresh_postgres_database()
    code, summary = run_nightly(landing_3y, url)
    assert code == 0, summary
    yield url
    drop()


@pytest.fixture(params=["duckdb", "postgresql"])
def url_3y(request: pytest.FixtureRequest) -> str:
    """The three-year warehouse on each engine in turn."""
    if request.param == "duckdb":
        return f"duckdb:///{request.getfixturevalue('warehouse_3y')}"
    return request.getfixturevalue("pg_warehouse_3y")
