"""A large export rendered by forked workers gives the very bytes one process
renders (citetool/formats/render_workers.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "fixtures" / "speed" / "out"

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


def _python(code: str, **env: str) -> str:
    """``code`` run in a fresh python (one thread: the workers may fork), its stdout."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent), **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@linux_only
def test_each_share_is_rendered_by_its_own_process_and_comes_back_in_order():
    out = _python("import os; from citetool.formats.render_workers import rendered_in_workers\n"
                  "texts = rendered_in_workers(lambda n: f'{n}:{os.getpid()}', range(10))\n"
                  "print(os.getpid()); print(*texts)", CITETOOL_WORKERS="3")
    parent, texts = out.splitlines()
    numbers, pids = zip(*(text.split(":") for text in texts.split()), strict=True)
    assert [int(n) for n in numbers] == list(range(10))
    assert len(set(pids)) == 3 and pids[0] == parent  # the first share here, two in forked copies


@linux_only
def test_a_failing_worker_has_its_share_rendered_here_and_its_error_raised_as_without_workers():
    out = _python("import os; from citetool.formats.render_workers import rendered_in_workers\n"
                  "parent = os.getpid()\n"
                  "def render(n):\n"
                  "    if os.getpid() != parent and n == 7: os.kill(os.getpid(), 9)  # a copy killed\n"
                  "    return f'{n}:{os.getpid() == parent}'\n"
                  "print(*rendered_in_workers(render, range(10)))\n"
                  "def broken(n):\n"
                  "    if n == 8: raise ValueError('entry 8')\n"
                  "    return str(n)\n"
                  "try: rendered_in_workers(broken, range(10))\n"
                  "except ValueError as exc: print(exc)", CITETOOL_WORKERS="2")
    texts, error = out.splitlines()
    assert texts.split() == [f"{n}:True" for n in range(5)] + [f"{n}:True" for n in range(5, 10)]
    assert error == "entry 8"


@linux_only
@pytest.mark.parametrize("where", ["while the parent renders its share", "while the parent waits for a copy"])
def test_an_interrupted_render_leaves_no_copy_running_nor_unreaped(where):
    """A Ctrl-C (KeyboardInterrupt) in the parent: every forked copy is killed and reaped before
    it goes on, not left rendering its share as an orphan (the copies here would sleep 60 s)."""
    interrupt = ("    if n == 1: raise KeyboardInterrupt\n" if where.startswith("while the parent renders")
                 else "    if n == 0: signal.alarm(1)  # the parent is then waiting on a copy's pipe\n")
    out = _python("import os, signal, time\n"
                  "from citetool.formats import render_workers\n"
                  "def alarm(*_): raise KeyboardInterrupt\n"
                  "signal.signal(signal.SIGALRM, alarm)\n"
                  "parent, forked, fork = os.getpid(), [], os.fork\n"
                  "def counted():\n"
                  "    pid = fork()\n"
                  "    if pid: forked.append(pid)\n"
                  "    return pid\n"
                  "os.fork = counted\n"
                  "def render(n):\n"
                  "    if os.getpid() != parent: time.sleep(60)\n"
                  + interrupt +
                  "    return str(n)\n"
                  "try: render_workers.rendered_in_workers(render, range(9))\n"
                  "except KeyboardInterrupt: print('interrupted')\n"
                  "for pid in forked:\n"
                  "    try: os.waitpid(pid, os.WNOHANG); print('unreaped', pid)\n"
                  "    except ChildProcessError: print('reaped')\n", CITETOOL_WORKERS="3")
    assert out.split() == ["interrupted", "reaped", "reaped"]


def test_the_worker_count_follows_the_setting_and_the_size(monkeypatch):
    from citetool.formats.render_workers import ENTRIES_PER_WORKER, worker_count

    monkeypatch.setenv("CITETOOL_WORKERS", "4")
    assert worker_count(100) == 4 and worker_count(3) == 3
    for setting in ("1", "0", "many", "-2", "²", "2.5"):  # "²".isdigit(), and int() refuses it
        monkeypatch.setenv("CITETOOL_WORKERS", setting)
        assert worker_count(100_000) == 1
    monkeypatch.delenv("CITETOOL_WORKERS")
    assert worker_count(ENTRIES_PER_WORKER - 1) == 1  # too few to be worth a fork


@linux_only
@pytest.mark.parametrize("fmt, golden", [("bibtex", "export.bib"), ("biblatex", "export.biblatex.bib")])
@pytest.mark.parametrize("cache", ["on", "off"])
def test_an_export_rendered_by_workers_prints_the_pinned_bytes(tmp_path, fmt, golden, cache):
    store = HERE / "fixtures" / "speed" / "store.json"
    out = tmp_path / "out.bib"
    env = {"CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(tmp_path / "cache"), "CITETOOL_WORKERS": "3",
           "CITETOOL_EXPORT_CACHE": cache}
    _python(f"import sys; sys.argv = ['citetool', 'export', '-f', {fmt!r}, '-o', {str(out)!r}]\n"
            "from citetool.cli import main; main()", **env)
    assert out.read_bytes() == (GOLDEN / golden).read_bytes()


@linux_only
@pytest.mark.parametrize("fmt, variant", [("bibtex", "bibtex"), ("biblatex", "biblatex"), ("ris", "ris")])
def test_a_first_export_by_workers_files_each_entry_under_the_digest_one_process_gives(tmp_path, fmt, variant):
    """With nothing cached, each entry's digest is made beside it, in the workers:
    the cache file holds what one process files, and serves the same bytes again."""
    import orjson

    store = HERE / "fixtures" / "speed" / "store.json"
    filed = {}
    for workers in ("1", "3"):
        cache = tmp_path / f"cache-{workers}"
        env = {"CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(cache), "CITETOOL_WORKERS": workers}
        outs = []
        for run in ("first", "again"):
            out = tmp_path / f"{workers}-{run}.out"
            _python(f"import sys; sys.argv = ['citetool', 'export', '-f', {fmt!r}, '-o', {str(out)!r}]\n"
                    "from citetool.formats import render_workers; render_workers.ENTRIES_PER_WORKER = 1\n"
                    "from citetool.library import Library; Library.EXPORT_CACHE_FROM = 1\n"
                    "from citetool.cli import main; main()", **env)
            outs.append(out.read_bytes())
        assert outs[0] == outs[1]
        entries = orjson.loads((cache / "exports" / f"{variant}.json").read_bytes())["entries"]
        filed[workers] = {digest: text for digest, (text, _day) in entries.items()}
        filed[workers + "-out"] = outs[0]
    assert filed["1"] == filed["3"] and len(filed["1"]) >= 95
    assert filed["1-out"] == filed["3-out"]
