"""The ``rxstaff`` command line."""

from __future__ import annotations

import atexit
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rxstaff import settings

if TYPE_CHECKING:  # the flow imports Prefect, pandas and more: only when a run is asked for
    from rxstaff.warehouse.connection import Warehouse
    from rxstaff.warehouse.runs import RunSummary

# Prefect's commands that start a temporary server (with no PREFECT_API_URL) get more time
# than its default on a busy ETL host. An operator's setting wins.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# A staffing pipeline does not phone home: Prefect's usage telemetry is off unless the
# operator turns it on (and on a closed network it only logs errors).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# rxstaff's own log lines (a connection retried, ...) belong in the run's Prefect log.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "rxstaff")
# ... and outside a run (`rxstaff metrics` retrying a connection) they stay on the console.
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")

app = typer.Typer(
    name="rxstaff",
    help=(
        "Specialty pharmacy staffing warehouse.\n\n"
        "Loads HRIS roster snapshots, position-control budget releases, engagement surveys and "
        "learning-system training records "
        "from a landing folder into a star-schema warehouse (DuckDB by default, PostgreSQL in "
        "production) that BI tools and auditors query.\n\n"
        "Start with `rxstaff demo` (a sample pharmacy, loaded, with its staffing report), then "
        "`rxstaff metrics`; auditors use `rxstaff audit` and `rxstaff trace`."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console(stderr=False)
# Errors stay one line each, however long (operators grep logs for them).
errors = Console(stderr=True, soft_wrap=True)

LandingOpt = Annotated[
    Path,
    typer.Option(
        "--landing",
        help="Landing folder with roster/, budget/, survey/ and (optional) training/ sub-folders.",
    ),
]
WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        help=f"SQLAlchemy URL of the warehouse. Default: ${settings.WAREHOUSE_ENV}, "
        "then duckdb:///warehouse.duckdb. PostgreSQL: postgresql+psycopg://user@host:5432/db "
        "(password from PGPASSWORD or ~/.pgpass, not the URL).",
    ),
]


