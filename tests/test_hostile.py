"""Odd and hostile input costs one row or one file, never the night, and never leaks.

Planted personal values (a name, an e-mail, a raw employee id) ride in rows whose field
count is wrong, so that a reader filling columns left to right would shift them into
echoed columns; none of them may reach the warehouse, the quarantine detail, the batch
error or the console. Each case runs on a real DuckDB file and a real PostgreSQL.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from rxstaff.transforms.csv_text import ARROW_MIN_BYTES, MAX_CELL_CHARS, MalformedCsv, read_extract
from rxstaff.transforms.raw_frame import neutralise_formulas
from tests.helpers import csv_rows, run_nightly, write_csv

pytestmark = pytest.mark.usefixtures("prefect_server")

NAME, EMAIL = "Zebulon", "zebulon.quartermaine@example.org"


def at(rows: list[list[str]], name: str) -> int:
    return [h.strip().lower() for h in rows[0]].index(name)


def plant(landing: Path) -> dict[str, object]:
    """The hostile matrix, one file or one row each; what each case should become."""
    rosters = sorted((landing / "roster").glob("*.csv"))
    shifted, quoted = rosters[4], rosters[6]

    rows = csv_rows(shifted)
    first, last, email = at(rows, "first_name"), at(rows, "last_name"), at(rows, "work_email")
    employee = at(rows, "employee_id")
    raw_id = rows[2][employee]
    rows[2][first], rows[2][email] = NAME, EMAIL
    rows[2].insert(last, EMAIL)  # an extra field: every later value shifted right
    rows[3][first], rows[3][email] = NAME, EMAIL
    del rows[3][first]  # a missing field: every later value shifted left
    rows[4][at(rows, "department")] = '=HYPERLINK("http://evil.example/x","Pharmacy")'
    write_csv(shifted, rows)

    text = quoted.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace(",", ',"', 1)  # a quote opened and never closed
    quoted.write_text("".join(lines), encoding="utf-8")

    budgets = sorted((landing / "budget").glob("*.csv"))
    money, other = budgets[0], budgets[1]
    rows = csv_rows(money)
    extra = csv_rows(other)  # a second row, in this file's column order
    rows.append([extra[1][at(extra, h.strip().lower())] for h in rows[0]])
    rows[1][at(rows, "annual_amount")] = "12345678901234567.00"  # beyond NUMERIC(14, 2)
    write_csv(money, rows)
    return {
        "shifted": f"roster/{shifted.name}",
        "quoted": f"roster/{quoted.name}",
        "money": f"budget/{money.name}",
        "money_rows": len(rows) - 1,
        "raw_id": raw_id,
        "rosters": len(rosters),
    }


def test_hostile_rows_and_files_stay_where_they_belong(
    landing_small: Path, url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    case = plant(landing_small)
    copies = {}
    if url.startswith("duckdb"):  # copies are DuckDB files; PostgreSQL readers get roles
        copies = {
            "read_copy": str(tmp_path / "bi.duckdb"),
            "audit_copy": str(tmp_path / "a.duckdb"),
        }
    code, summary = run_nightly(landing_small, url, prefect=True, **copies)
    console = capfd.readouterr()
    assert code == 1  # a file was rejected: the night loaded, and needs attention
    assert [r.split(":")[0] for r in summary.rejections] == [case["quoted"]]
    assert "unbalanced quote" in summary.rejections[0]
    assert summary.sources["roster"].files_loaded == case["rosters"] - 1

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        quarantine = conn.execute(
            sa.text(
                "SELECT b.file_name, q.row_number, q.rule, q.detail FROM etl_quarantine q "
                "JOIN etl_batch b USING (batch_id) ORDER BY b.file_name, q.row_number"
            )
        ).all()
        shifted = {(r.row_number, r.rule) for r in quarantine if r.file_name == case["shifted"]}
        assert shifted == {
            (2, "row_has_as_many_fields_as_the_header"),
            (3, "row_has_as_many_fields_as_the_header"),
        }
        money = [r for r in quarantine if r.file_name == case["money"]]
        assert [(r.row_number, r.rule) for r in money] == [
            (1, "annual_amount_within_sanity_bounds")
        ]
        loaded = conn.execute(
            sa.text("SELECT rows_loaded FROM etl_batch WHERE file_name = :f"),
            {"f": case["money"]},
        ).scalar()
        assert loaded == case["money_rows"] - 1  # the rest of the file still loads
        departments = (
            conn.execute(
                sa.text("SELECT DISTINCT department FROM dim_employee WHERE department LIKE :p"),
                {"p": "%HYPERLINK%"},
            )
            .scalars()
            .all()
        )
        assert departments == ['\'=HYPERLINK("http://evil.example/x","Pharmacy")']
        flow_run_id = conn.execute(sa.text("SELECT flow_run_id FROM etl_run")).scalar()
        stored = {"warehouse": values_of(conn)}
    engine.dispose()
    for name, path in copies.items():
        copy = sa.create_engine(f"duckdb:///{path}")
        with copy.connect() as conn:
            stored[name] = values_of(conn)
        copy.dispose()
    stored["console"] = {console.out + console.err + str(summary)}
    stored["prefect"] = prefect_records(flow_run_id)
    personal = personal_values(landing_small) | {NAME, EMAIL}
    assert case["raw_id"] in personal
    for where, values in stored.items():
        leaked = personal & values
        text = "\n".join(values)
        leaked |= {v for v in personal if "@" in v and v in text}
        leaked |= set(RAW_ID.findall(text))
        assert not leaked, f"personal values reached the {where}: {sorted(leaked)[:5]}"


RAW_ID = re.compile(r"\bE\d{4,}\b")  # a raw employee id as the HRIS writes it


def personal_values(landing: Path) -> set[str]:
    """Every name, e-mail and raw employee id of the landing folder's rosters, except a
    value that is also an ordinary value of another column (a name that is a department)."""
    personal, ordinary = set(), set()
    for path in (landing / "roster").glob("*.csv"):
        rows = csv_rows(path)
        header = [h.strip().lower() for h in rows[0]]
        for row in rows[1:]:
            if len(row) != len(header):
                continue
            for column, value in zip(header, row, strict=True):
                value = value.strip()
                if column in ("first_name", "last_name", "work_email", "employee_id"):
                    personal.add(value)
                else:
                    ordinary.add(value)
    return {v for v in personal - ordinary if v}


def values_of(conn: sa.Connection) -> set[str]:
    """Every value of every table and view, JSON text opened up, as text."""
    names = (
        conn.execute(
            sa.text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        )
        .scalars()
        .all()
    )
    found: set[str] = set()
    for name in names:
        for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')):
            for value in row:
                if value is None:
                    continue
                text = str(value)
                found.add(text)
                if text.startswith("{"):
                    found |= {str(v) for v in json.loads(text).values()}
    return found


def prefect_records(flow_run_id: str | None) -> set[str]:
    """What Prefect's database holds of the run: parameters, states and their messages,
    task runs, and every log line."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    assert flow_run_id, "the run recorded no Prefect flow-run id"
    for _ in range(60):  # log lines reach the server, and its database, in batches
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
            states = client.read_flow_run_states(flow_run_id)
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
        found = {str(run.parameters), str(run.state), *(f"{s.name} {s.message}" for s in states)}
        found |= {f"{t.name} {t.state}" for t in tasks}
        found |= {log.message for log in logs}
        if any("rejected" in line for line in found):
            return found
        time.sleep(0.5)
    raise AssertionError("the run's logs were not found in Prefect's database")


