"""The manual stays true: every command, option of note, environment variable
and exit code the code defines is documented in the README or in docs/."""

import re
from pathlib import Path

from citetool.cli import app
from citetool.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))}
MANUAL = README + "\n".join(DOCS.values())


def test_every_command_is_documented_with_an_example():
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert f"`{name}" in DOCS["commands.md"], f"docs/commands.md does not document `{name}`"
        assert "Example" in (command.help or ""), f"`citetool {name} --help` has no example"


def test_every_environment_variable_is_documented():
    used = set()
    for path in (ROOT / "citetool").rglob("*.py"):
        used |= set(re.findall(r"CITETOOL_[A-Z_]+", path.read_text(encoding="utf-8")))
    for name in sorted(used):
        assert f"`{name}`" in DOCS["configuration.md"], f"{name} is read by citetool but not in docs/configuration.md"


def test_every_exit_code_is_documented():
    table = DOCS["commands.md"].split("## Exit codes", 1)[1].split("\n#", 1)[0]
    for code in ExitCode:
        assert f"| {int(code)} |" in table, f"exit code {int(code)} ({code.name}) is not in docs/commands.md"


def test_the_two_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in README and "pip install -e '.[test]'" in ci
    assert "\npytest\n" in ci + "\n" and "pytest " in README


def test_the_python_api_example_runs(crossref, econpapers, tmp_path, monkeypatch, capsys):
    code = DOCS["python-api.md"].split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/python-api.md", "exec"), {})
    out = capsys.readouterr().out
    assert "added arduino2021russia None" in out
    assert "@article{arduino2021russia," in out and "note = {Read for chapter 2}" in out
    assert "Arduino, A., & Shuja, A. (2021)." in out
    assert "('Arduino2021russia', 'arduino2021russia', 'stored'), ('doi:10.1080/14751798.2021.1995963', 'arduino2021russia', 'stored')] []" in out


def test_readme_fits_on_a_screen_and_every_link_into_docs_resolves():
    assert len(README.splitlines()) <= 300
    for page, text in {"README.md": README, **{f"docs/{name}": body for name, body in DOCS.items()}}.items():
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text):
            base = ROOT if page == "README.md" else ROOT / "docs"
            assert (base / target).is_file(), f"{page} links to {target}, which does not exist"


def test_the_character_table_spells_a_backquote_as_the_exports_do():
    from citetool.formats.latex_text import BIBLATEX, CLASSIC, UNICODE, escape

    row = next(line for line in DOCS["formats.md"].splitlines() if line.startswith("| a backquote"))
    cells = [cell.strip() for cell in row.strip("|").split(" | ")]
    assert [re.fullmatch(r"`` (.+) ``", cell).group(1) for cell in cells[1:4]] == \
        [escape("Lavrent`yeva", mode).removeprefix("Lavrent").removesuffix("yeva") for mode in (CLASSIC, BIBLATEX, UNICODE)]