@app.command()
def nightly(
    landing: LandingOpt,
    warehouse: WarehouseOpt = None,
    run_date: Annotated[
        str | None,
        typer.Option(
            "--run-date",
            help="Logical date of the run, YYYY-MM-DD (default today). Files dated later wait.",
        ),
    ] = None,
    min_group_size: Annotated[
        int | None,
        typer.Option(
            "--min-group-size",
            help=f"Smallest survey group shown (default ${settings.MIN_GROUP_ENV} or 5).",
        ),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="Your own job catalog CSV instead of the shipped reference ladder "
            "(or $RXSTAFF_JOB_CATALOG).",
        ),
    ] = None,
    paths: Annotated[
        Path | None,
        typer.Option(
            "--paths",
            help="Your own career_paths.csv (from_job_code, to_job_code, move_type): moves "
            "typed as declared, whatever the grades (or $RXSTAFF_CAREER_PATHS).",
        ),
    ] = None,
    read_copy: Annotated[
        Path | None,
        typer.Option(
            "--read-copy",
            help="DuckDB only: publish a file of the BI relations (dim_, fct_, mart_; nothing "
            "else) here for BI tools, replaced whole after each run (or $RXSTAFF_READ_COPY).",
        ),
    ] = None,
    audit_copy: Annotated[
        Path | None,
        typer.Option(
            "--audit-copy",
            help="DuckDB only: publish a file of the BI relations and the etl_ audit trail "
            "here for auditors (never staging), replaced whole (or $RXSTAFF_AUDIT_COPY).",
        ),
    ] = None,
    max_roster_age: Annotated[
        int | None,
        typer.Option(
            "--max-roster-age",
            min=0,
            help="Days the newest roster snapshot may be older than the run date before the "
            "run fails (exit 1) after loading what is there (default "
            f"${settings.MAX_ROSTER_AGE_ENV} or {settings.DEFAULT_MAX_ROSTER_AGE_DAYS}).",
        ),
    ] = None,
    validation: Annotated[
        str,
        typer.Option(
            "--validation",
            help="gx (Great Expectations); sql (the same suite compiled to SQL, run by "
            "DuckDB); vectorised (the same suite in pandas); or auto: gx unless the run "
            "brings over 4 MiB of new files, then sql. GX re-checks a sample of what "
            "sql or vectorised judged, and the run fails if they disagree.",
        ),
    ] = "auto",
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="After a committed run, write the staffing report (HTML and PDF) into this "
            f"folder (or ${settings.REPORT_DIR_ENV}); see `rxstaff report`.",
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Where a history load's staging runs: auto (a local Dask cluster, one worker "
            "per core, for 512 MB or more of new files), off, local, or the address of a "
            f"running Dask scheduler, tcp://host:8786 (or ${settings.DASK_ENV}).",
        ),
    ] = None,
    staging_area: Annotated[
        str | None,
        typer.Option(
            "--staging-area",
            help="Where Dask workers write staged Parquet: a folder or fsspec URL the workers "
            f"and this machine share (or ${settings.STAGING_AREA_ENV}; default a private "
            "temporary folder). This run's part is removed when it ends.",
        ),
    ] = None,
    rehash: Annotated[
        bool,
        typer.Option(
            "--rehash",
            help="Read and hash every landing file. By default a file whose size, "
            "modification and change times and inode are as the last run saw them keeps "
            "that run's hash (writing a file always sets its change time).",
        ),
    ] = False,
) -> None:
    """Run the nightly load: every new or corrected extract, validated, into the warehouse.

    Exit status: 0 when every file loaded (quarantined rows included) or there was nothing
    new; 1 when a file was rejected, or the landing folder is stale (newest roster older
    than --max-roster-age days) or holds no file the contract knows (what is there still
    loads); 2 when the run failed and was rolled back, or could not start.

    The employee-id pseudonymisation key is read from `RXSTAFF_ID_SECRET`. On PostgreSQL
    the run's own session turns JIT off and takes `RXSTAFF_PG_WORK_MEM` (default 256MB,
    or `server`) per sort or hash. A run creates the warehouse if it is not there and says
    so ("new warehouse at ..."); `RXSTAFF_CREATE_WAREHOUSE=never` makes it refuse instead
    (exit 2, nothing created): set it for a schedule, after the first run.
    """
    when = _parse_date(run_date, "--run-date") if run_date else None
    if validation not in settings.VALIDATION_CHOICES:
        raise typer.BadParameter(
            f"use one of {', '.join(settings.VALIDATION_CHOICES)}", param_hint="--validation"
        )
    request = settings.RunRequest(
        landing=str(landing),
        warehouse=warehouse,
        run_date=when,
        min_group_size=min_group_size,
        catalog=_text(catalog),
        paths=_text(paths),
        validation=validation,
        max_roster_age_days=max_roster_age,
        read_copy=_text(read_copy),
        audit_copy=_text(audit_copy),
        report_dir=_text(report),
        dask=dask,
        staging_area=staging_area,
        rehash=rehash,
    )
    raise typer.Exit(_run_nightly(request))


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the landing layout into.")],
    employees: Annotated[
        int, typer.Option("--employees", min=1, help="Workforce size at the start.")
    ] = 300,
    start: Annotated[
        str, typer.Option("--start", help="First snapshot date, YYYY-MM-DD.")
    ] = "2022-01-03",
    end: Annotated[
        str, typer.Option("--end", help="Last date simulated, YYYY-MM-DD.")
    ] = "2024-12-30",
    cadence: Annotated[
        str, typer.Option("--cadence", help="Roster snapshots: weekly, daily or irregular.")
    ] = "weekly",
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files.")] = 7,
    bad_rows: Annotated[
        float,
        typer.Option(
            "--bad-rows", min=0.0, max=1.0, help="Share of rows to corrupt (quarantine practice)."
        ),
    ] = 0.0,
    tidy: Annotated[
        bool, typer.Option("--tidy", help="No BOMs, CRLF, shuffled or padded columns.")
    ] = False,
) -> None:
    """Write a sample landing folder for a simulated pharmacy (and `_truth/` for tests)."""
    from rxstaff.sample import Options
    from rxstaff.sample import generate as run_generator

    if cadence not in ("weekly", "daily", "irregular"):
        raise typer.BadParameter("use weekly, daily or irregular", param_hint="--cadence")
    opts = Options(
        out=out,
        employees=employees,
        start=_parse_date(start, "--start"),
        end=_parse_date(end, "--end"),
        cadence=cadence,
        seed=seed,
        bad_rows=bad_rows,
        messy=not tidy,
    )
    with console.status(f"simulating {employees} employees, {start} to {end} ..."):
        counts = run_generator(opts)
    table = Table("written", "count", title=f"landing folder {out}")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)


