"""`rxstaff bench`: the pipeline measured against the floor, on this machine, as ratios.

Each measurement runs as its own process (the real CLI, Prefect included) and its peak
RSS comes from the kernel (``wait4``). Figures go to a table and to ``bench.json``.

Every nightly run talks to a Prefect server the benchmark starts on 127.0.0.1, as a
worker's runs do (``PREFECT_API_URL``); one run without it measures a standalone run (no
server at all), which must cost what a worker's run costs, within 1.5 s.

(s) start-up:   ``rxstaff --help``, importing the flow, a run with nothing new (medians)
(a) floor:      DuckDB alone reading the same roster and budget CSVs into tables
(b) rebuild:    ``rxstaff nightly`` into an empty DuckDB warehouse (all but the last night);
                also staged on a local Dask cluster of 1 and of 2 workers
(c) increment:  the last night (one weekly snapshot, that day's budget file) on the
                multi-year warehouse and on a one-year warehouse; medians of --repeat runs;
                also the night's seconds over a run with nothing new
(d) rebuild:    the same as (b) into PostgreSQL, where a URL is given
(m) 1M rows:    floor and rebuild of 10,000 employees x 2 years (1.03M roster rows)
(e) peak RSS of each (the largest single process: a Dask worker counts on its own)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rxstaff.settings import validation_project
from rxstaff.warehouse.connection import Warehouse

TARGETS = {
    "rebuild_vs_floor": 2.0,
    "rebuild_1m_vs_floor": 3.0,
    "nothing_new_seconds": 6.0,
    "increment_5y_vs_nothing_new": 1.2,
    "increment_5y_vs_1y": 1.5,
    "postgres_vs_duckdb": 2.0,
    "dask_2_vs_1_workers": 1.0,
    "rebuild_peak_rss_gib": 4.0,
}
MILLION = (10_000, 2)  # employees, years: 1.03M roster rows
START = date(2020, 1, 6)
# GX alone on a large history takes minutes per million rows: measured up to this size.
GX_REBUILD_MAX_ROWS = 2_000_000


@dataclass
class Measure:
    seconds: float
    peak_rss_mib: float


@dataclass(frozen=True)
class BenchPlan:
    """What one benchmark run measures."""

    employees: int
    years: int
    repeat: int
    postgres_url: str | None
    out: Path
    million: bool = True


def run_benchmark(
    employees: int,
    years: int,
    repeat: int,
    postgres_url: str | None,
    out: Path,
    console: Console,
    million: bool = True,
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    env = _environment(out)
    plan = BenchPlan(employees, years, repeat, postgres_url, out, million)
    with prefect_server(out, env, console):
        return _measure_all(plan, console, env)


def _measure_all(plan: BenchPlan, console: Console, env: dict[str, str]) -> dict:
    end = START + timedelta(days=365 * plan.years)
    landing = plan.out / f"landing_{plan.employees}x{plan.years}y"
    console.print(
        f"[bold]rxstaff bench[/]: {plan.employees:,} employees, {plan.years} year(s) of weekly "
        f"snapshots, repeat {plan.repeat}, in {plan.out}"
    )
    figures: dict[str, object] = {
        "machine": _machine(),
        "employees": plan.employees,
        "years": plan.years,
    }
    figures.update(_startup(console, env, plan.repeat))

    shutil.rmtree(landing, ignore_errors=True)
    figures["generate"] = _timed(
        console,
        "generate the landing folder",
        [
            _rxstaff(),
            "generate",
            "--out",
            str(landing),
            "--employees",
            str(plan.employees),
            "--start",
            START.isoformat(),
            "--end",
            end.isoformat(),
            "--seed",
            "1",
        ],
        env,
    )
    last = max(
        date.fromisoformat(p.stem.removeprefix("roster_"))
        for p in (landing / "roster").glob("roster_*.csv")
    )
    night_before = (last - timedelta(days=1)).isoformat()
    figures["roster_rows"] = _count_rows(landing / "roster")

    figures["floor"] = _median(
        plan.repeat,
        lambda: _timed(
            console,
            "(a) floor: DuckDB reads the CSVs",
            [sys.executable, "-c", FLOOR_SCRIPT, str(landing), str(plan.out / "floor.duckdb")],
            env,
        ),
    )

    base = plan.out / "rebuild.duckdb"
    base.unlink(missing_ok=True)
    figures["rebuild_duckdb"] = _timed(
        console,
        "(b) full rebuild into DuckDB",
        _nightly(landing, f"duckdb:///{base}", night_before),
        env,
    )

    # Great Expectations' own cost: the same rebuild validated by GX alone (the default
    # hands a large load to the suite compiled to SQL, GX checking a sample of every file).
    if int(figures["roster_rows"]) <= GX_REBUILD_MAX_ROWS:  # type: ignore[call-overload]
        gx_base = plan.out / "rebuild_gx.duckdb"
        gx_base.unlink(missing_ok=True)
        figures["rebuild_duckdb_gx"] = _timed(
            console,
            "(b) full rebuild into DuckDB, validated by GX alone",
            [*_nightly(landing, f"duckdb:///{gx_base}", night_before), "--validation", "gx"],
            env,
        )

    nothing_new = _nightly(landing, f"duckdb:///{base}", night_before)
    figures["nothing_new"] = _median(
        plan.repeat, lambda: _timed(console, "(s) a run with nothing new", nothing_new, env)
    )
    no_server = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    figures["nothing_new_standalone"] = _timed(
        console, "(s) a run with nothing new, standalone", nothing_new, no_server
    )
    for workers in (1, 2):
        dask_base = plan.out / f"rebuild_dask{workers}.duckdb"
        dask_base.unlink(missing_ok=True)
        figures[f"rebuild_dask_{workers}"] = _timed(
            console,
            f"(b) full rebuild into DuckDB, staged on Dask, {workers} worker(s)",
            [*_nightly(landing, f"duckdb:///{dask_base}", night_before), "--dask", "local"],
            {**env, "RXSTAFF_DASK_WORKERS": str(workers)},
        )
        dask_base.unlink(missing_ok=True)

    figures["increment_5y"] = _median(
        plan.repeat,
        lambda: _increment(
            console, "(c) one night on the full history", base, landing, last, env, plan.out
        ),
    )
    one_year = _last_year(landing, plan.out / "landing_last_year", last)
    base_1y = plan.out / "rebuild_1y.duckdb"
    base_1y.unlink(missing_ok=True)
    _timed(
        console,
        "    (one-year warehouse for comparison)",
        _nightly(one_year, f"duckdb:///{base_1y}", night_before),
        env,
    )
    figures["increment_1y"] = _median(
        plan.repeat,
        lambda: _increment(
            console, "(c) one night on one year", base_1y, one_year, last, env, plan.out
        ),
    )

    if plan.postgres_url:
        figures["rebuild_postgres"] = _postgres_rebuild(
            console, plan.postgres_url, landing, night_before, env
        )
    if plan.million:
        figures.update(_million(console, plan.out, env))
    figures["ratios"] = _ratios(figures)
    (plan.out / "bench.json").write_text(json.dumps(as_dict(figures), indent=2), encoding="utf-8")
    console.print(_table(figures))
    console.print(f"figures written to {plan.out / 'bench.json'}")
    return figures


def _startup(console: Console, env: dict[str, str], repeat: int) -> dict[str, Measure]:
    """What every run pays before it reads a file: the command, then the flow's imports."""
    help_command = [_rxstaff(), "--help"]
    flow_import = [sys.executable, "-c", "import rxstaff.flows.nightly"]
    return {
        "startup_help": _median(
            repeat, lambda: _timed(console, "(s) rxstaff --help", help_command, env)
        ),
        "startup_import_flow": _median(
            repeat, lambda: _timed(console, "(s) import the nightly flow", flow_import, env)
        ),
    }


