"""Architecture contracts (``.importlinter``, checked by import-linter): the engine imports no
Django, Celery or app; the layers go one way (diptych > scoring > annotation > projects >
engine); services never import pages, the API or Celery tasks; no import cycles between the
modules of a package, imports inside functions included.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = ("The engine is a pure library", "Layers:", "No import cycles",
             "Services never import")


def lint_imports(cwd: Path, config: Path = CONFIG) -> subprocess.CompletedProcess:
    assert LINT_IMPORTS.exists(), f"import-linter is not installed next to {sys.executable}"
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)], cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
                          capture_output=True, text=True, timeout=300)


def contract_lines(output: str) -> dict[str, str]:
    """Contract name prefix -> KEPT / BROKEN, read from lint-imports' summary."""
    flat = " ".join(output.split())
    return {name: m.group(1) for name in CONTRACTS
            if (m := re.search(re.escape(name) + r".*? (KEPT|BROKEN)", flat))}


def test_the_code_keeps_every_contract():
    result = lint_imports(REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert contract_lines(output) == {name: "KEPT" for name in CONTRACTS}, output


def write(root: Path, module: str, source: str = "") -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")


def test_each_contract_fails_on_code_that_breaks_it(tmp_path):
    """The same contracts on a small tree that breaks each one: every one is reported."""
    for package in ("clustering_engine", "projects", "annotation", "scoring", "diptych"):
        write(tmp_path, f"{package}.__init__")
    write(tmp_path, "clustering_engine.grid", "import django\n")               # engine -> Django
    write(tmp_path, "projects.services", "def f():\n    from scoring import views\n"  # upward
          "def g():\n    from projects import tasks\n")                     # a task, hidden
    write(tmp_path, "projects.tasks", "")
    write(tmp_path, "scoring.views", "")
    # a cycle whose back edge is hidden in a function
    write(tmp_path, "annotation.api", "from annotation import views\n")
    write(tmp_path, "annotation.views", "def f():\n    from annotation import api\n")
    for module in ("projects.views", "projects.api", "annotation.services", "scoring.services",
                   "scoring.tasks", "scoring.api"):                            # named by contracts
        write(tmp_path, module)
    config = tmp_path / "contracts.ini"
    shutil.copy(CONFIG, config)
    result = lint_imports(tmp_path, config)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert contract_lines(output) == {name: "BROKEN" for name in CONTRACTS}, output
    assert "clustering_engine.grid -> django" in output
    assert "projects.services -> scoring.views" in output
    assert "projects.services -> projects.tasks" in output
    assert ".views -> .api" in output or ".api -> .views" in output
