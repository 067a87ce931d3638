"""The director's pack as its readers take it: printed (read back from the PDF, page by
page), page 1 checked figure by figure against the warehouse, every rate with its n, no
job code outside the appendix, and every chart's series in colours of their own."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rxstaff.cli import app
from rxstaff.staffing_report.charts import MAX_SERIES, fewest_series, series_colours
from rxstaff.staffing_report.data import read_figures
from rxstaff.staffing_report.numbers import Share, wilson
from rxstaff.staffing_report.options import ReportOptions
from rxstaff.staffing_report.pages import build_pages
from tests.helpers import needs_chromium

PHARMACY = "Riverside Specialty Pharmacy"


@pytest.fixture(scope="module")
def pack(warehouse_3y: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    result = CliRunner().invoke(app, [
        "report", "--warehouse", f"duckdb:///{warehouse_3y}", "--out", str(out),
        "--pharmacy", PHARMACY, "--paper", "a4",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def pdf_pages(pack: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(pack / "staffing_report.pdf").pages]


def body(text: str) -> list[str]:
    """A printed page's lines without its running header and page number."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines if PHARMACY not in line and not re.match(r"page \d+ of", line)]


def figure(sql: str, url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql)).scalar()
    engine.dispose()
    return int(value or 0)


@needs_chromium
def test_the_pack_prints_as_a_document(pack: Path) -> None:
    from pypdf import PdfReader

    pages = pdf_pages(pack)
    assert 1 < len(pages) <= 12
    width, height = PdfReader(pack / "staffing_report.pdf").pages[0].mediabox.upper_right
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4, as asked
    for number, text in enumerate(pages, start=1):
        assert PHARMACY in text and "run 2" in text, number  # the running header
        assert f"page {number} of {len(pages)}" in text
        lines = body(text)
        # no sheet holds only a heading: text beyond any heading and its wrapped line
        assert len(lines) >= 4 and sum(len(line) for line in lines) > 200, (number, lines)


@needs_chromium
def test_page_one_states_the_programme_as_the_marts_do(pack: Path, warehouse_3y: Path) -> None:
    url = f"duckdb:///{warehouse_3y}"
    first = " ".join(pdf_pages(pack)[0].split())  # wrapped lines joined
    in_new_roles = figure(
        "SELECT SUM(positions) FROM mart_new_positions "
        "WHERE pharmacy_model = 'ALL' AND created_in_expansion", url
    )  # fmt: skip
    assert f"{in_new_roles} positions created in the new roles" in first
    spt_up = figure(
        "SELECT COUNT(DISTINCT employee_key) FROM fct_career_event "
        "WHERE event_type = 'promotion' AND from_job_code = 'SPT1' AND to_job_code = 'SPT2'", url
    )  # fmt: skip
    assert spt_up > 0 and f"Specialty Pharmacy Technician I → II: {spt_up} people" in first
    to_map = figure(
        "SELECT employees FROM mart_pathway_outcomes WHERE from_family = "
        "'Specialty Pharmacy Technician' AND to_family = 'MAP Coordinator' "
        "AND highest_job_code = 'ALL'", url
    )  # fmt: skip
    assert f"Specialty Pharmacy Technician → MAP Coordinator: {to_map} people" in first
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        as_of_date = conn.execute(
            sa.text("SELECT MAX(as_of_date) FROM mart_vacancy_backlog")
        ).scalar()
        codes = [row[0] for row in conn.execute(sa.text("SELECT job_code FROM dim_job"))]
    engine.dispose()
    assert f"on {as_of_date:%Y-%m-%d}" in first
    assert not [code for code in codes if re.search(rf"\b{re.escape(code)}\b", first)]