@app.command()
def demo(
    landing: Annotated[
        Path, typer.Option("--landing", help="Where the sample landing folder goes.")
    ] = Path("sample_landing"),
    warehouse: WarehouseOpt = None,
    employees: Annotated[int, typer.Option("--employees", help="Sample workforce size.")] = 300,
    report: Annotated[
        Path, typer.Option("--report", help="Folder for the staffing report (HTML and PDF).")
    ] = Path("report"),
) -> None:
    """Generate a sample landing folder (once), run the nightly load, write the staffing
    report, show the headline metrics."""
    from rxstaff.sample import Options
    from rxstaff.sample import generate as run_generator

    if not os.environ.get(settings.SECRET_ENV):
        errors.print(
            f"[yellow]warning:[/] {settings.SECRET_ENV} is not set; the demo uses a fixed, "
            "public key. Never do this with real employee data."
        )
        os.environ[settings.SECRET_ENV] = settings.DEMO_SECRET
    # The demo wrote its files a moment ago: they are complete, no need to let them settle.
    os.environ.setdefault(settings.SETTLE_ENV, "0")
    if not (landing / "roster").is_dir():
        console.print(f"generating a sample pharmacy of {employees} employees into {landing}/")
        run_generator(
            Options(
                out=landing,
                employees=employees,
                start=date(2022, 1, 3),
                end=date(2024, 12, 30),
                seed=7,
                bad_rows=0.001,
            )
        )
    request = settings.RunRequest(
        landing=str(landing),
        warehouse=warehouse,
        run_date=date(2024, 12, 31),
        report_dir=str(report),
    )
    code = _run_nightly(request)
    if code == 0:
        _show_metrics(_warehouse(warehouse), None)
        written = [report / f"staffing_report.{kind}" for kind in ("html", "pdf")]
        shown = " and ".join(str(path) for path in written if path.exists())
        console.print(f"staffing report: {shown or 'not written (see the warnings above)'}")
    raise typer.Exit(code)


@app.command()
def metrics(
    warehouse: WarehouseOpt = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Only this year (default: all years).")
    ] = None,
) -> None:
    """Print the headline figures: promotions, new seats, turnover, backfill delays, engagement."""
    _show_metrics(_warehouse(warehouse), year)


@app.command()
def dictionary(
    out: Annotated[Path, typer.Option("--out", help="Markdown file to write.")] = Path(
        "docs/data_dictionary.md"
    ),
) -> None:
    """Write the data dictionary of every BI-facing relation, from the schema's own descriptions."""
    from rxstaff.warehouse.dictionary import markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(), encoding="utf-8")
    console.print(f"wrote {out}")


RoleLoginOpt = Annotated[bool, typer.Option("--login/--no-login", help="Let the role log in.")]
PasswordEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--password-env", help="Name of an environment variable holding the role's password."
    ),
]


RoleOpt = Annotated[str, typer.Option("--role", help="The read-only role (created if absent).")]


@app.command("grant-bi")
def grant_bi(
    role: RoleOpt, warehouse: WarehouseOpt = None, login: RoleLoginOpt = True,
    password_env: PasswordEnvOpt = None,
) -> None:  # fmt: skip
    """PostgreSQL: create or update a read-only role that sees the BI relations only (the
    `dim_*`, `fct_*` and `mart_*` relations). For DuckDB, publish `--read-copy` instead."""
    _grant_reader("bi", role, warehouse, login, password_env)


