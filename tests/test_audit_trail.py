"""Corrections keep history; every published figure can be read back; lineage to the file.

Three nights, the second with a corrected budget file, on a real DuckDB file and a real
PostgreSQL: an auditor reads each night's marts back exactly as they stood, lists what
the correction changed, finds the replaced rows, and traces a vacancy to its files.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rxstaff.cli import app
from rxstaff.warehouse.published import as_published, grain, marts
from tests.helpers import canonical, live_marts, read, run_nightly


def released_file(landing: Path) -> tuple[Path, str]:
    """A budget file with a released row, and that row's release_id."""
    for path in sorted((landing / "budget").glob("*.csv")):
        rows = read_rows(path)
        header = [c.strip().lower() for c in rows[0]]
        for row in rows[1:]:
            if row[header.index("status")].strip() == "released":
                return path, row[header.index("release_id")].strip()
    raise AssertionError("the generated landing folder has no released budget row")


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def delay_release(path: Path, release_id: str, days: int) -> None:
    """The corrected file: the release came ``days`` later than first sent."""
    rows = read_rows(path)
    header = [c.strip().lower() for c in rows[0]]
    for row in rows[1:]:
        if row[header.index("release_id")].strip() == release_id:
            at = header.index("released_date")
            row[at] = (date.fromisoformat(row[at].strip()) + timedelta(days=days)).isoformat()
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def run_ids(url: str) -> list[str]:
    return read(url, "SELECT run_id FROM etl_run ORDER BY started_at").run_id.tolist()


def test_three_nights_with_a_correction_read_back_exactly(landing_small: Path, url: str) -> None:
    published: list[dict[str, pd.DataFrame]] = []
    target, release_id = released_file(landing_small)
    assert run_nightly(landing_small, url)[0] == 0
    published.append(live_marts(url))
    delay_release(target, release_id, 30)
    assert run_nightly(landing_small, url)[0] == 0
    published.append(live_marts(url))
    delay_release(target, release_id, 30)  # corrected again, 60 days after the first
    assert run_nightly(landing_small, url)[0] == 0
    published.append(live_marts(url))
    runs = run_ids(url)
    assert len(runs) == 3

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        # Each night read back exactly as BI saw it that night.
        for run, seen in zip(runs, published, strict=True):
            for decl in marts():
                shown_run, frame = as_published(conn, decl.name, run)
                assert shown_run == run
                pd.testing.assert_frame_equal(
                    canonical(frame, grain(decl)), seen[decl.name], obj=f"{decl.name}@{run}"
                )
        # What each correction changed: exactly the figures that differ, with the batches.
        batches = pd.read_sql(
            sa.text("SELECT batch_id, run_id, superseded_by FROM etl_batch WHERE file_name = :f"),
            conn,
            params={"f": f"budget/{target.name}"},
        ).sort_values("batch_id")
        assert len(batches) == 3
        changes = pd.read_sql(sa.text("SELECT * FROM etl_metric_change"), conn)
        for night in (1, 2):
            run = runs[night]
            mine = changes[changes.run_id == run]
            expected = differing_figures(published[night - 1], published[night])
            assert expected, "the correction should move a published figure"
            found = {(r.relation, r.row_key, r.column) for r in mine.itertuples()}
            assert found == expected, (found - expected, expected - found)
            old_batch = str(int(batches.batch_id.iloc[night - 1]))
            assert set(mine.superseded_batches) == {old_batch}
            assert all(
                str(int(batches.batch_id.iloc[night])) in b.split(",") for b in mine.loaded_batches
            )
        # The replaced rows stay readable, marked with the batch that replaced them.
        replaced = pd.read_sql(
            sa.text(
                "SELECT batch_id, superseded_by, row_values FROM etl_replaced_row "
                "WHERE relation = 'stg_budget_release' ORDER BY batch_id"
            ),
            conn,
        )
        ours = [json.loads(v) for v in replaced.row_values]
        days = sorted(v["released_date"] for v in ours if v["release_id"] == release_id)
        final = conn.execute(
            sa.text("SELECT released_date FROM fct_budget_release WHERE release_id = :r"),
            {"r": release_id},
        ).scalar()
        assert [date.fromisoformat(d) for d in days] == [
            final - timedelta(days=60),
            final - timedelta(days=30),
        ]
        assert list(replaced.superseded_by.drop_duplicates()) == list(batches.batch_id.iloc[1:])
    engine.dispose()


