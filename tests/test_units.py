"""Small pieces: landing discovery, CSV dialect, headers, pseudonyms, schema, generator, CLI."""

from __future__ import annotations

import filecmp
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rxstaff.cli import app
from rxstaff.extract.landing import LandingError, discover
from rxstaff.sample import Options, generate
from rxstaff.transforms import staging
from rxstaff.transforms.csv_text import read_extract
from rxstaff.transforms.pseudonym import (
    Pseudonymiser,
    fingerprint,
    legacy_fingerprint,
    matches,
)
from rxstaff.transforms.raw_frame import TextRows, trim_cells
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.schema import SchemaTooNew, current_version, latest_version, upgrade
from rxstaff.warehouse.settings import SecretMismatch, check_secret


def test_discovery_orders_files_and_reports_strangers(tmp_path: Path) -> None:
    for name in (
        "roster/roster_2024-02-05.csv",
        "roster/roster_2024-01-29.csv",
        "budget/budget_releases_2024-01-30.csv",
        "survey/engagement_survey_2023.csv",
        "survey/survey_items_2023.csv",
        "roster/notes.txt",
        "roster/ROSTER_2024-02-12.CSV",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("a\n1\n")
    found = discover(tmp_path)
    assert [f.file_name for f in found.files] == [
        "roster/roster_2024-01-29.csv",
        "roster/roster_2024-02-05.csv",
        "roster/ROSTER_2024-02-12.CSV",
        "budget/budget_releases_2024-01-30.csv",
        "survey/survey_items_2023.csv",
        "survey/engagement_survey_2023.csv",
    ]
    assert found.unrecognised == ["roster/notes.txt"]
    assert found.files[0].file_date == date(2024, 1, 29) and len(found.files[0].sha256) == 64


def test_discovery_hashes_every_file_in_order_whatever_the_threads(tmp_path: Path) -> None:
    """Files are hashed on several threads: each keeps its own digest, size and place,
    and a name without a real date is still reported with the hash of its bytes."""
    import hashlib

    contents = {f"roster/roster_2024-01-{d:02d}.csv": f"a\n{d}\n" * d for d in range(1, 29)}
    contents["roster/roster_2024-02-30.csv"] = "a\nmisnamed\n"
    for name, text in contents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = discover(tmp_path)
    assert [f.file_name for f in found.files] == sorted(contents)[:-1]
    for f in found.files:
        data = contents[f.file_name].encode()
        assert (f.sha256, f.size) == (hashlib.sha256(data).hexdigest(), len(data))
    [misnamed] = found.refused
    assert misnamed.sha256 == hashlib.sha256(b"a\nmisnamed\n").hexdigest()


def test_discovery_trusts_a_recorded_hash_only_while_size_and_times_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose stats are as recorded is not read: its recorded hash stands (a planted
    wrong one shows it). Rewritten with the same size and its modification time set back,
    its change time still moved: it is read again. A file changed within RACY_NS of being
    looked at is read every time and not recorded."""
    import dataclasses
    import hashlib
    import os
    import time

    from rxstaff.extract import landing as landing_module

    path = tmp_path / "roster" / "roster_2024-01-05.csv"
    path.parent.mkdir()
    path.write_text("a\n1\n")
    racy = discover(tmp_path)
    assert racy.hashed == 1 and racy.hashes() == []  # just written: not recorded
    monkeypatch.setattr(landing_module, "RACY_NS", 0)
    first = discover(tmp_path)
    [seen] = first.hashes()
    assert first.hashed == 1 and seen.sha256 == hashlib.sha256(b"a\n1\n").hexdigest()
    planted = dataclasses.replace(seen, sha256="f" * 64)
    kept = discover(tmp_path, recorded={seen.file_name: planted})
    assert kept.hashed == 0 and kept.files[0].sha256 == "f" * 64
    assert discover(tmp_path, recorded={}).files[0].sha256 == seen.sha256  # --rehash

    before = path.stat()
    time.sleep(0.05)  # a later clock tick
    path.write_text("a\n2\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    again = discover(tmp_path, recorded={seen.file_name: planted})
    assert again.hashed == 1
    assert again.files[0].sha256 == hashlib.sha256(b"a\n2\n").hexdigest()


def test_missing_landing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LandingError, match="does not exist"):
        discover(tmp_path / "nowhere")


def test_bom_crlf_padding_and_header_case_are_not_data(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        b'\xef\xbb\xbf Employee_ID ,"FTE",first_name\r\n E1 ,"0.5 ",Ann\r\n"E2",,"Bo, Jr"\r\n'
    )
    frame = trim_cells(
        staging.prepare(SOURCES["roster"], read_extract(path.read_bytes()).frame).frame
    )
    assert list(frame.columns) == ["employee_id", "fte"]
    assert frame.employee_id.tolist() == ["E1", "E2"]
    assert frame.fte.iloc[0] == "0.5" and pd.isna(frame.fte.iloc[1])


def test_small_files_staged_as_rows_equal_a_frame_per_file(tmp_path: Path) -> None:
    """One-line files stay Python rows until the chunk is one frame: the chunk must be
    the one a frame per file gave, whatever each file's header order, optional columns
    or size."""
    header = "release_id,position_id,action,job_code,pharmacy_model,fte,annual_amount,"
    header += "requested_date,released_date,status,record_updated_at"
    row = "BR-{n}, P{n} ,backfill,SPT1,specialty,1,56000.00,2023-01-04,,requested,2023-01-04T14:43"
    files = {
        "plain": f"{header}\n{row.format(n=1)}\n",
        "shuffled": "\ufeffSTATUS , Release_ID,position_id,action,job_code,fte,annual_amount,"
        "requested_date,released_date,pharmacy_model,record_updated_at\r\n"
        "requested,BR-2,P2,new_position,MAPSUP,0.5,1,2023-01-05,,infusion,x\r\n",
        "no_optional_column": header.replace(",pharmacy_model", "")
        + "\nBR-3,P3,backfill,SPT2,1,2,2023-01-06,,requested,y\nBR-4,P4,a,b,c,d,e,f,g,h\n",
        "header_only": f"{header}\n",
        "misshapen": f"{header}\n{row.format(n=5)},extra\n{row.format(n=6)}\n",
    }
    extracts = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        extracts.append(read_extract((tmp_path / name).read_bytes()))
    as_frame = read_extract(
        (tmp_path / "plain").read_bytes()
    ).frame  # as Arrow would hand over a big file
    src = SOURCES["budget"]

    def chunk(raws: list) -> pd.DataFrame:
        prepared = [staging.prepare(src, r, e.row_numbers, e.misshapen) for r, e in raws]
        dates = [date(2023, 1, 4)] * len(prepared)
        return staging.combine([p.frame for p in prepared], dates, [e.row_numbers for _, e in raws])

    rows_first = [(e.raw, e) for e in extracts] + [(as_frame, extracts[0])]
    frames_first = [(e.frame, e) for e in extracts] + [(as_frame, extracts[0])]
    assert all(isinstance(e.raw, TextRows) for e in extracts)
    pd.testing.assert_frame_equal(chunk(rows_first), chunk(frames_first))
    mixed = chunk([rows_first[4], (as_frame, extracts[0]), *rows_first[:3]])
    assert mixed["release_id"].tolist() == ["BR-6", "BR-1", "BR-1", "BR-2", "BR-3", "BR-4"]
    assert mixed["row_number"].tolist() == [2, 1, 1, 1, 1, 2]
    assert mixed["_file_no"].tolist() == [0, 1, 2, 3, 4, 4]
    assert mixed["pharmacy_model"].isna().tolist() == [False] * 4 + [True, True]


def test_pseudonyms_are_stable_keyed_and_not_reversible() -> None:
    a, b = Pseudonymiser("one"), Pseudonymiser("two")
    assert a.key("E100") == Pseudonymiser("one").key("E100")
    assert a.key("E100") != b.key("E100") and "100" not in a.key("E100")
    assert a.keys(pd.Series(["E1", None])).isna().tolist() == [False, True]
    assert matches("one", fingerprint("one")) and not matches("two", fingerprint("one"))


def test_a_pseudonymiser_travels_to_a_worker_with_its_key_and_without_its_memo() -> None:
    import pickle

    here = Pseudonymiser("one")
    here.keys(pd.Series([f"E{n}" for n in range(5_000)]))
    sent = pickle.dumps(here)
    there = pickle.loads(sent)
    assert len(sent) < 200  # the key only: 5,000 memoised ids stay behind
    assert there.key("E42") == here.key("E42") and there.key("E9") != Pseudonymiser("two").key("E9")


def test_schema_upgrades_and_refuses_newer(tmp_path: Path) -> None:
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.begin() as conn:
        assert upgrade(conn) == list(range(1, latest_version() + 1))
        assert upgrade(conn) == []
        conn.execute(
            sa.text("INSERT INTO rxstaff_schema_version VALUES (999, 'future', CURRENT_TIMESTAMP)")
        )
    with engine.begin() as conn, pytest.raises(SchemaTooNew, match="upgrade rxstaff"):
        upgrade(conn)
    with engine.begin() as conn:
        assert current_version(conn) == 999


def test_a_different_secret_is_refused(tmp_path: Path) -> None:
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.begin() as conn:
        upgrade(conn)
        check_secret(conn, "first")
        check_secret(conn, "first")
        with pytest.raises(SecretMismatch):
            check_secret(conn, "second")


def test_the_key_fingerprint_is_salted_and_slow_and_an_old_one_is_upgraded(
    tmp_path: Path,
) -> None:
    stored = "SELECT value FROM rxstaff_setting WHERE name = 'id_secret_fingerprint'"
    one, two = fingerprint("key"), fingerprint("key")
    assert one != two and one.startswith("scrypt$")  # salted: equal keys, unequal tags
    assert matches("key", one) and matches("key", two)
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.begin() as conn:
        upgrade(conn)
        conn.execute(  # what rxstaff 0.1 left: a fast, unsalted hash
            sa.text("INSERT INTO rxstaff_setting VALUES ('id_secret_fingerprint', :v)"),
            {"v": legacy_fingerprint("key")},
        )
        with pytest.raises(SecretMismatch):
            check_secret(conn, "other")
        check_secret(conn, "key")
        upgraded = conn.execute(sa.text(stored)).scalar()
        assert upgraded.startswith("scrypt$") and matches("key", upgraded)
        assert "key" not in upgraded.split("$", 1)[1] and legacy_fingerprint("key") not in upgraded


def test_generator_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    opts = dict(employees=30, start=date(2024, 1, 1), end=date(2024, 4, 1), seed=9, bad_rows=0.01)
    generate(Options(out=tmp_path / "a", **opts))
    generate(Options(out=tmp_path / "b", **opts))
    generate(Options(out=tmp_path / "c", **{**opts, "seed": 10}))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert files and all(
        filecmp.cmp(tmp_path / "a" / f, tmp_path / "b" / f, shallow=False) for f in files
    )
    assert not all(
        filecmp.cmp(tmp_path / "a" / f, tmp_path / "c" / f, shallow=False)
        for f in files
        if (tmp_path / "c" / f).exists()
    )


def test_help_teaches() -> None:
    runner = CliRunner()
    main = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert main.exit_code == 0
    for command in ("nightly", "generate", "demo", "metrics", "grant-bi", "bench"):
        assert command in main.output
    nightly = runner.invoke(app, ["nightly", "--help"], env={"COLUMNS": "120"})
    assert "Exit status" in nightly.output and "RXSTAFF_ID_SECRET" in nightly.output


def test_nightly_without_a_secret_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RXSTAFF_ID_SECRET")
    result = CliRunner().invoke(app, ["nightly", "--landing", str(tmp_path)])
    assert result.exit_code == 2 and "RXSTAFF_ID_SECRET" in result.output


def test_bad_run_date_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["nightly", "--landing", str(tmp_path), "--run-date", "5/1/2024"]
    )
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


@pytest.mark.usefixtures("prefect_server")
def test_secrets_can_come_from_prefect_secret_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    from rxstaff import settings

    Secret(value="key-from-a-block").save("rxstaff-test-id-secret", overwrite=True)
    Secret(value="duckdb:///from-block.duckdb").save("rxstaff-test-url", overwrite=True)
    monkeypatch.delenv("RXSTAFF_ID_SECRET")
    monkeypatch.setenv("RXSTAFF_ID_SECRET_BLOCK", "rxstaff-test-id-secret")
    monkeypatch.setenv("RXSTAFF_WAREHOUSE_URL_BLOCK", "rxstaff-test-url")
    assert settings.id_secret() == "key-from-a-block"
    assert str(settings.warehouse().url) == "duckdb:///from-block.duckdb"
    monkeypatch.setenv("RXSTAFF_ID_SECRET_BLOCK", "no-such-block")
    with pytest.raises(settings.ConfigurationError, match="no-such-block"):
        settings.id_secret()


def test_a_missing_landing_folder_fails_at_once_without_retries(tmp_path: Path) -> None:
    import time

    started = time.monotonic()
    result = CliRunner().invoke(
        app, ["nightly", "--landing", str(tmp_path / "nope"), "--warehouse", "duckdb:///:memory:"]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    assert "nothing was changed" in result.output
    assert time.monotonic() - started < 5, "a permanent error is not retried"


def test_metrics_on_a_missing_warehouse_says_so_in_one_line_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere.duckdb"
    result = CliRunner().invoke(app, ["metrics", "--warehouse", f"duckdb:///{missing}"])
    assert result.exit_code == 2
    assert "no warehouse at" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1  # one line
    assert not missing.exists()
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()  # a file, but no warehouse in it
    result = CliRunner().invoke(app, ["metrics", "--warehouse", f"duckdb:///{empty}"])
    assert result.exit_code == 2 and "holds no rxstaff warehouse" in result.output


@pytest.mark.parametrize("value", ["/srv/rxstaff/warehouse.duckdb", "mysql://u@h/db"])
def test_a_warehouse_that_is_not_a_supported_url_is_refused_before_anything_starts(
    tmp_path: Path, value: str
) -> None:
    result = CliRunner().invoke(app, ["nightly", "--landing", str(tmp_path), "--warehouse", value])
    assert result.exit_code == 2
    assert "nothing was changed" in result.output and "rolled back" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [("RXSTAFF_REPORT_PAPER", "tabloid", "letter or a4"),
     ("RXSTAFF_REPORT_MIN_N", "ten", "RXSTAFF_REPORT_MIN_N"),
     ("RXSTAFF_BUDGET_WATCH_DAYS", "monthly", "RXSTAFF_BUDGET_WATCH_DAYS")],
)  # fmt: skip
def test_a_bad_report_or_watch_setting_stops_the_run_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, named: str
) -> None:
    """The report's page and the budget watch are settings of the run like the others:
    wrong, the run stops at once in one line, not after it has committed."""
    monkeypatch.setenv(setting, value)
    db = tmp_path / "w.duckdb"
    args = ["nightly", "--landing", str(tmp_path), "--warehouse", f"duckdb:///{db}",
            "--report", str(tmp_path / "pack")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and named in result.output, result.output
    assert "nothing was changed" in result.output and "Traceback" not in result.output
    assert not db.exists() and not (tmp_path / "pack").exists()


DISTINCT_CASES = [
    ["2024-02-30", None, "2024-01-05", "2024-02-30", "x", "2024-01-05"],
    [None, None],
    [],
]


@pytest.mark.parametrize("values", DISTINCT_CASES)
def test_casting_each_distinct_value_once_gives_what_casting_every_row_gives(
    values: list[str | None],
) -> None:
    """Casts and keys are computed per distinct value and spread back by position: the
    rows, their order, their index and their nulls must be those of the row-wise way."""
    from rxstaff.transforms.casting import calendar_problems, to_float

    index = list(range(10, 10 + len(values)))
    dates = pd.Series(values, dtype="string", index=index)
    rowwise = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce").isna() & dates.notna()
    fake, outside = calendar_problems(dates, "date")
    assert fake.tolist() == rowwise.tolist() and not outside.any()

    numbers = pd.Series([v and str(len(v) % 3) for v in values], dtype="string", index=index)
    expected = pd.to_numeric(numbers).astype("float64")
    pd.testing.assert_series_equal(to_float(numbers), expected, check_names=False)

    days = dates.str.slice(0, 10)
    beyond = ((days < "2024-01-01") | (days > "2024-01-31")).fillna(False) & ~rowwise
    fake, outside = calendar_problems(dates, "date", ("2024-01-01", "2024-01-31"))
    assert fake.tolist() == rowwise.tolist() and outside.tolist() == beyond.tolist()

    pseudonyms = Pseudonymiser("k")
    keys = pseudonyms.keys(dates)
    assert list(keys.index) == index and str(keys.dtype) == "string"
    assert [None if pd.isna(k) else k for k in keys] == [
        None if v is None else Pseudonymiser("k").key(v) for v in values
    ]


@pytest.mark.parametrize(
    "cells",
    [["Ops", "a\x00b", None], ["\x00"], ["Ops", None, "Pharmacy"], [None], []],
)
def test_the_nul_byte_screen_never_misses_a_cell_that_holds_one(cells: list) -> None:
    """The buffer scan may only skip the cell-by-cell search where no cell holds a NUL:
    whole columns, sliced ones (a buffer beyond the slice) and text that is not Arrow."""
    from rxstaff.transforms.casting import might_hold_nul

    holds = any(c is not None and "\x00" in c for c in cells)
    column = pd.Series(cells, dtype="string")
    assert might_hold_nul(column) == holds
    padded = pd.Series(["\x00", *cells], dtype="string")
    assert might_hold_nul(padded.iloc[1:]) is True  # the buffer still holds the NUL
    assert might_hold_nul(pd.Series(cells, dtype="object")) is True


def test_idle_validation_projects_are_listed_and_pruned(tmp_path: Path) -> None:
    """PostgreSQL warehouses' projects pile up under $RXSTAFF_GX_HOME after their database
    is gone: `rxstaff validation-projects` lists them and prunes the idle ones."""
    import os
    import time

    from typer.testing import CliRunner

    from rxstaff.cli import app

    for name, age_days in (("db1_kept", 1), ("db2_gone", 40)):
        result = tmp_path / name / "gx" / "uncommitted" / "validations" / "r.json"
        result.parent.mkdir(parents=True)
        result.write_text("{}")
        when = time.time() - age_days * 86400
        os.utime(result, (when, when))
    env = {"RXSTAFF_GX_HOME": str(tmp_path), "COLUMNS": "200"}
    listed = CliRunner().invoke(app, ["validation-projects"], env=env)
    assert listed.exit_code == 0 and "db1_kept" in listed.output and "db2_gone" in listed.output
    pruned = CliRunner().invoke(app, ["validation-projects", "--prune-idle-days", "30"], env=env)
    assert pruned.exit_code == 0 and "removed" in pruned.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db1_kept"]
