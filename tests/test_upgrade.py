"""A warehouse built by rxstaff 0.6.8 upgrades in place to this version's contract.

0.6.8's own code, taken from this repository's history, loads a small pharmacy into a
DuckDB file and a PostgreSQL database; this version then runs on the same warehouse with
nothing new. Every BI relation and the audit trail's anomalies equal those of a warehouse
rebuilt from the same files by this version, and the relations contract version 3 adds
are there and filled.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from rxstaff.warehouse.schemas import home
from tests.helpers import CONTRACT, comparable, read, run_nightly

ROOT = Path(__file__).resolve().parents[1]
RELEASE_0_6_8 = "97aae7f"  # "connection.py: state the work_mem range that was measured"
LAYOUT = {"app": "rxstaff", "flows": "rxstaff/flows", "transforms": "rxstaff/transforms",
          "expectations": "rxstaff/expectations", "warehouse": "rxstaff/warehouse"}  # fmt: skip
NEW_IN_V3 = ("mart_new_hire_retention", "mart_promotion_timing", "mart_retention_by_promotion",
             "mart_pathway_outcomes")  # fmt: skip


@pytest.fixture(scope="module")
def release_0_6_8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rxstaff 0.6.8's package, laid out as pip installs it, from the git history."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", RELEASE_0_6_8, *LAYOUT],
        capture_output=True, check=False,
    )  # fmt: skip
    assert archive.returncode == 0, (
        f"this test needs the repository's history (commit {RELEASE_0_6_8}, rxstaff 0.6.8): "
        f"{archive.stderr.decode()}"
    )
    source = tmp_path_factory.mktemp("src-0.6.8")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(source, filter="data")
    package = tmp_path_factory.mktemp("pkg-0.6.8")
    for folder, target in LAYOUT.items():
        shutil.copytree(source / folder, package / target, dirs_exist_ok=True)
    return package


def load_with_0_6_8(package: Path, landing: Path, url: str) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "PYTHONPATH": str(package),
        "RXSTAFF_WAREHOUSE_URL": url,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),  # the session's test server
    }
    done = subprocess.run(
        [sys.executable, "-c", "from rxstaff.cli import main; main()", "nightly",
         "--landing", str(landing), "--run-date", "2030-01-01", "--max-roster-age", "36500"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    version = subprocess.run(
        [sys.executable, "-c", "import rxstaff.cli, sys; print(rxstaff.cli.__file__)"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert version.stdout.startswith(str(package)), "0.6.8's code must be the one that ran"


def relation(url: str, name: str) -> object:
    frame = read(url, f"SELECT * FROM {name}")
    return comparable(frame[[c for c in CONTRACT[name] if c in frame.columns]])


@pytest.mark.usefixtures("prefect_server")
def test_a_warehouse_built_by_0_6_8_upgrades_in_place(
    release_0_6_8: Path, landing_small: Path, url: str, tmp_path: Path
) -> None:
    load_with_0_6_8(release_0_6_8, landing_small, url)
    assert read(url, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE "
                     "table_name = 'mart_pathway_outcomes'").n[0] == 0  # fmt: skip
    code, summary = run_nightly(landing_small, url)  # this version, nothing new
    assert code == 0 and summary.status == "nothing new", summary
    if url.startswith("postgresql"):  # moved in place into schemas by audience
        placed = read(
            url,
            "SELECT table_schema AS s, table_name AS t FROM information_schema."
            "tables WHERE table_schema IN ('public', 'bi', 'audit', 'internal')",
        )
        assert not [t for s, t in zip(placed.s, placed.t, strict=True) if s != home(t)], placed
        assert set(placed.s) == {"bi", "audit", "internal"}

    rebuilt = f"duckdb:///{tmp_path / 'rebuilt.duckdb'}"
    assert run_nightly(landing_small, rebuilt)[0] == 0
    for name in CONTRACT:
        if name.startswith(("dim_", "fct_", "mart_")):
            assert relation(url, name).equals(relation(rebuilt, name)), name
    # the new marts are there, figures in them (nine months hold no full year's cohort)
    assert sum(len(read(url, f"SELECT * FROM {name}")) for name in NEW_IN_V3) > 0
    anomalies = "SELECT kind, employee_key, observed_on, detail FROM etl_anomaly"
    assert comparable(read(url, anomalies)).equals(comparable(read(rebuilt, anomalies)))
