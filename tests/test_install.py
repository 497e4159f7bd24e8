"""A plain `pip install` has every feature: each library citetool imports is
a runtime dependency, and every command runs once without an internal error."""

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_library_is_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_normal(re.split(r"[\s<>=!~;\[]", dep, maxsplit=1)[0]) for dep in project["dependencies"]}
    imported: set[str] = set()
    for path in (ROOT / "citetool").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = sorted(m for m in imported if m not in sys.stdlib_module_names and m != "citetool")
    distributions = packages_distributions()
    for module in third_party:
        owners = {_normal(d) for d in distributions.get(module, [])}
        assert owners, f"{module} is imported by citetool but not installed"
        assert owners & runtime, f"{module} ({', '.join(sorted(owners))}) is not in [project.dependencies]"


def test_every_command_runs_once():
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "smoke.py")], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
