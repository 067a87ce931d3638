"""Draw the pages: charts to inline SVG (Vega-Lite through vl-convert, no JavaScript), one
self-contained HTML file (Jinja2; no CDN, no server, a policy that forbids any request),
and a PDF of the same HTML printed by a headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
import vl_convert
from markupsafe import Markup

from rxstaff.staffing_report.data import Figures, read_figures
from rxstaff.staffing_report.layout import Page, coverage
from rxstaff.staffing_report.options import CHROMIUM_ENV, ReportOptions
from rxstaff.staffing_report.options import from_environment as options_from_environment
from rxstaff.staffing_report.pages import build_pages

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
PDF_TIMEOUT = 120
# The page is a local file that fetches nothing; these keep Chromium's own services from
# the network: no DNS (every name resolves to nothing), no direct connection (a proxy on
# the discard port of loopback), and its updaters, sync, reporting and probes off.
# Chromium's IPv6 reachability check (a UDP connect() to 2001:4860:4860::8888, which
# sends no packet) has no switch: decisions.md, "The PDF printer and the network".
OFFLINE_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--dns-prefetch-disable",
    "--disable-features=OptimizationHints,MediaRouter,DialMediaRouteProvider,Translate,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
    "NetworkTimeServiceQuerying",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
)


class PdfUnavailable(RuntimeError):
    """No Chromium to print the PDF with."""


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path | None
    pdf_problem: str | None = None
    findings: tuple[str, ...] = ()  # page 1's titles: what the pack says, in a sentence each
    as_of: date | None = None


def write_report(
    conn: sa.Connection,
    out: Path,
    source: str,
    year: int | None = None,
    as_of_run: str | None = None,
    pdf: bool = True,
    options: ReportOptions | None = None,
) -> ReportFiles:
    """Write ``out/staffing_report.html`` (and ``.pdf``); the files written."""
    figures = read_figures(conn, as_of_run)
    options = options or options_from_environment()
    pages = build_pages(figures, options, year)
    html = render_html(pages, source, year, figures, options)
    findings = tuple(section.title for section in pages[0].sections)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "staffing_report.html"
    partial = html_path.with_name(f".{html_path.name}.partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, html_path)
    written = ReportFiles(html_path, None, findings=findings, as_of=figures.as_of)
    if not pdf:
        return written
    try:
        printed = print_pdf(html_path, out / "staffing_report.pdf", options.chromium)
        return replace(written, pdf=printed)
    except PdfUnavailable as problem:
        return replace(written, pdf_problem=str(problem))


def render_html(
    pages: list[Page], source: str, year: int | None, figures: Figures, options: ReportOptions
) -> str:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template), autoescape=True, undefined=jinja2.StrictUndefined
    )
    scope = f"year {year}" if year else "all years"
    run = figures.as_of_run or _latest_run(figures)
    window = coverage(figures.first_snapshot, figures.first_month, figures.as_of)
    return env.get_template("template.html.j2").render(
        title=f"{options.pharmacy}: staffing programme report",
        subtitle=f"Data from {window}; {scope}; as of {figures.as_of or '?'}.",
        running=css_string(f"{options.pharmacy} · data {window} · run {run or '-'}"),
        paper=options.paper,
        written=datetime.now().strftime("%Y-%m-%d %H:%M"),
        version=metadata.version("rxstaff"),
        source=source,
        pages=[_page_view(p) for p in pages],
        numbers={p.slug: i for i, p in enumerate(pages, start=1)},
    )


def css_string(text: str) -> Markup:
    """Text safe inside a CSS string in a <style> element (where HTML escapes are not
    decoded): quotes, backslashes and angle brackets as CSS escapes."""
    escaped = "".join(f"\\{ord(ch):x} " if ch in '"\\<>&' or ord(ch) < 32 else ch for ch in text)
    return Markup(escaped)


def _latest_run(figures: Figures) -> str | None:
    runs = figures.frames.get("runs")
    if runs is None or runs.empty:
        return None
    committed = runs[runs.status != "failed"]  # every outcome but a failure committed
    return str(committed.run_id.iloc[0]) if len(committed) else None


def _template(name: str) -> str:
    return resources.files("rxstaff.staffing_report").joinpath(name).read_text("utf-8")


def _page_view(page: Page) -> dict[str, Any]:
    return {
        "slug": page.slug,
        "title": page.title,
        "sections": [
            {
                "title": s.title,
                "facts": s.facts,
                "link": s.link,
                "svg": chart_svg(s.chart) if s.chart and s.chart["data"]["values"] else None,
                "alt": s.alt,
                "note": s.note,
                "columns": list(s.table.columns),
                "text": [not _numbers(s.table[c]) for c in s.table.columns],
                "rows": s.table.astype(str).values.tolist(),
            }
            for s in page.sections
        ],
    }


def _numbers(column: Any) -> bool:
    """Whether a column reads as figures (aligned right), not words (aligned left)."""
    cells = [str(v) for v in column if str(v) not in ("-", "")]
    return bool(cells) and all(c[:1].isdigit() or c[:1] in "$+-" for c in cells)


def chart_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite chart as an SVG element (vl-convert runs Vega itself: no browser)."""
    svg = vl_convert.vegalite_to_svg(spec)
    return svg[svg.index("<svg") :]  # drop any XML prolog: the SVG sits inside HTML


def find_chromium(named: str | None = None) -> str | None:
    """The Chromium that prints the PDF: the one ``named`` ($RXSTAFF_CHROMIUM, through the
    report's options), else the first on PATH."""
    if named:
        return named
    return next((path for n in CHROMIUM_NAMES if (path := shutil.which(n))), None)


@cache
def without_network() -> tuple[str, ...]:
    """A prefix that runs a command in a network namespace of its own (loopback only,
    down), where the kernel allows it (user namespaces): then nothing Chromium tries can
    leave the machine, whatever a later version adds. Elsewhere, the flags alone."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    prefix = (unshare, "--net", "--map-root-user")
    try:
        done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return prefix if done.returncode == 0 else ()


def print_pdf(html: Path, pdf: Path, chromium: str | None = None) -> Path:
    """The HTML printed to PDF by a headless Chromium (``chromium``, else the first on
    PATH), offline."""
    browser = find_chromium(chromium)
    if browser is None:
        raise PdfUnavailable(
            f"no PDF: no Chromium found (install Debian's chromium, or set ${CHROMIUM_ENV})"
        )
    partial = pdf.with_name(f".{pdf.name}.partial")
    with tempfile.TemporaryDirectory(prefix="rxstaff-chromium-") as profile:
        command = [
            *without_network(), browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-extensions", "--no-pdf-header-footer", *OFFLINE_FLAGS,
            f"--user-data-dir={profile}", f"--print-to-pdf={partial}",
            html.resolve().as_uri(),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT, check=False)
    if done.returncode != 0 or not partial.exists():
        raise PdfUnavailable(f"no PDF: Chromium exited with {done.returncode}")
    os.replace(partial, pdf)
    return pdf
