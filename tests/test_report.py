"""The director's pack, looked at as a person would: in a real headless Chromium (Debian's
chromium), offline, every chart drawn, nothing fetched, nothing logged in red; printed,
read back page by page; every figure on page 1 recomputed from the warehouse. A
screenshot of each page is kept in build/test-artifacts/report/ for a human to see."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from rxstaff.cli import app
from tests.helpers import chromium, needs_chromium, read, run_nightly

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts" / "report"
PAGES = ["summary", "ladder", "roles", "backfill", "turnover", "engagement", "training",
         "appendix"]  # fmt: skip


@pytest.fixture(scope="module")
def written(warehouse_3y: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = CliRunner().invoke(
        app, ["report", "--warehouse", f"duckdb:///{warehouse_3y}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


@needs_chromium
def test_the_report_renders_offline_with_every_chart_drawn(written: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = written / "staffing_report.html"
    errors: list[str] = []
    requests: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
        page = context.new_page()
        page.emulate_media(media="print")  # as the PDF lays it out
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        drawn = page.eval_on_selector_all(
            ".chart svg",
            "svgs => svgs.map(s => { const b = s.getBoundingClientRect();"
            " return [b.width, b.height, s.querySelectorAll('path, rect, line').length]; })",
        )
        for slug in PAGES:
            page.locator(f"#{slug}").screenshot(path=str(ARTIFACTS / f"{slug}.png"))
        browser.close()
    assert errors == []
    assert requests == [html.as_uri()]  # the page itself, and nothing else
    assert len(drawn) >= 5
    assert all(w > 100 and h > 100 and marks > 3 for w, h, marks in drawn), drawn
    assert all((ARTIFACTS / f"{slug}.png").stat().st_size > 5000 for slug in PAGES)


@needs_chromium
def test_the_pdf_has_the_same_pages(written: Path) -> None:
    pdf = (written / "staffing_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= len(PAGES)


PRINT = """
import sys
from pathlib import Path
from rxstaff.staffing_report.render import print_pdf
print_pdf(Path(sys.argv[1]), Path(sys.argv[2]))
"""
# Chromium's IPv6 reachability check: a UDP connect() that sends nothing, and no switch
# turns it off (decisions.md, "The PDF printer and the network").
IPV6_PROBE = '"2001:4860:4860::8888"'
LOOPBACK = ('inet_addr("127.', 'inet_pton(AF_INET6, "::1"')


@needs_chromium
def test_the_pdf_printer_reaches_for_no_network(written: Path, tmp_path: Path) -> None:
    """The PDF printed inside a network namespace with loopback only, every connect and
    send of Chromium and its helpers traced: no DNS query, no connection and no packet
    aimed anywhere but loopback (a hospital network alarms on such attempts)."""
    import os
    import subprocess
    import sys

    if os.geteuid() != 0 or not (shutil.which("strace") and shutil.which("unshare")):
        pytest.skip("tracing in a network namespace needs root, strace and unshare (CI has)")
    trace, pdf = tmp_path / "trace.txt", tmp_path / "printed.pdf"
    loopback_up = "ip link set lo up 2>/dev/null || true"
    strace = f"strace -f -qq -yy -e trace=connect,sendto,sendmsg,sendmmsg -o {trace}"
    script = f'{loopback_up}; exec {strace} {sys.executable} -c \'{PRINT}\' "$0" "$1"'
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", script, str(written / "staffing_report.html"), str(pdf)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF")
    lines = trace.read_text().splitlines()
    assert any("connect(" in line for line in lines)  # the trace saw Chromium's sockets
    network = [line for line in lines if "AF_INET" in line and "(" in line]
    assert not [line for line in network if "htons(53)" in line]  # no DNS query
    elsewhere = [line for line in network if not any(lo in line for lo in LOOPBACK)]
    probes = [line for line in elsewhere if IPV6_PROBE in line and "<UDPv6" in line]
    assert [line for line in elsewhere if line not in probes] == []
    assert not [line for line in probes if "connect(" not in line]  # never a packet


@needs_chromium
def test_the_chromium_named_by_rxstaff_chromium_prints_the_pdf(
    warehouse_3y: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$RXSTAFF_CHROMIUM (README, Configuration) names the printer: a Chromium of the
    operator's own, here the real one behind a wrapper that notes it was called."""
    called = tmp_path / "called"
    wrapper = tmp_path / "my-chromium"
    wrapper.write_text(f'#!/bin/sh\ntouch "{called}"\nexec "{chromium()}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("RXSTAFF_CHROMIUM", str(wrapper))
    out = tmp_path / "pack"
    result = CliRunner().invoke(
        app, ["report", "--warehouse", f"duckdb:///{warehouse_3y}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert called.exists()
    assert (out / "staffing_report.pdf").read_bytes().startswith(b"%PDF")


def test_every_page_every_finding_and_no_suppressed_number(written: Path) -> None:
    html = (written / "staffing_report.html").read_text(encoding="utf-8")
    for slug in PAGES:
        assert f'id="{slug}"' in html
    assert "<script" not in html and "http" not in html.split("<svg", 1)[0].split("</style>")[1]
    charts = html.count('class="chart"')
    assert charts == html.count("<figcaption>") and charts >= 5  # each chart has its alt text
    # The engagement table by family: a suppressed group shows no score and no n.
    table = html.split("Engagement by job family", 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert "suppressed" in cells
    assert all(cell == "suppressed" or "(n=" in cell or cell == "-" for cell in cells[1:]
               if not re.match(r"^[A-Z(]", cell))  # fmt: skip


def test_a_bi_copy_makes_a_report_without_the_audit_trail(
    landing_small: Path, tmp_path: Path
) -> None:
    db, copy, out = tmp_path / "w.duckdb", tmp_path / "bi.duckdb", tmp_path / "out"
    code, summary = run_nightly(landing_small, db, read_copy=str(copy), report_dir=str(out))
    assert code == 0 and summary.report == str(out / "staffing_report.html")
    # the run's own report reads the warehouse: the audit trail is there
    assert "run(s) behind these figures" in (out / "staffing_report.html").read_text("utf-8")
    result = CliRunner().invoke(
        app, ["report", "--warehouse", f"duckdb:///{copy}", "--out", str(tmp_path / "bi"),
              "--no-pdf"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (tmp_path / "bi" / "staffing_report.html").read_text(encoding="utf-8")
    assert "The audit trail is not readable by this reader" in html
    with duckdb.connect(str(copy), read_only=True) as con:
        assert not con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name LIKE 'etl_%'"
        ).fetchall()


# --- the tables hold the marts' figures ----------------------------------------------------


def table_with(html: str, column: str) -> list[dict[str, str]]:
    """The rows of the report table that has ``column`` among its headers."""
    for figure in html.split("<figure")[1:]:
        figure = figure.split("</figure>", 1)[0]
        header = [unescape(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', figure)]
        if column in header:
            body = figure.split("<tbody>", 1)[1]
            return [
                dict(zip(header, [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)],
                         strict=True))
                for row in re.findall(r"<tr>(.*?)</tr>", body)
            ]  # fmt: skip
    raise AssertionError(f"no table with a {column!r} column")


def number(cell: str) -> float | None:
    """The figure a cell leads with ("87.2% (68 of 78; ...)" is 0.872)."""
    if cell == "-":
        return None
    cell = cell.split(" ", 1)[0]
    value = float(cell.replace(",", "").replace("$", "").rstrip("%"))
    return value / 100 if cell.endswith("%") else value


def same(cell: str, figure: object, places: float) -> bool:
    if figure is None or pd.isna(figure):  # type: ignore[call-overload]
        return cell == "-"
    shown = number(cell)
    return shown is not None and abs(shown - float(figure)) <= places  # type: ignore[arg-type]


# Each report table beside the mart rows it shows: the column that finds the table, its
# column that keys a row, the mart's rows, and each shown column's mart column with how far
# rounding may put them apart. Only the table's rows for every reason are compared.
SHOWN_FROM_MARTS = [
    ("median budget wait", "opened", "year",
     "SELECT * FROM mart_backfill_delays WHERE job_family = 'ALL' AND pharmacy_model = 'ALL' "
     "AND open_reason = 'ALL'",
     [("seats", "vacancies_opened", 0), ("filled (n)", "vacancies_filled", 0),
      ("median budget wait", "median_days_waiting_for_budget", 0.05),
      ("median to fill", "median_days_to_fill", 0.05), ("p90 to fill", "p90_days_to_fill", 0.05)]),
    ("turnover (of average headcount)", "year", "year",
     "SELECT * FROM mart_retention_annual WHERE pharmacy_model = 'ALL' AND job_family = 'ALL'",
     [("turnover (of average headcount)", "turnover_rate", 0.0005),
      ("retention (95% CI)", "retention_rate", 0.0005),
      ("employed 31 Dec before (n)", "start_headcount", 0)]),
    ("like for like", "year", "survey_year",
     "SELECT * FROM mart_engagement WHERE group_by = 'ALL'",
     [("engagement", "engagement_index", 0.05),
      ("like for like", "engagement_index_comparable", 0.05),
      ("respondents (n)", "respondents", 0)]),
]  # fmt: skip


def test_the_tables_hold_the_mart_rows(url_3y: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", "--warehouse", url_3y, "--out", str(tmp_path), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "staffing_report.html").read_text(encoding="utf-8")
    for finder, shown_key, mart_key, sql, columns in SHOWN_FROM_MARTS:
        mart = read(url_3y, sql).set_index(mart_key)
        shown = [r for r in table_with(html, finder) if r.get("why it opened", "all") == "all"]
        assert len(shown) == len(mart) > 0, finder
        for row in shown:
            figures = mart.loc[int(row[shown_key])]
            for column, mart_column, places in columns:
                assert same(row[column], figures[mart_column], places), (finder, row, column)


def test_no_survey_and_no_training_say_so(landing_small: Path, tmp_path: Path) -> None:
    for folder in ("survey", "training"):
        shutil.rmtree(landing_small / folder, ignore_errors=True)
    db = tmp_path / "w.duckdb"
    assert run_nightly(landing_small, db)[0] == 0
    result = CliRunner().invoke(
        app, ["report", "--warehouse", f"duckdb:///{db}", "--out", str(tmp_path), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "staffing_report.html").read_text(encoding="utf-8")
    assert "No engagement survey loaded" in html
    assert "No training records loaded" in html
    engagement = html.split('id="engagement"', 1)[1].split('id="training"', 1)[0]
    assert "<svg" not in engagement  # nothing drawn where there is nothing to draw