@app.command("grant-audit")
def grant_audit(
    role: RoleOpt, warehouse: WarehouseOpt = None, login: RoleLoginOpt = True,
    password_env: PasswordEnvOpt = None,
) -> None:  # fmt: skip
    """PostgreSQL: create or update an auditor's read-only role: what BI reads plus the etl_*
    audit trail (files, quarantine, runs, published figures); never staging, where single
    survey answers live. For DuckDB, publish `--audit-copy` instead."""
    _grant_reader("audit", role, warehouse, login, password_env)


@app.command()
def audit(
    relation: Annotated[
        str, typer.Option("--relation", help="The mart to read back, e.g. mart_backfill_delays.")
    ],
    as_of_run: Annotated[
        str | None,
        typer.Option(
            "--as-of-run",
            help="A run id (etl_run.run_id): the mart as it stood after that run. "
            "Default: after the latest run.",
        ),
    ] = None,
    changes: Annotated[
        bool,
        typer.Option(
            "--changes", help="Instead: the figures of the mart that this run changed, and why."
        ),
    ] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Print a mart exactly as a past run published it (from etl_metric_snapshot), or with
    `--changes` the figures that run changed (etl_metric_change) with the batches it loaded
    or superseded. `rxstaff audit --relation mart_retention_annual --as-of-run RUN_ID`."""
    from rxstaff.warehouse.published import UnknownRun, as_published, changes_of

    try:
        with _reading(_warehouse(warehouse)) as conn:
            if changes:
                run, frame = changes_of(conn, relation, as_of_run)
                title = f"{relation}: figures changed by run {run}"
            else:
                run, frame = as_published(conn, relation, as_of_run)
                title = f"{relation} as published by run {run}"
    except UnknownRun as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    if changes and frame.empty:
        console.print(
            f"run {run} changed no figure of {relation}: its figures are as the run before "
            "published them (a warehouse's first run has none before it to compare with; "
            f"rxstaff audit --relation {relation} shows them as published)"
        )
        return
    console.print(_frame_table(title, frame))


@app.command()
def report(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for staffing_report.html and .pdf.")
    ] = Path("report"),
    warehouse: WarehouseOpt = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Only this year (default: all years).")
    ] = None,
    as_of_run: Annotated[
        str | None,
        typer.Option("--as-of-run", help="The marts as that run (etl_run.run_id) published them."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print a PDF (needs Chromium).")
    ] = True,
    pharmacy: Annotated[
        str | None,
        typer.Option("--pharmacy", help="Name in the running header ($RXSTAFF_PHARMACY_NAME)."),
    ] = None,
    paper: Annotated[
        str | None,
        typer.Option("--paper", help="letter or a4 ($RXSTAFF_REPORT_PAPER; default letter)."),
    ] = None,
    min_n: Annotated[
        int | None,
        typer.Option(
            "--min-n",
            help="Smallest group given a rate; fewer show 'too few to rate' "
            "($RXSTAFF_REPORT_MIN_N; default 10).",
        ),
    ] = None,
) -> None:
    """Write the director's pack: one self-contained HTML file (charts inlined as SVG;
    opens offline) and a PDF of the same pages. Page 1 states the programme's results (new
    roles, ladder steps, engagement, retention, backfill and budget); then the career
    ladder, new roles, backfill and budget, turnover, engagement, training, and an audit
    appendix. Reads the BI relations, plus the audit trail where the reader may see it:
    a warehouse, an `--audit-copy` or a `--read-copy` file.

    Example: rxstaff report --out pack --pharmacy "Main St Specialty Pharmacy" --paper a4"""
    from dataclasses import replace

    from rxstaff.staffing_report.options import ReportOptionError, from_environment
    from rxstaff.staffing_report.render import write_report
    from rxstaff.warehouse.published import UnknownRun

    try:
        chosen = from_environment()
        chosen = replace(
            chosen,
            pharmacy=pharmacy or chosen.pharmacy,
            paper=(paper or chosen.paper).lower(),
            min_n=chosen.min_n if min_n is None else min_n,
        )
    except ReportOptionError as error:
        errors.print(f"[red]error (nothing was written):[/] {error}")
        raise typer.Exit(2) from None
    target = _warehouse(warehouse)
    try:
        with _reading(target) as conn:
            files = write_report(conn, out, target.description, year, as_of_run, pdf, chosen)
    except UnknownRun as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    console.print(f"wrote {files.html}")
    if files.pdf:
        console.print(f"wrote {files.pdf}")
    elif files.pdf_problem:
        errors.print(f"[yellow]warning:[/] {files.pdf_problem}")


@app.command()
def trace(
    vacancy_id: Annotated[
        str | None,
        typer.Argument(help="A vacancy id from fct_vacancy (position_id@YYYY-MM-DD)."),
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="A release_id of fct_budget_release instead.")
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="A career event instead: EMPLOYEE_KEY@YYYY-MM-DD (fct_career_event's "
            "employee_key and event_date).",
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """From a figure back to its files: the file name, sha256 and row number of each row
    behind a vacancy (the leaver's, the new incumbent's, its budget release), a release
    or a career event. Uses only what an auditor role may read."""
    from rxstaff.warehouse import lineage

    asked = [a for a in (vacancy_id, release, event) if a]
    if len(asked) != 1:
        raise typer.BadParameter("give one of VACANCY_ID, --release or --event")
    try:
        with _reading(_warehouse(warehouse)) as conn:
            if release:
                chain = lineage.trace_release(conn, release)
            elif event:
                chain = lineage.trace_event(conn, event)
            else:
                chain = lineage.trace_vacancy(conn, str(vacancy_id))
    except lineage.NotFound as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    _print_chain(chain)


@app.command("validation-projects")
def validation_projects(
    prune_idle_days: Annotated[
        float | None,
        typer.Option(
            "--prune-idle-days",
            help="Remove the projects no run has written to for this many days (a "
            "database dropped or renamed leaves its project behind).",
        ),
    ] = None,
) -> None:
    """List the validation projects (Great Expectations results and Data Docs) kept for
    PostgreSQL warehouses under $RXSTAFF_GX_HOME (default ~/.rxstaff/gx), one per
    <host>_<database>, with their size and newest result; optionally prune idle ones.
    A DuckDB warehouse keeps its own beside its file (<name>.gx/); $RXSTAFF_GX_DIR puts a
    run's anywhere."""
    from rxstaff.expectations.projects import projects, prune

    home = settings.gx_home()
    if prune_idle_days is not None:
        for gone in prune(home, prune_idle_days):
            console.print(f"removed {gone.path} (idle {gone.idle_days:.0f} days)")
    found = projects(home)
    if not found:
        console.print(f"no validation project under {home}")
        return
    table = Table("project", "size MiB", "newest result", "idle days", title=str(home))
    for project in found:
        newest = datetime.fromtimestamp(project.newest).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            project.path.name,
            f"{project.size_bytes / 2**20:,.1f}",
            newest,
            f"{project.idle_days:.0f}",
        )
    console.print(table)