def test_a_file_gets_the_same_verdict_whatever_its_size(tmp_path: Path) -> None:
    header = "employee_id,first_name,department\n"
    good = "".join(f"E{n},Ann,Ops\n" for n in range(ARROW_MIN_BYTES // 14 + 10))
    cases = {
        "extra": "E1,Ann,Ops,zebulon@example.org\n",
        "missing": "E2,Ops\n",
        "unbalanced": 'E3,"Ann,Ops\n',
    }
    for name, bad in cases.items():
        small, large = tmp_path / f"{name}_small.csv", tmp_path / f"{name}_large.csv"
        small.write_text(header + "E0,Bo,Ops\n" + bad + "E9,Cy,Ops\n", encoding="utf-8")
        large.write_text(header + "E0,Bo,Ops\n" + bad + good, encoding="utf-8")
        assert large.stat().st_size > ARROW_MIN_BYTES
        if name == "unbalanced":
            for path in (small, large):
                with pytest.raises(MalformedCsv, match=r"after data row 1 .*unbalanced quote"):
                    read_extract(path.read_bytes())
            continue
        verdicts = [read_extract(p.read_bytes()) for p in (small, large)]
        for extract in verdicts:
            assert [row for row, _ in extract.misshapen] == [2]
            assert extract.row_numbers[:2] == [1, 3]  # rows keep their own numbers
            assert "zebulon" not in extract.frame.to_csv()


@pytest.mark.parametrize("quoted", [False, True])
def test_a_cell_too_long_is_named_as_such_whatever_the_file_size(quoted: bool) -> None:
    header = "employee_id,first_name,department\n"
    good = "".join(f"E{n},Ann,Ops\n" for n in range(ARROW_MIN_BYTES // 14 + 10))
    cell = "x" * (MAX_CELL_CHARS + 1)
    bad = f'E1,"{cell}",Ops\n' if quoted else f"E1,{cell},Ops\n"
    for rest in ("E9,Cy,Ops\n", good):  # read row by row, and a file Arrow would read
        with pytest.raises(MalformedCsv, match=r"in data row 2 is longer than 131,072"):
            read_extract((header + "E0,Bo,Ops\n" + bad + rest).encode())
    fits = f"E1,{cell[1:]},Ops\n"
    assert len(read_extract((header + fits + good).encode()).frame) > 1


def test_formula_cells_are_shown_never_run() -> None:
    import pandas as pd

    frame = pd.DataFrame({"department": ["=1+1", "+cmd", "-2", "@SUM(A1)", "Ops", None]})
    out = neutralise_formulas(frame, ["department"])["department"].tolist()
    assert out[:5] == ["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "Ops"]
    assert pd.isna(out[5])