def differing_figures(
    before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]
) -> set[tuple[str, str, str]]:
    """(mart, grain as JSON, column) of every value that differs, found independently."""
    found = set()
    for decl in marts():
        keys = grain(decl)
        old = {row_key(r, keys): r for r in before[decl.name].to_dict("records")}
        new = {row_key(r, keys): r for r in after[decl.name].to_dict("records")}
        for key in old.keys() | new.keys():
            for column in decl.column_names:
                if column in keys:
                    continue
                if key not in old or key not in new or differ(old[key][column], new[key][column]):
                    found.add((decl.name, key, column))
    return found


def differ(old: object, new: object) -> bool:
    if pd.isna(old) and pd.isna(new):  # type: ignore[call-overload]
        return False
    return old != new


def row_key(record: dict, keys: list[str]) -> str:
    return json.dumps({k: record[k] for k in keys}, separators=(", ", ": "))


def test_audit_and_trace_commands(landing_small: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    url = f"duckdb:///{db}"
    target, release_id = released_file(landing_small)
    assert run_nightly(landing_small, db)[0] == 0
    delay_release(target, release_id, 30)
    assert run_nightly(landing_small, db)[0] == 0
    first, second = run_ids(url)
    runner = CliRunner()

    shown = runner.invoke(
        app,
        ["audit", "--relation", "mart_backfill_delays", "--as-of-run", first, "--warehouse", url],
    )
    assert shown.exit_code == 0, shown.output
    assert f"as published by run {first}" in shown.output
    changed = runner.invoke(
        app,
        ["audit", "--relation", "mart_backfill_delays", "--changes", "--warehouse", url],
        env={"COLUMNS": "250"},
    )
    assert changed.exit_code == 0 and f"changed by run {second}" in changed.output
    unchanged = runner.invoke(
        app,
        ["audit", "--relation", "mart_backfill_delays", "--changes", "--as-of-run", first,
         "--warehouse", url],
    )  # fmt: skip
    assert unchanged.exit_code == 0 and f"run {first} changed no figure" in unchanged.output

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        vacancy = conn.execute(
            sa.text("SELECT vacancy_id FROM fct_vacancy WHERE backfill_release_id = :r"),
            {"r": release_id},
        ).scalar()
    engine.dispose()
    traced = runner.invoke(app, ["trace", vacancy, "--warehouse", url], env={"COLUMNS": "250"})
    assert traced.exit_code == 0, traced.output
    budget_sha = hashlib.sha256(target.read_bytes()).hexdigest()
    assert f"budget/{target.name}" in traced.output and budget_sha in traced.output
    assert "roster/roster_" in traced.output and "opened (" in traced.output

    unknown = runner.invoke(app, ["trace", "--release", "NO-SUCH", "--warehouse", url])
    assert unknown.exit_code == 1 and "no release 'NO-SUCH'" in unknown.output
    bad_run = runner.invoke(
        app, ["audit", "--relation", "mart_backfill_delays", "--as-of-run", "x", "--warehouse", url]
    )
    assert bad_run.exit_code == 2 and "no run 'x'" in bad_run.output


@pytest.mark.parametrize(
    "command", [["audit", "--relation", "mart_engagement"], ["trace", "P1@2024-01-01"], ["metrics"]]
)
def test_reading_commands_never_create_a_warehouse(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nowhere" / "w.duckdb"
    result = CliRunner().invoke(app, [*command, "--warehouse", f"duckdb:///{missing}"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0, result.output  # one line
    assert "no warehouse at" in result.output
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize(
    ("command", "copy"), [("grant-bi", "--read-copy"), ("grant-audit", "--audit-copy")]
)
def test_roles_on_duckdb_point_to_the_copies(tmp_path: Path, command: str, copy: str) -> None:
    target = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, [command, "--role", "r", "--warehouse", f"duckdb:///{target}"])
    assert result.exit_code == 2 and copy in result.output
    assert not target.exists()
