"""The benchmark's quick variant: every figure is produced and consistent with what it ran.

Marked slow (about 90 s): `make test-slow` runs it, and CI runs that too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from rxstaff.bench import run_benchmark


@pytest.mark.slow
def test_quick_benchmark_figures_follow_from_what_it_ran(tmp_path: Path) -> None:
    postgres = os.environ.get("RXSTAFF_TEST_POSTGRES_URL")
    figures = run_benchmark(
        employees=150,
        years=1,
        repeat=1,
        postgres_url=postgres,
        out=tmp_path,
        console=Console(quiet=True),
        million=False,  # the 1M-row pharmacy is the full benchmark's
    )
    written = json.loads((tmp_path / "bench.json").read_text())
    measures = [
        "generate", "floor", "rebuild_duckdb", "increment_5y", "increment_1y", "startup_help",
        "startup_import_flow", "nothing_new", "nothing_new_standalone", "rebuild_dask_1",
        "rebuild_dask_2",
    ]  # fmt: skip
    if postgres:
        measures.append("rebuild_postgres")
    for name in measures:
        assert written[name]["seconds"] > 0 and written[name]["peak_rss_mib"] > 0, name

    def ratio(a: str, b: str) -> float | None:
        if a not in written or b not in written:
            return None
        return round(written[a]["seconds"] / written[b]["seconds"], 2)

    ratios = written["ratios"]
    assert ratios["rebuild_vs_floor"] == ratio("rebuild_duckdb", "floor")
    assert ratios["increment_5y_vs_1y"] == ratio("increment_5y", "increment_1y")
    assert ratios["postgres_vs_duckdb"] == ratio("rebuild_postgres", "rebuild_duckdb")
    assert ratios["gx_alone_vs_default"] == ratio("rebuild_duckdb_gx", "rebuild_duckdb")
    assert ratios["dask_2_vs_1_workers"] == ratio("rebuild_dask_2", "rebuild_dask_1")
    assert ratios["increment_5y_vs_nothing_new"] == ratio("increment_5y", "nothing_new")
    assert ratios["increment_5y_over_nothing_new_seconds"] == pytest.approx(
        written["increment_5y"]["seconds"] - written["nothing_new"]["seconds"], abs=0.01
    )
    assert ratios["rebuild_1m_vs_floor"] is None  # not measured in the quick variant
    # Without PREFECT_API_URL a run is standalone: both modes measured, and compared.
    assert ratios["standalone_over_server_seconds"] == pytest.approx(
        written["nothing_new_standalone"]["seconds"] - written["nothing_new"]["seconds"], abs=0.01
    )
    assert figures["rebuild_duckdb_gx"].seconds > 0  # GX's own cost, measured
    peak = max(written[k]["peak_rss_mib"] for k in ("rebuild_duckdb", "rebuild_dask_2"))
    assert ratios["rebuild_peak_rss_gib"] == pytest.approx(peak / 1024, abs=0.01)
    # The floor read every generated roster row; the rebuild read all but the last night's
    # and staged or quarantined each one it read.
    with duckdb.connect(str(tmp_path / "floor.duckdb"), read_only=True) as floor:
        assert floor.execute("SELECT COUNT(*) FROM roster").fetchone()[0] == figures["roster_rows"]
    with duckdb.connect(str(tmp_path / "rebuild.duckdb"), read_only=True) as rebuilt:
        read, loaded, quarantined, staged = rebuilt.execute(
            "SELECT SUM(rows_read), SUM(rows_loaded), SUM(rows_quarantined), "
            "(SELECT COUNT(*) FROM stg_roster) FROM etl_batch WHERE source = 'roster'"
        ).fetchone()
    assert 0 < read < figures["roster_rows"]
    assert loaded + quarantined == read and staged == loaded
