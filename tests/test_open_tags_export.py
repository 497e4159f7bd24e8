"""Commands people expect from Zotero, JabRef, papis and pubs: `open KEY` (the
DOI or web address in the browser, BROWSER played by a script), tags as
keywords filtered with `list --tag`, and the documented Makefile rule that
keeps a .bib in step with the store (run with the real make)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED_DOI

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """A BROWSER that writes the address it is given to a file."""
    seen = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{seen}"\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(script))
    return seen


def opened(seen: Path, count: int) -> list[str]:
    deadline = time.monotonic() + 10  # the browser is started, not waited for
    while time.monotonic() < deadline:
        lines = seen.read_text(encoding="utf-8").splitlines() if seen.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.02)
    return seen.read_text(encoding="utf-8").splitlines() if seen.exists() else []


def test_open_opens_the_doi_else_the_web_address(crossref, web, run, browser):
    keys = run("add", SEED_DOI, f"{web}/seed002").stdout.split()
    result = run("open", keys[0].upper())  # keys ignore case
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"https://doi.org/{SEED_DOI}\n"
    assert opened(browser, 1) == [f"https://doi.org/{SEED_DOI}"]
    page = run("open", keys[1])
    assert page.exit_code == 0, page.stderr
    assert opened(browser, 2)[1] == page.stdout.strip() and page.stdout.startswith("http")


def test_open_of_a_reference_with_no_address_and_of_a_mistyped_key(run, browser):
    added = run("add", "--manual", "--type", "book", "--title", "A book with no address", "--author", "Doe, Jane",
                "--year", "2001", "--set", "publisher=Press")
    key = added.stdout.strip()
    result = run("open", key)
    assert result.exit_code == 2 and "has neither a DOI nor a web address" in result.stderr
    missing = run("open", key + "x")
    assert missing.exit_code == 5 and f"(closest: {key})" in missing.stderr
    assert not browser.exists()


def test_tags_are_keywords_and_list_tag_filters_by_them(crossref, run):
    keys = run("add", SEED_DOI, "10.1038/srep16696", "10.1038/ng.3834").stdout.split()
    assert run("edit", keys[0], "--set", "keywords=soft power; Russia").exit_code == 0
    assert run("edit", keys[1], "--set", "keyword=FRET, Parkinson, to read").exit_code == 0
    tagged = run("list", "--tag", "russia")
    assert [line.split("\t")[0] for line in tagged.stdout.splitlines()] == [keys[0]]
    either = run("list", "--tag", "To Read", "--tag", "soft power")
    assert sorted(line.split("\t")[0] for line in either.stdout.splitlines()) == sorted(keys[:2])
    exported = run("export", "--format", "csl-json", "--tag", "fret")
    assert exported.exit_code == 0 and keys[1] in exported.stdout and keys[0] not in exported.stdout
    nothing = run("list", "--tag", "unread")
    assert nothing.stdout == "" and "no reference matches the filters" in nothing.stderr


def makefile_in_docs() -> str:
    page = (DOCS / "writing-a-paper.md").read_text(encoding="utf-8")
    block = page.split("<!-- auto-export Makefile", 1)[1].split("```make\n", 1)[1].split("```", 1)[0]
    return block


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_documented_makefile_keeps_the_bib_in_step(crossref, run, tmp_path, monkeypatch):
    monkeypatch.delenv("CITETOOL_STORE", raising=False)
    paper = tmp_path / "paper"
    (paper / "refs").mkdir(parents=True)
    (paper / "citetool.toml").write_text('store = "refs/library.json"\n', encoding="utf-8")
    (paper / "Makefile").write_text(makefile_in_docs(), encoding="utf-8")
    monkeypatch.chdir(paper)
    assert run("add", SEED_DOI).exit_code == 0
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "CITETOOL": f"{sys.executable} -m citetool"}

    def make() -> subprocess.CompletedProcess:
        return subprocess.run(["make"], cwd=paper, env=env, capture_output=True, text=True, timeout=120)

    first = make()
    assert first.returncode == 0, first.stdout + first.stderr
    assert re.findall(r"^@\w+\{([^,]+),", (paper / "refs.bib").read_text(encoding="utf-8"), re.M) == ["arduino2021russia"]
    assert "up to date" in make().stdout + make().stderr or "Nothing to be done" in make().stdout
    assert run("add", "10.1038/srep16696").exit_code == 0
    later = (paper / "refs.bib").stat().st_mtime + 2  # the store is newer (whatever the clock's resolution)
    os.utime(paper / "refs" / "library.json", (later, later))
    again = make()
    assert again.returncode == 0, again.stderr
    assert re.findall(r"^@\w+\{([^,]+),", (paper / "refs.bib").read_text(encoding="utf-8"), re.M) == [
        "arduino2021russia", "tosatto2015single"]
