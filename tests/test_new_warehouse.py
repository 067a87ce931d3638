"""A run that creates the warehouse says so; a schedule can forbid it (issue 33: a
mistyped DuckDB path quietly started a new warehouse while BI kept reading the old one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import read, run_nightly

RXSTAFF = str(Path(sys.executable).with_name("rxstaff"))


def nightly(landing: Path, url: str, create: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["RXSTAFF_CREATE_WAREHOUSE"] = create
    command = [RXSTAFF, "nightly", "--landing", str(landing), "--warehouse", url,
               "--run-date", "2030-01-01", "--max-roster-age", "36500"]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_a_mistyped_duckdb_path_is_refused_before_anything_is_made(
    landing_small: Path, tmp_path: Path
) -> None:
    db = tmp_path / "srv" / "warehouse.duckdb"
    first = nightly(landing_small, f"duckdb:///{db}", "allow")
    assert first.returncode == 0, first.stderr
    assert f"new warehouse at DuckDB file {db}" in first.stdout + first.stderr
    again = nightly(landing_small, f"duckdb:///{db}", "never")  # it exists: loads as usual
    assert again.returncode == 0 and "new warehouse" not in again.stdout + again.stderr

    typo = tmp_path / "svr" / "warehouse.duckdb"
    refused = nightly(landing_small, f"duckdb:///{typo}", "never")
    assert refused.returncode == 2
    assert f"there is no warehouse at {typo}" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) <= 3  # one message, no trace
    assert not typo.parent.exists()  # no folder, no lock file, no warehouse


def test_a_database_without_the_warehouse_is_refused_with_nothing_created(
    landing_small: Path, pg_url: str
) -> None:
    tables = (
        "SELECT COUNT(*) AS n FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    refused = nightly(landing_small, pg_url, "never")
    assert refused.returncode == 2
    assert "holds no rxstaff warehouse" in refused.stderr
    assert read(pg_url, tables).n[0] == 0
    code, summary = run_nightly(landing_small, pg_url)  # allowed: created, and said so
    assert code == 0 and summary.new_warehouse
    assert nightly(landing_small, pg_url, "never").returncode == 0


def test_an_unknown_choice_is_a_setting_error(landing_small: Path, tmp_path: Path) -> None:
    done = nightly(landing_small, f"duckdb:///{tmp_path / 'w.duckdb'}", "sometimes")
    assert done.returncode == 2 and "must be allow or never" in done.stderr
    assert not (tmp_path / "w.duckdb").exists()
