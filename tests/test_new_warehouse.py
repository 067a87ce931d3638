"""A run that creates the warehouse says so; a schedule can forbid it (issue 33: a
mistyped DuckDB path quietly started a new warehouse while BI kept reading the old one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import read, run_nightly
from tests.processes import nightly, standalone


def create(landing: Path, url: str, choice: str) -> subprocess.CompletedProcess[str]:
    """The run as a scheduler starts it, with RXSTAFF_CREATE_WAREHOUSE set to ``choice``."""
    env = standalone(RXSTAFF_CREATE_WAREHOUSE=choice)
    return subprocess.run(nightly(landing, url), env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_a_mistyped_duckdb_path_is_refused_before_anything_is_made(
    landing_small: Path, tmp_path: Path
) -> None:
    db = tmp_path / "srv" / "warehouse.duckdb"
    first = create(landing_small, f"duckdb:///{db}", "allow")
    assert first.returncode == 0, first.stderr
    assert f"new warehouse at DuckDB file {db}" in first.stdout + first.stderr
    again = create(landing_small, f"duckdb:///{db}", "never")  # it exists: loads as usual
    assert again.returncode == 0 and "new warehouse" not in again.stdout + again.stderr

    typo = tmp_path / "svr" / "warehouse.duckdb"
    refused = create(landing_small, f"duckdb:///{typo}", "never")
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
    refused = create(landing_small, pg_url, "never")
    assert refused.returncode == 2
    assert "holds no rxstaff warehouse" in refused.stderr
    assert read(pg_url, tables).n[0] == 0
    code, summary = run_nightly(landing_small, pg_url)  # allowed: created, and said so
    assert code == 0 and summary.new_warehouse
    assert create(landing_small, pg_url, "never").returncode == 0


def test_an_unknown_choice_is_a_setting_error(landing_small: Path, tmp_path: Path) -> None:
    done = create(landing_small, f"duckdb:///{tmp_path / 'w.duckdb'}", "sometimes")
    assert done.returncode == 2 and "must be allow or never" in done.stderr
    assert not (tmp_path / "w.duckdb").exists()
