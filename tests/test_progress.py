"""Progress on the commands that can take more than a second (add, refresh,
check, upgrade, import --resolve, styled exports): a bar on stderr when stderr
is a terminal (a real pseudo-terminal here), nothing at all when it is piped,
and stdout the same data either way. Servers are real, on 127.0.0.1."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ALL_WORKS

from citetool import Library

HERE = Path(__file__).resolve().parent
SPEED = HERE / "fixtures" / "speed"
DOIS = sorted(ALL_WORKS)[:25]  # at least 20: a bar is shown from 20 items
BAR_MARKS = ("\r", "\x1b", "━")  # what a rich bar writes: carriage returns, escapes, its bar


def _env(store: Path) -> dict:
    env = {**os.environ, "CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(store.parent / "cache")}
    env.pop("NO_COLOR", None)
    if env.get("PYTHONPATH"):  # the child may run elsewhere: PYTHONPATH=. must still mean this checkout
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep))
    return env


def piped(store: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "citetool", *args], input=stdin, capture_output=True,
                          env=_env(store), check=False, timeout=120)


def on_a_terminal(store: Path, *args: str) -> tuple[bytes, str]:
    """Run with stderr on a pseudo-terminal: (stdout bytes, what the terminal showed)."""
    master, slave = pty.openpty()
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its end
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {**_env(store), "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.run([sys.executable, "-m", "citetool", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=slave, env=env, check=False, timeout=120)
    os.close(slave)
    reader.join(10)
    os.close(master)
    assert proc.returncode in (0, 3), shown.decode(errors="replace")
    return proc.stdout, shown.decode(errors="replace")


@pytest.fixture
def speed_store(tmp_path) -> Path:
    store = tmp_path / "store.json"
    store.write_bytes((SPEED / "store.json").read_bytes())
    return store


def test_a_piped_styled_export_prints_only_its_data(speed_store):
    result = piped(speed_store, "export", "-f", "text", "--style", "apa")
    assert result.returncode == 0
    assert result.stdout == (SPEED / "out" / "export-apa.txt").read_bytes()
    assert result.stderr == b""


def test_a_styled_export_shows_progress_on_a_terminal_and_the_same_data(speed_store):
    stdout, shown = on_a_terminal(speed_store, "export", "-f", "html", "--style", "modern-language-association")
    assert stdout == (SPEED / "out" / "export-modern-language-association.html").read_bytes()
    assert "formatting" in shown and "━" in shown


@pytest.fixture
def stored_works(crossref, tmp_path) -> Path:
    store = tmp_path / "store.json"
    assert piped(store, "add", *DOIS).returncode == 0
    return store


@pytest.mark.parametrize("args", [("refresh",), ("check", "--all"), ("upgrade", "--dry-run")])
def test_piped_long_commands_write_no_progress(stored_works, args):
    result = piped(stored_works, *args)
    assert result.returncode in (0, 3), result.stderr
    assert result.stdout.strip() or args[0] == "upgrade"  # no preprint among these works
    assert not any(mark in result.stderr.decode() for mark in BAR_MARKS), result.stderr


@pytest.mark.parametrize(("args", "what"), [(("refresh",), "refreshing"), (("check", "--all"), "checking")])
def test_long_commands_show_progress_on_a_terminal(stored_works, args, what):
    stdout, shown = on_a_terminal(stored_works, *args)
    assert stdout.strip() and what in shown


def test_import_resolve_shows_progress_on_a_terminal_and_none_piped(crossref, tmp_path):
    csl = [{"id": f"w{i}", "type": "article-journal", "title": f"Work {i}", "DOI": doi} for i, doi in enumerate(DOIS)]
    source = tmp_path / "works.json"
    source.write_text(json.dumps(csl), encoding="utf-8")
    quiet = piped(tmp_path / "a.json", "import", "--resolve", str(source))
    assert quiet.returncode == 0, quiet.stderr
    assert not any(mark in quiet.stderr.decode() for mark in BAR_MARKS), quiet.stderr
    stdout, shown = on_a_terminal(tmp_path / "b.json", "import", "--resolve", str(source))
    assert stdout == quiet.stdout and "resolving" in shown


def test_the_library_reports_progress_up_to_the_total(stored_works):
    lib = Library(stored_works)
    seen: list[tuple[int, int]] = []
    lib.refresh(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(DOIS), len(DOIS)) and len(seen) >= 2
    seen.clear()
    lib.render("text", list(lib.records.values()), "apa", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, len(DOIS)) for i in range(len(DOIS) + 1)]