@app.command("setup-alerts")
def setup_alerts(
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", help="URL that takes a JSON POST (Slack, Teams, any receiver)."),
    ] = None,
    email_to: Annotated[
        str | None, typer.Option("--email-to", help="Address to e-mail (needs --smtp).")
    ] = None,
    smtp: Annotated[
        str | None, typer.Option("--smtp", help="SMTP relay as host:port (no login).")
    ] = None,
    email_from: Annotated[
        str, typer.Option("--email-from", help="Sender address.")
    ] = "rxstaff@localhost",
    test: Annotated[
        bool, typer.Option("--test", help="Send a test alert now, and say where it went.")
    ] = False,
    silent_after: Annotated[
        int,
        typer.Option(
            "--silent-after",
            min=60,
            help="Seconds without a heartbeat after which the server marks a run Crashed "
            "(a killed worker); keep it over twice PREFECT_FLOWS_HEARTBEAT_FREQUENCY (180).",
        ),
    ] = 600,
    automations: Annotated[
        bool,
        typer.Option(
            "--automations/--no-automations",
            help="Create the server's automations (default), or leave alerts to the flows' "
            "own hooks.",
        ),
    ] = True,
) -> None:
    """Who hears of a failed, crashed or stale run, set on the Prefect server
    ($PREFECT_API_URL) for every worker: two automations (a run silent for --silent-after
    seconds is marked Crashed; a Failed or Crashed run of an rxstaff deployment calls the
    webhook and e-mails) and the variable `rxstaff_alerts` (read by the budget watch and
    the monthly pack). The server sends the alerts, so a worker killed outright is still
    heard of. The e-mail action needs rxstaff installed beside the server.

    Example: rxstaff setup-alerts --webhook https://hooks.example.org/rxstaff
    --email-to pharmacy-data@example.org --smtp smtp.example.org:25 --test"""
    from datetime import timedelta

    from rxstaff import alert_channels
    from rxstaff.flows import alerts

    chosen = alert_channels.AlertSettings(
        webhook, email_to, email_from, smtp, by_server=automations
    )
    if email_to and not smtp:
        raise typer.BadParameter("an e-mail alert needs --smtp host:port", param_hint="--smtp")
    if not chosen.any:
        raise typer.BadParameter("give --webhook, or --email-to with --smtp")
    if automations:
        from rxstaff.flows.automations import ensure_automations

        made = ensure_automations(chosen, timedelta(seconds=silent_after))
        console.print(f"automations on the Prefect server: {'; '.join(made)}")
    alert_channels.store(chosen)
    console.print(f"alerts stored in Prefect as the variable {alert_channels.VARIABLE}")
    if test:
        sample = {
            "subject": "rxstaff test alert", "run": "(test)", "flow_run_id": "-",
            "state": "Test", "what": "a test of `rxstaff setup-alerts`",
            "where_to_look": "nowhere: all is well",
        }  # fmt: skip
        reached = alerts.send(sample, chosen)
        console.print(f"test alert sent by: {', '.join(reached) or 'nothing (see the errors)'}")
        if len(reached) < (bool(webhook) + bool(email_to)):
            raise typer.Exit(1)


