"""One installed name, every data file shipped, and imports that run one way."""

from __future__ import annotations

import ast
import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Installed name of each top-level folder of the repository.
FOLDERS = {
    "app": "rxstaff",
    "flows": "rxstaff.flows",
    "transforms": "rxstaff.transforms",
    "expectations": "rxstaff.expectations",
    "warehouse": "rxstaff.warehouse",
}
DATA = ("*.sql", "*.yml", "*.json", "*.csv")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # Two pytest-xdist workers may build at once; they share the checkout's build/ folder,
    # and one wheel came out holding nothing but its metadata. One build at a time.
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
             "-w", str(out), str(ROOT)],
            check=True, capture_output=True,
        )  # fmt: skip
    return zipfile.ZipFile(next(out.glob("rxstaff-*.whl")))


def test_the_wheel_installs_one_top_level_name(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"rxstaff"}


def test_the_wheel_ships_every_data_file(wheel: zipfile.ZipFile) -> None:
    shipped = set(wheel.namelist())
    for folder, package in FOLDERS.items():
        for pattern in DATA:
            for path in (ROOT / folder).rglob(pattern):
                inside = path.relative_to(ROOT / folder).as_posix()
                assert f"{package.replace('.', '/')}/{inside}" in shipped, path


def module_imports() -> dict[str, set[str]]:
    """rxstaff module -> the rxstaff modules it imports at module level."""
    graph: dict[str, set[str]] = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found = set()
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rxstaff"):
                    found.add(node.module or "")
                    found |= {f"{node.module}.{a.name}" for a in node.names}
                elif isinstance(node, ast.Import):
                    found |= {a.name for a in node.names if a.name.startswith("rxstaff")}
            graph[name] = found
    return {m: {i for i in imports if i in graph} for m, imports in graph.items()}


def installed_layout(root: Path, folders: dict[str, str] = FOLDERS) -> Path:
    """The package as pip lays it out (app/ is rxstaff, flows/ rxstaff.flows, ...), copied
    under ``root``: what import-linter reads (it cannot see through package-dir)."""
    for folder, package in folders.items():
        shutil.copytree(
            ROOT / folder,
            root / package.replace(".", "/"),
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return root


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--no-logo",
               "--config", str(ROOT / "pyproject.toml")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)


def test_the_import_contracts_hold(tmp_path: Path) -> None:
    done = lint_imports(installed_layout(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("warehouse/schema.py", "import rxstaff.flows.nightly", "rxstaff.warehouse is not allowed"),
        ("transforms/staging.py", "import os", "Transforms do no I/O"),
        ("expectations/suite.py", "from rxstaff import settings", "rxstaff.expectations is not"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    tree = installed_layout(tmp_path)
    folder, name = module.split("/")
    target = tree / FOLDERS[folder].replace(".", "/") / name
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout
    assert broken in done.stdout


def test_transforms_open_no_file() -> None:
    """import-linter sees imports; a call of the builtin ``open`` needs none."""
    for path in (ROOT / "transforms").rglob("*.py"):
        calls = {
            n.func.id
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        assert "open" not in calls, path.name


def test_no_import_cycle() -> None:
    graph = module_imports()
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == 2:
            return
        assert state.get(module) != 1, " -> ".join([*trail, module])
        state[module] = 1
        for imported in sorted(graph[module]):
            visit(imported, [*trail, module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])


def test_the_version_moves_with_the_schema() -> None:
    import re
    import tomllib

    from rxstaff.warehouse.schema import latest_version

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\S+) \(.*\) - schema (\d+)$", changelog, re.MULTILINE)
    assert newest, "CHANGELOG.md opens each version with '## X.Y.Z (date) - schema N'"
    assert newest.group(1) == version, "pyproject's version is the newest in CHANGELOG.md"
    assert int(newest.group(2)) == latest_version(), "the newest version names its schema"
    assert "### Schema and data changes" in changelog.split("\n## ")[1]


def test_what_the_demo_leaves_is_ignored_by_git_and_removed_by_make_clean(tmp_path: Path) -> None:
    """`make run` is the demo: its landing folder, warehouse (with its lock and validation
    project) and report are covered by .gitignore, and `make clean` removes them all."""
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    env = {**os.environ, "RXSTAFF_SETTLE_SECONDS": "0"}
    env.pop("PREFECT_API_URL", None)
    demo = subprocess.run(
        [str(Path(sys.executable).with_name("rxstaff")), "demo", "--employees", "20"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    made = {p.name for p in tmp_path.iterdir()} - {".git", ".gitignore"}
    assert {"sample_landing", "warehouse.duckdb", "report"} <= made
    run_the_readme_audit_examples(tmp_path, env)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert status.stdout.strip() == ".gitignore" or status.stdout.strip() == "?? .gitignore"
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "clean"], cwd=tmp_path, check=True)
    assert {p.name for p in tmp_path.iterdir()} == {".git", ".gitignore"}


def run_the_readme_audit_examples(demo: Path, env: dict[str, str]) -> None:
    """The README's lines "For auditors", on the demo's warehouse as `make run` leaves
    it: RUN_ID and EMPLOYEE_KEY@DATE are the README's placeholders, filled from it."""
    import duckdb

    from tests.processes import readme_block

    with duckdb.connect(str(demo / "warehouse.duckdb"), read_only=True) as con:
        run_id = con.execute("SELECT MAX(run_id) FROM etl_run").fetchone()[0]
        key, day = con.execute(
            "SELECT employee_key, event_date FROM fct_career_event ORDER BY event_date LIMIT 1"
        ).fetchone()
    block = readme_block("**For auditors**", "```\n")
    lines = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert len(lines) >= 5
    for line in lines:
        line = line.replace("RUN_ID", run_id).replace("EMPLOYEE_KEY@2024-03-01", f"{key}@{day}")
        command = [str(Path(sys.executable).with_name("rxstaff")), *line.split()[1:]]
        done = subprocess.run(command, cwd=demo, env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, (line, done.stdout[-1500:], done.stderr[-1500:])