def _million(console: Console, out: Path, env: dict[str, str]) -> dict[str, Measure]:
    """The floor and the rebuild of the 1.03M-row pharmacy (fixed costs weigh most here)."""
    employees, years = MILLION
    landing = out / f"landing_{employees}x{years}y"
    end = START + timedelta(days=365 * years)
    if not landing.exists():
        _timed(
            console,
            "    (generate the 1M-row landing folder)",
            [
                _rxstaff(), "generate", "--out", str(landing), "--employees", str(employees),
                "--start", START.isoformat(), "--end", end.isoformat(), "--seed", "1",
            ],
            env,
        )  # fmt: skip
    floor = out / "floor_1m.duckdb"
    base = out / "rebuild_1m.duckdb"
    base.unlink(missing_ok=True)
    figures = {
        "floor_1m": _timed(
            console,
            "(m) floor, 1M rows",
            [sys.executable, "-c", FLOOR_SCRIPT, str(landing), str(floor)],
            env,
        ),
        "rebuild_1m": _timed(
            console,
            "(m) full rebuild, 1M rows",
            _nightly(landing, f"duckdb:///{base}", end.isoformat()),
            env,
        ),
    }
    floor.unlink(missing_ok=True)
    base.unlink(missing_ok=True)
    return figures


@contextmanager
def prefect_server(out: Path, env: dict[str, str], console: Console) -> Iterator[None]:
    """A Prefect server on 127.0.0.1 for the runs (``env`` gains its URL), stopped after."""
    port = _free_port()
    log = (out / "prefect-server.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        with console.status("starting a Prefect server ..."):
            _wait_for(f"{api}/health", server)
        env["PREFECT_API_URL"] = api
        yield
    finally:
        env.pop("PREFECT_API_URL", None)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Prefect server exited ({server.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not answer {url} in {timeout:.0f} s")


FLOOR_SCRIPT = """
import sys, duckdb
landing, target = sys.argv[1], sys.argv[2]
con = duckdb.connect(target)
for source, pattern in (("roster", "roster/*.csv"), ("budget", "budget/*.csv")):
    con.execute(f"CREATE OR REPLACE TABLE {source} AS SELECT * FROM read_csv("
                f"'{landing}/{pattern}', union_by_name = true, all_varchar = true)")
con.close()
"""


def _environment(out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RXSTAFF_ID_SECRET", "rxstaff-bench-secret")
    # The bench writes its landing folders itself, just before loading them: nothing is
    # still arriving (by default a file modified in the last 30 s waits for the next run).
    env["RXSTAFF_SETTLE_SECONDS"] = "0"
    env["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-", dir=out)
    env.pop("RXSTAFF_WAREHOUSE_URL", None)
    return env


def _rxstaff() -> str:
    found = shutil.which("rxstaff", path=str(Path(sys.executable).parent)) or shutil.which(
        "rxstaff"
    )
    if not found:
        raise RuntimeError("the rxstaff command is not installed next to this Python")
    return found


def _nightly(landing: Path, url: str, run_date: str) -> list[str]:
    return [
        _rxstaff(),
        "nightly",
        "--landing",
        str(landing),
        "--warehouse",
        url,
        "--run-date",
        run_date,
    ]


def _timed(console: Console, label: str, command: list[str], env: dict[str, str]) -> Measure:
    """Run a command as a child process; wall time and the child's peak RSS."""
    with console.status(label + " ..."):
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None  # stdout=PIPE
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = output.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{label} failed ({process.returncode}):\n{tail}")
    measure = Measure(round(seconds, 2), round(usage.ru_maxrss / 1024, 1))
    console.print(f"{label}: {measure.seconds:.1f} s, peak {measure.peak_rss_mib:,.0f} MiB")
    return measure


def _median(repeat: int, measure) -> Measure:
    runs = [measure() for _ in range(max(repeat, 1))]
    return Measure(
        round(statistics.median(r.seconds for r in runs), 2),
        round(max(r.peak_rss_mib for r in runs), 1),
    )


def _increment(
    console: Console,
    label: str,
    base: Path,
    landing: Path,
    last: date,
    env: dict[str, str],
    out: Path,
) -> Measure:
    work = out / "increment.duckdb"
    shutil.copyfile(base, work)
    # The validation results kept so far too, where each warehouse keeps its own (not one
    # $RXSTAFF_GX_DIR for every run): a night's Data Docs list them all.
    results, work_results = (
        validation_project(Warehouse.at(f"duckdb:///{w}"), env) for w in (base, work)
    )
    copied = None
    if results and work_results and results != work_results and results.is_dir():
        shutil.rmtree(work_results, ignore_errors=True)
        copied = shutil.copytree(results, work_results)
    try:
        return _timed(console, label, _nightly(landing, f"duckdb:///{work}", last.isoformat()), env)
    finally:
        work.unlink(missing_ok=True)
        if copied:
            shutil.rmtree(copied, ignore_errors=True)


def _last_year(landing: Path, target: Path, last: date) -> Path:
    """A landing folder of the final year only (links to the same files)."""
    shutil.rmtree(target, ignore_errors=True)
    first = last - timedelta(days=364)
    for path in (
        p for folder in ("roster", "budget", "survey") for p in landing.glob(f"{folder}/*.csv")
    ):
        stamp = path.stem.rsplit("_", 1)[-1]
        day = date.fromisoformat(stamp) if "-" in stamp else date(int(stamp), 12, 31)
        if day >= first:
            (target / path.parent.name).mkdir(parents=True, exist_ok=True)
            _link(path, target / path.parent.name / path.name)
    return target


def _link(source: Path, target: Path) -> None:
    """The same file under a second name: a hard link (a symbolic one out of the landing
    folder is refused by a run, as any link out is), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _postgres_rebuild(
    console: Console, url: str, landing: Path, run_date: str, env: dict[str, str]
) -> Measure:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"rxstaff_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        target = make_url(url).set(database=name).render_as_string(hide_password=False)
        return _timed(
            console, "(d) full rebuild into PostgreSQL", _nightly(landing, target, run_date), env
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _count_rows(folder: Path) -> int:
    return sum(max(sum(1 for _ in p.open("rb")) - 1, 0) for p in folder.glob("*.csv"))


def _ratios(f: dict) -> dict[str, float | None]:
    def ratio(a: str, b: str) -> float | None:
        return round(f[a].seconds / f[b].seconds, 2) if a in f and b in f else None

    peak = max(f[k].peak_rss_mib for k in ("rebuild_duckdb", "rebuild_dask_2") if k in f)
    return {
        "rebuild_vs_floor": ratio("rebuild_duckdb", "floor"),
        "rebuild_1m_vs_floor": ratio("rebuild_1m", "floor_1m"),
        "nothing_new_seconds": f["nothing_new"].seconds,
        "increment_5y_vs_nothing_new": ratio("increment_5y", "nothing_new"),
        "increment_5y_vs_1y": ratio("increment_5y", "increment_1y"),
        "postgres_vs_duckdb": ratio("rebuild_postgres", "rebuild_duckdb"),
        "dask_2_vs_1_workers": ratio("rebuild_dask_2", "rebuild_dask_1"),
        "rebuild_peak_rss_gib": round(peak / 1024, 2),
        "generate_vs_rebuild": ratio("generate", "rebuild_duckdb"),
        "gx_alone_vs_default": ratio("rebuild_duckdb_gx", "rebuild_duckdb"),
        "standalone_over_server_seconds": round(
            f["nothing_new_standalone"].seconds - f["nothing_new"].seconds, 2
        ),
        # The night's own cost: unlike the ratio, it does not rise when the fixed cost a
        # night shares with a run with nothing new falls (docs/decisions.md).
        "increment_5y_over_nothing_new_seconds": round(
            f["increment_5y"].seconds - f["nothing_new"].seconds, 2
        ),
    }


def _table(f: dict) -> Table:
    table = Table(
        "measure",
        "seconds",
        "peak RSS MiB",
        title=f"rxstaff bench: {f['employees']:,} "
        f"employees x {f['years']} y, {f['roster_rows']:,} roster rows",
    )
    for key, label in (
        ("startup_help", "(s) rxstaff --help"),
        ("startup_import_flow", "(s) import the nightly flow"),
        ("nothing_new", "(s) a run with nothing new"),
        ("nothing_new_standalone", "(s) the same, standalone (no PREFECT_API_URL)"),
        ("generate", "generate landing folder"),
        ("floor", "(a) floor: DuckDB reads CSVs"),
        ("rebuild_duckdb", "(b) full rebuild, DuckDB"),
        ("rebuild_duckdb_gx", "(b) full rebuild, DuckDB, GX alone"),
        ("rebuild_dask_1", "(b) full rebuild, Dask, 1 worker"),
        ("rebuild_dask_2", "(b) full rebuild, Dask, 2 workers"),
        ("increment_5y", "(c) one night, full history"),
        ("increment_1y", "(c) one night, one year"),
        ("rebuild_postgres", "(d) full rebuild, PostgreSQL"),
        ("floor_1m", "(m) floor, 1M rows"),
        ("rebuild_1m", "(m) full rebuild, 1M rows"),
    ):
        if key in f:
            table.add_row(label, f"{f[key].seconds:,.1f}", f"{f[key].peak_rss_mib:,.0f}")
    targets = {
        **TARGETS,
        "generate_vs_rebuild": 1.0,
        "gx_alone_vs_default": float("inf"),
        "standalone_over_server_seconds": 1.5,
        "increment_5y_over_nothing_new_seconds": float("inf"),
    }
    for key, value in f["ratios"].items():
        limit = targets[key]
        verdict = "n/a" if value is None else ("met" if value <= limit else "MISSED")
        table.add_row(f"{key} (target <= {limit})", "-" if value is None else f"{value}", verdict)
    return table


def _machine() -> dict[str, object]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }


def as_dict(figures: dict) -> dict:
    return {k: asdict(v) if isinstance(v, Measure) else v for k, v in figures.items()}
