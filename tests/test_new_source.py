"""A fifth source, declared once (DEVELOPERS.md, "Adding a source", is this example).

Pharmacy technicians' credentials (PTCB, CSPT, ...) from a registry's nightly export:
one declaration and one suite, and a real night loads them into a staging table made
from the declaration, quarantines a bad row with its rule, keeps no name, stores the
employee id only as its keyed hash, and replaces a corrected file's rows.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from rxstaff.transforms.source import Bound, Source, columns
from rxstaff.transforms.sources import SOURCES
from tests.helpers import read, run_nightly

SUITE = {
    "name": "credential",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c},
         "meta": {"rule": f"{c}_required"}}
        for c in ("credential_id", "employee_id", "credential", "earned_on")
    ] + [
        {"type": "expect_column_values_to_match_regex",
         "kwargs": {"column": c, "regex": r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$"},
         "meta": {"rule": f"{c}_is_iso_date"}}
        for c in ("earned_on", "expires_on")
    ] + [
        {"type": "expect_column_values_to_match_regex",
         "kwargs": {"column": "employee_id", "regex": r"^E\d+$"},
         "meta": {"rule": "employee_id_format"}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "credential", "value_set": ["PTCB", "CSPT", "NHA"]},
         "meta": {"rule": "credential_in_allowed_values"}},
    ],
}  # fmt: skip


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Source:
    suite = tmp_path / "credential.json"
    suite.write_text(json.dumps(SUITE), encoding="utf-8")
    source = Source(
        name="credentials",
        folder="credentials",
        pattern=re.compile(r"^credentials_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
        suite=str(suite),
        columns=columns("""
            credential_id   id
            employee_id     key
            full_name       personal  optional
            credential      code
            earned_on       date
            expires_on      date      nullable
        """),
        table="stg_credential",
        bound=(Bound("file_date", "_file_date", "date"),),
        key_column="employee_id",
        optional=True,
    )
    monkeypatch.setitem(SOURCES, source.name, source)
    return source


def test_a_declared_source_loads_end_to_end(
    credentials: Source, landing_small_master: Path, tmp_path: Path, url: str
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(landing_small_master, landing)
    (landing / "credentials").mkdir()
    export = landing / "credentials" / "credentials_2023-03-01.csv"
    export.write_text(
        "credential_id,employee_id,full_name,credential,earned_on,expires_on\n"
        "CR-1,E1001,Ann Lee,PTCB,2022-05-01,2024-05-01\n"
        "CR-2,E1002,Bo Ng,XYZ,2022-06-01,\n"
        "CR-3,E1003,Cy Do,CSPT,2023-02-30,\n",
        encoding="utf-8",
    )
    code, summary = run_nightly(landing, url)
    assert code == 0, summary
    tally = summary.sources["credentials"]
    assert (tally.files_loaded, tally.rows_loaded, tally.rows_quarantined) == (1, 1, 2)
    staged = read(url, "SELECT * FROM stg_credential")
    assert list(staged.columns) == [
        "batch_id", "row_number", "file_date", "credential_id", "employee_key", "credential",
        "earned_on", "expires_on",
    ]  # fmt: skip
    assert staged.credential_id.tolist() == ["CR-1"]
    assert staged.employee_key[0] != "E1001" and "Ann" not in staged.to_csv()
    rules = read(url, "SELECT row_number, rule FROM etl_quarantine ORDER BY row_number")
    assert list(rules.itertuples(index=False, name=None)) == [
        (2, "credential_in_allowed_values"),
        (3, "earned_on_is_calendar_date"),
    ]

    export.write_text(  # the registry corrects the file: both bad rows fixed
        "credential_id,employee_id,full_name,credential,earned_on,expires_on\n"
        "CR-1,E1001,Ann Lee,PTCB,2022-05-01,2024-05-01\n"
        "CR-2,E1002,Bo Ng,NHA,2022-06-01,\n"
        "CR-3,E1003,Cy Do,CSPT,2023-02-28,\n",
        encoding="utf-8",
    )
    code, summary = run_nightly(landing, url)
    assert code == 0 and summary.sources["credentials"].rows_loaded == 3
    assert sorted(read(url, "SELECT credential_id FROM stg_credential").credential_id) == [
        "CR-1", "CR-2", "CR-3",
    ]  # fmt: skip
    replaced = read(
        url, "SELECT COUNT(*) AS n FROM etl_replaced_row WHERE relation = 'stg_credential'"
    )
    assert int(replaced.n[0]) == 1  # the first version's one loaded row, kept for auditors