@app.command()
def bench(
    employees: Annotated[int, typer.Option("--employees", help="Workforce size.")] = 50000,
    years: Annotated[int, typer.Option("--years", help="Years of weekly snapshots.")] = 5,
    repeat: Annotated[
        int, typer.Option("--repeat", help="Runs per cheap measurement (medians).")
    ] = 3,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            help="PostgreSQL URL for the rebuild comparison (default $RXSTAFF_BENCH_POSTGRES_URL).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Working folder and JSON results.")] = Path(
        "bench/out"
    ),
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="A few minutes' check that every measurement runs: 500 employees, 1 year, "
            "one run each, no 1M-row pharmacy (its figures are not the targets' scale).",
        ),
    ] = False,
) -> None:
    """Measure the pipeline against the floor (DuckDB alone loading the same CSVs).

    The full run (the default) takes about 40 minutes on two cores and writes
    docs/benchmark.md's figures; --quick checks that each measurement runs.
    """
    from rxstaff.bench import run_benchmark

    run_benchmark(
        employees=QUICK_BENCH[0] if quick else employees,
        years=QUICK_BENCH[1] if quick else years,
        repeat=1 if quick else repeat,
        postgres_url=postgres or os.environ.get("RXSTAFF_BENCH_POSTGRES_URL"),
        out=out,
        console=console,
        million=not quick,
    )
    if quick:
        console.print(
            "--quick: every measurement ran; at this size the ratios do not test the "
            "targets, which are for the full run (make bench, docs/benchmark.md)"
        )


QUICK_BENCH = (500, 1)  # employees, years


# --- helpers ---------------------------------------------------------------------------------


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a YYYY-MM-DD date", param_hint=option) from None


def _text(path: Path | None) -> str | None:
    return str(path) if path else None


def _warehouse(explicit: str | None) -> Warehouse:
    """The warehouse of a command; a bad setting ends it in one line (exit 2)."""
    try:
        return settings.warehouse(explicit)
    except settings.ConfigurationError as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None


