"""citetool in scripts and pipes: closed pipes and streams, Windows-saved
identifier lists, usage errors, and the injectable Environment (no patching)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SEED_DOI

from citetool.cli import run as run_cli
from citetool.environment import Environment
from citetool.errors import ExitCode

SEED_KEY = "arduino2021russia"
ROOT = Path(__file__).resolve().parents[1]


def big_store(path: Path, n: int = 20000) -> None:
    refs = [{"id": f"k{i:05d}", "type": "book", "title": f"A rather long title, number {i} " * 5,
             "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[2000 + i % 20]]}}
            for i in range(n)]
    path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": refs}), encoding="utf-8")


def citetool(*args: str, **kwargs) -> list[str]:
    return [sys.executable, "-m", "citetool", *args]


def child_env(store: Path) -> dict:
    env = dict(os.environ, CITETOOL_STORE=str(store), PYTHONPATH=str(ROOT))
    return env


def test_a_reader_that_goes_away_ends_citetool_quietly(tmp_path):
    store = tmp_path / "big.json"
    big_store(store)
    for args in (["list"], ["list", "--json"], ["export"], ["export", "-f", "ris"], ["show", "k00001"]):
        proc = subprocess.Popen(citetool(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=child_env(store))
        proc.stdout.readline()
        proc.stdout.close()  # as `| head -1` does
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0, (args, stderr)
        assert stderr == "", (args, stderr)


def test_a_closed_stdout_is_one_line_and_leaves_the_store_alone(tmp_path):
    store = tmp_path / "big.json"
    big_store(store, 10)
    before = store.read_bytes()
    for args in ("export", "list", "add --manual --type book --title T --author 'Doe, J' --year 2020 --set publisher=P"):
        proc = subprocess.run(["sh", "-c", f'"$0" -m citetool {args} >&-', sys.executable],
                              capture_output=True, text=True, env=child_env(store), timeout=60)
        assert proc.returncode == ExitCode.USAGE, proc.stderr
        assert proc.stderr == "citetool: error: stdout is closed: redirect it to a file or to /dev/null\n"
    assert store.read_bytes() == before


def test_identifier_lists_saved_on_windows_work(crossref, run, tmp_path):
    text = "\ufeff" + f"{SEED_DOI}\r\n# a comment\r\n\r\n"
    result = run("add", "-", input=text)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{SEED_KEY}\n"
    listing = tmp_path / "dois.txt"
    listing.write_bytes(text.encode("utf-8"))  # BOM + CRLF, as Notepad saves it
    result = run("add", "--from", str(listing))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{SEED_KEY}\n"


def test_usage_errors_are_citetool_errors(run):
    for args, says in ((["list", "--nope"], "no such option: --nope"),
                       (["frob"], "no such command 'frob'"),
                       (["show"], "missing argument 'key'"),
                       (["export", "-f"], "option '-f' requires an argument")):
        result = run(*args)
        assert result.exit_code == ExitCode.USAGE, args
        assert result.stderr.startswith(f"citetool: error: {says}"), result.stderr
        assert len(result.stderr.splitlines()) == 1 and "Usage:" not in result.stderr


def test_the_environment_is_injected_not_patched(tmp_path):
    """A terminal's stdout gets a table without control characters; the store
    comes from the Environment's variables, not the process's."""
    store = tmp_path / "injected.json"
    ref = {"id": "doe2020evil", "type": "book", "title": "Evil \x1b]0;pwned\x07title \x1b[2J here\x9b",
           "author": [{"family": "Doe\x1b[31m", "given": "Jane"}], "issued": {"date-parts": [[2020]]}}
    store.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": [ref]}), encoding="utf-8")
    for args in (["list"], ["show", "doe2020evil"], ["export", "-f", "text"], ["export"]):
        stdout, stderr = io.StringIO(), io.StringIO()
        env = Environment(stdin=io.StringIO(""), stdout=stdout, stderr=stderr, stdout_isatty=True,
                          environ={"CITETOOL_STORE": str(store), "NO_COLOR": "1"})
        assert run_cli(args, env) == 0, stderr.getvalue()
        text = stdout.getvalue()
        assert "Evil" in text and "title" in text, (args, text)
        assert not any(ord(c) < 32 and c not in "\t\n" or 0x7F <= ord(c) < 0xA0 for c in text), (args, repr(text))
    # Not a terminal: list's tab-separated form
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO(""), stdout=stdout, stderr=io.StringIO(), stdout_isatty=False,
                      environ={"CITETOOL_STORE": str(store)})
    assert run_cli(["list"], env) == 0
    assert stdout.getvalue().startswith("doe2020evil\tbook\t2020\t")


def test_messages_use_the_right_article(run):
    result = run("add", "--manual", "--type", "article-journal", "--title", "T")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("citetool: error: an article-journal needs author, container-title, issued")
    result = run("add", "--manual", "--type", "book", "--title", "T")
    assert result.stderr.startswith("citetool: error: a book needs")


def test_ctrl_c_says_what_was_saved(tmp_path):
    import signal
    import time

    sys.path.insert(0, str(ROOT / "bench"))
    from fake_crossref import FakeCrossref, bench_doi

    store = tmp_path / "store.json"
    dois = "\n".join(bench_doi(i) for i in range(3000)) + "\n"
    with FakeCrossref(latency=0.4, single_rate=1000, list_rate=1000, concurrency=2) as fake:
        env = dict(child_env(store), CITETOOL_CROSSREF_URL=fake.url, CITETOOL_CACHE_DIR=str(tmp_path / "cache"),
                   CITETOOL_CROSSREF_CONCURRENCY="1")
        proc = subprocess.Popen(citetool("add", "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, text=True)
        proc.stdin.write(dois)
        proc.stdin.close()
        proc.stdin = None  # communicate() below must not flush it again
        deadline = time.monotonic() + 60
        while not store.exists() and time.monotonic() < deadline:  # the first save of the run
            time.sleep(0.05)
        assert store.exists(), proc.stderr.read() if proc.poll() is not None else "no save within 60 s"
        proc.send_signal(signal.SIGINT)
        interrupted_at = time.monotonic()
        stdout, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - interrupted_at
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    # Ctrl-C stops the asking too: the ~30 list queries left (0.4 s each, one at a time) are not waited for
    assert took < 8, f"{took:.1f} s from Ctrl-C to the end"
    saved = len(json.loads(store.read_text(encoding="utf-8"))["references"])
    assert 0 < saved < 3000
    assert f"citetool: interrupted; what was done before it is saved: {store} now holds {saved} references" in stderr
    assert "Traceback" not in stderr


def test_a_command_ending_at_once_has_written_all_it_says_and_its_exit_code(tmp_path):
    """The command line ends its process without the interpreter's teardown
    (cli._leave): what it wrote to a pipe, stdout and stderr, is all there."""
    store = tmp_path / "big.json"
    big_store(store, 3000)
    piped = subprocess.run(citetool("export", "-f", "ris"), capture_output=True, env=child_env(store), timeout=120)
    assert piped.returncode == 0 and piped.stderr == b""
    written = tmp_path / "out.ris"
    assert subprocess.run(citetool("export", "-f", "ris", "-o", str(written)), env=child_env(store), timeout=120).returncode == 0
    assert piped.stdout == written.read_bytes() and piped.stdout.count(b"\nER  -") == 3000
    missing = subprocess.run(citetool("show", "nosuchkey"), capture_output=True, text=True, env=child_env(store),
                             timeout=60)
    assert missing.returncode == ExitCode.NOT_IN_STORE and missing.stdout == ""
    assert missing.stderr.startswith("citetool: error: no reference with key 'nosuchkey'") and missing.stderr.endswith("\n")