def visible_chunks(html: str) -> list[str]:
    """Each piece of text a reader sees: headings, list items, table cells (not column
    headers, which name a measure)."""
    body_html = html.split("</header>", 1)[1]
    chunks = re.findall(r"<(?:h3|li|td)[^>]*>(.*?)</(?:h3|li|td)>", body_html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", chunk)).strip() for chunk in chunks]


def test_every_rate_has_its_n_and_no_code_outside_the_appendix(
    warehouse_3y: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, [
        "report", "--warehouse", f"duckdb:///{warehouse_3y}", "--out", str(tmp_path), "--no-pdf",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (tmp_path / "staffing_report.html").read_text(encoding="utf-8")
    rates = [chunk for chunk in visible_chunks(html) if re.search(r"\d%", chunk)]
    assert len(rates) > 20
    without_n = [c for c in rates if not re.search(r"\d%?\)? of [\d.,]+|n=\d", c)]
    assert without_n == []
    assert "too few to rate (n=" in html  # small groups are said to be small, not rated
    before_appendix = html.split('id="appendix"', 1)[0].split("<svg", 1)[0]
    engine = sa.create_engine(f"duckdb:///{warehouse_3y}")
    with engine.connect() as conn:
        codes = [row[0] for row in conn.execute(sa.text("SELECT job_code FROM dim_job"))]
    engine.dispose()
    text = " ".join(visible_chunks(before_appendix))
    assert not [code for code in codes if re.search(rf"\b{re.escape(code)}\b", text)]


def test_every_chart_has_its_own_colour_per_series(warehouse_3y: Path) -> None:
    engine = sa.create_engine(f"duckdb:///{warehouse_3y}")
    with engine.connect() as conn:
        pages = build_pages(read_figures(conn), ReportOptions())
    engine.dispose()
    charted = [s.chart for p in pages for s in p.sections if s.chart]
    assert len(charted) >= 5
    for spec in charted:
        colour = spec["encoding"].get("color")
        if colour is None:
            continue
        values = {str(row[colour["field"]]) for row in spec["data"]["values"]}
        scale = colour["scale"]
        assert values <= set(scale["domain"]) and len(scale["domain"]) <= MAX_SERIES
        assert len(set(scale["range"])) == len(scale["range"])  # no two series share one


def test_many_series_keep_the_largest_and_group_the_rest() -> None:
    frame = pd.DataFrame(
        {"year": [2024] * 11, "role": [f"role {i}" for i in range(11)], "n": range(1, 12)}
    )
    kept = fewest_series(frame, "role", "n")
    assert len(kept) == MAX_SERIES and kept.n.sum() == frame.n.sum()
    assert "other" in set(kept.role) and "role 10" in set(kept.role)
    assert series_colours(kept, "role")["domain"][-1] == "other"


def test_small_numbers_are_said_with_their_n_and_interval() -> None:
    low, high = wilson(2, 11)  # the 18.2% early exits: 2 of 11
    assert 0.04 < low < 0.06 and 0.47 < high < 0.50
    assert Share(2, 11).text(10).startswith("18.2% (2 of 11; 95% CI")
    assert Share(1, 1.7, interval=False).text(10) == "too few to rate (n=1.7)"
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0


def test_the_monthly_pack_is_deployed_on_the_first_of_the_month() -> None:
    import yaml
    from prefect.flows import load_flow_from_entrypoint

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "prefect.yaml").read_text())
    deployment = next(d for d in config["deployments"] if d["name"] == "monthly-pack")
    _, _, day, month, weekday = deployment["schedules"][0]["cron"].split()
    assert (day, month, weekday) == ("1", "*", "*")
    assert load_flow_from_entrypoint(deployment["entrypoint"]).name == "director-pack"


@needs_chromium
@pytest.mark.usefixtures("prefect_server")
def test_the_pack_arrives_by_email_with_its_pdf(
    warehouse_3y: Path,
    tmp_path: Path,
    receivers: tuple[list[dict], list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from email import message_from_bytes

    from rxstaff.flows.pack import director_pack

    _, mails = receivers
    monkeypatch.setenv("RXSTAFF_PHARMACY_NAME", PHARMACY)
    out = tmp_path / "pack"
    pdf = director_pack(
        out=str(out), warehouse=f"duckdb:///{warehouse_3y}",
        email_to="director@example.org, auditor@example.org",
    )  # fmt: skip
    assert Path(pdf) == out / "staffing_report.pdf"
    assert len(mails) == 1
    mail = message_from_bytes(mails[0])
    assert mail["To"] == "director@example.org, auditor@example.org"
    assert PHARMACY in mail["Subject"]
    parts = {part.get_content_type(): part for part in mail.walk()}
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert "positions created in the" in body and "Retention" in body
    attached = parts["application/pdf"].get_payload(decode=True)
    assert attached == Path(pdf).read_bytes() and attached.startswith(b"%PDF")


@needs_chromium
@pytest.mark.usefixtures("prefect_server")
def test_a_pack_that_cannot_be_sent_fails_its_run(
    warehouse_3y: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rxstaff.flows.pack import PackNotDelivered, director_pack

    monkeypatch.setenv("RXSTAFF_ALERT_SMTP", "127.0.0.1:9")  # the discard port: refused
    state = director_pack(
        out=str(tmp_path), warehouse=f"duckdb:///{warehouse_3y}",
        email_to="director@example.org", return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    with pytest.raises(PackNotDelivered, match="could not be sent"):
        state.result()
