"""The benchmark's quick variant runs and produces every figure (their values are not checked)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from rxstaff.bench import run_benchmark


@pytest.mark.slow
def test_quick_benchmark_produces_every_figure(tmp_path: Path) -> None:
    postgres = os.environ.get("RXSTAFF_TEST_POSTGRES_URL")
    figures = run_benchmark(
        employees=150,
        years=1,
        repeat=1,
        postgres_url=postgres,
        out=tmp_path,
        console=Console(quiet=True),
    )
    written = json.loads((tmp_path / "bench.json").read_text())
    measures = ["generate", "floor", "rebuild_duckdb", "increment_5y", "increment_1y"]
    if postgres:
        measures.append("rebuild_postgres")
    for name in measures:
        assert written[name]["seconds"] > 0 and written[name]["peak_rss_mib"] > 0, name
    assert set(written["ratios"]) == {
        "rebuild_vs_floor",
        "increment_5y_vs_1y",
        "postgres_vs_duckdb",
        "rebuild_peak_rss_gib",
        "generate_vs_rebuild",
    }
    assert figures["roster_rows"] > 1000 and written["machine"]["cpus"]