def _run_nightly(request: settings.RunRequest) -> int:
    """Run the nightly load: as a Prefect flow run where a Prefect server is configured
    ($PREFECT_API_URL), otherwise its steps in this process, with no server at all."""
    # Imported here, not at the top: Prefect and pandas take seconds to import, and
    # `rxstaff --help` or `rxstaff metrics` should answer without them.
    from rxstaff.flows import alerts
    from rxstaff.flows.nightly import run_night

    try:  # every setting is checked before anything is read: one line, no trace
        run = settings.resolve(request)
    except _not_started() as error:
        errors.print(f"[red]error (nothing was changed):[/] {error}")
        return 2
    _stop_cleanly_on_sigterm()
    if os.environ.get("PREFECT_API_URL"):
        return _report(_run_as_flow(request))
    _log_to_console()
    from rxstaff.warehouse.runs import RunStopped

    try:
        summary: object = run_night(run)
    except (Exception, RunStopped) as error:
        summary = error
    code = _report(summary)
    if code:
        alerts.alert_without_server(run.run_id, run.run_date, summary)
    return code


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (a scheduler or systemd stopping the job) ends the run as a failure does:
    its changes undone, its helper processes and private copy removed, the failure
    recorded. Python's default would end the process on the spot and skip all of it. A
    second SIGTERM ends it at once."""
    import signal

    from rxstaff.warehouse.runs import RunStopped

    def stop(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise RunStopped.request(f"stopped by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, stop)


def _not_started() -> tuple[type[BaseException], ...]:
    """Failures before the run changed anything: one line, exit 2, nothing recorded."""
    from rxstaff.extract.landing import LandingError
    from rxstaff.transforms.catalog import CatalogError
    from rxstaff.warehouse.runs import NOTHING_CHANGED

    return (settings.ConfigurationError, LandingError, CatalogError, *NOTHING_CHANGED)


def _run_as_flow(request: settings.RunRequest) -> object:
    """The run as a flow run of the configured Prefect server; its summary or error."""
    from dataclasses import asdict

    from rxstaff.flows.nightly import nightly as nightly_flow
    from rxstaff.warehouse.runs import summary_of

    parameters = asdict(request)
    with settings.by_reference(request.warehouse) as reference:
        parameters["warehouse"] = reference
        state = nightly_flow(**parameters, return_state=True)
    return summary_of(state.result(raise_on_failure=False))


def _log_to_console() -> None:
    """Outside Prefect, the run's log lines go to the console as a flow run's would."""
    import logging

    logger = logging.getLogger("rxstaff")
    if not any(type(h) is logging.StreamHandler for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s.%(msecs)03d | %(levelname)-7s | %(message)s", "%H:%M:%S")
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # Prefect's console handler on the root would repeat them


def _report(result: object) -> int:
    """Print what the run did, truthfully; its exit status."""
    from rxstaff.warehouse.runs import PublicationFailed, RunRolledBack, RunSummary

    if isinstance(result, RunSummary):
        _print_summary(result)
        return result.exit_code
    if isinstance(result, _not_started()):
        errors.print(f"[red]error (nothing was changed):[/] {result}")
    elif isinstance(result, RunRolledBack):
        errors.print(f"[red]the run failed and was rolled back:[/] {result}")
    elif isinstance(result, PublicationFailed):
        errors.print(f"[red]error:[/] {result}")
    else:
        errors.print(f"[red]the run failed:[/] {result}")
    return 2


def _print_summary(summary: RunSummary) -> None:
    table = Table(
        "source",
        "files loaded",
        "skipped",
        "rejected",
        "rows loaded",
        "rows quarantined",
        title=f"run {summary.run_id} into {summary.warehouse}",
    )
    for name, s in summary.sources.items():
        table.add_row(
            name,
            str(s.files_loaded),
            str(s.files_skipped),
            str(s.files_rejected),
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
        )
    console.print(table)
    if summary.new_warehouse:
        console.print(
            f"new warehouse at {summary.warehouse}: this run created it "
            "(RXSTAFF_CREATE_WAREHOUSE=never makes a run refuse to)"
        )
    waiting = sum(s.files_deferred for s in summary.sources.values())
    if waiting:
        console.print(
            f"{waiting} file(s) still arriving or changing under the run: left for the next run"
        )
    if summary.anomalies:
        console.print(
            "anomalies kept for review (etl_anomaly): "
            + ", ".join(f"{k} {v}" for k, v in summary.anomalies.items())
        )
    if summary.busy:
        errors.print(f"[red]not started:[/] {summary.busy}")
    for rejection in summary.rejections:
        errors.print(f"[red]rejected[/] {rejection}")
    if summary.landing_problem:
        kind, message = summary.landing_problem
        errors.print(f"[red]{kind}:[/] {message}")
    if summary.validation_docs:
        console.print(f"validation results (Data Docs): {summary.validation_docs}")
    if summary.report:
        console.print(f"staffing report: {summary.report}")
    if summary.report_problem:
        errors.print(f"[yellow]warning:[/] {summary.report_problem}")


def _grant_reader(
    reader: str, role: str, warehouse: str | None, login: bool, password_env: str | None
) -> None:
    from rxstaff.warehouse.access import AccessError, grant_reader_role

    password = os.environ.get(password_env) if password_env else None
    if password_env and not password:
        raise typer.BadParameter(f"${password_env} is empty", param_hint="--password-env")
    engine = _warehouse(warehouse).engine()
    try:
        granted = grant_reader_role(engine, reader, role, login, password)  # type: ignore[arg-type]
    except AccessError as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    console.print(f"role {role} can read: {', '.join(granted)}")


@contextmanager
def _reading(target: Warehouse) -> Iterator[Any]:
    """A connection to a warehouse that exists; a missing one fails in one line."""
    import sqlalchemy as sa

    from rxstaff.warehouse.connection import WarehouseUnavailable
    from rxstaff.warehouse.reading import NoWarehouse, existing_warehouse

    try:
        with existing_warehouse(target) as conn:
            yield conn
    except (NoWarehouse, WarehouseUnavailable) as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    except sa.exc.ProgrammingError as error:
        # A reader's role has no way into the schemas it may not read (warehouse/schemas.py):
        # their relations are refused, or not there at all on its search_path.
        hidden = 'relation "etl_' in str(error.orig) and "does not exist" in str(error.orig)
        if "permission denied" not in str(error.orig) and not hidden:
            raise
        first = str(error.orig).strip().splitlines()[0]
        errors.print(
            f"[red]error:[/] this role may not read what the command needs ({first}); "
            "auditors' commands need a role made by `rxstaff grant-audit`"
        )
        raise typer.Exit(2) from None


def _frame_table(title: str, frame: Any) -> Table:
    table = Table(*[str(c) for c in frame.columns], title=title, title_justify="left")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if v is None or v != v else str(v) for v in row])
    return table


def _print_chain(chain: Any) -> None:
    console.print(f"[bold]{chain.title}[/]")
    for name, value in chain.facts.items():
        if value is not None:
            console.print(f"  {name}: {value}")
    for link in chain.links:
        console.print(f"[bold]{link.what}[/]")
        if link.batch_id is None:
            console.print("  no loaded row (lineage unknown)")
            continue
        console.print(f"  file: {link.file_name}  row {link.row_number}  (batch {link.batch_id})")
        console.print(f"  sha256: {link.sha256}", soft_wrap=True)
        console.print(f"  file status: {link.file_status}")


def _show_metrics(target: Warehouse, year: int | None) -> None:
    from rxstaff.report import headline_tables

    with _reading(target) as conn:
        tables = headline_tables(conn, year)
    for table in tables:
        console.print(table)


def main() -> None:
    """The console entry point (``rxstaff``)."""
    # Leaving, the interpreter's last garbage collections walk every object Prefect, GX
    # and pandas made: a run's command waited longer for them than for its own summary
    # (docs/benchmark.md). Freezing them (gc.freeze, public since Python 3.7) skips only
    # those walks; atexit handlers, logging's flush and reference counting run as before,
    # and everything the run writes is committed and closed before it returns.
    atexit.register(gc.freeze)
    app()
