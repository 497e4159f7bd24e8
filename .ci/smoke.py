"""Run every citetool command once, as a user would, and fail on an internal
error (exit 1, a traceback, a module that is not installed).

    python .ci/smoke.py CITETOOL...    e.g. python .ci/smoke.py /tmp/venv/bin/citetool

CI runs it against a plain `pip install .` (no extras) in a fresh venv, so a
feature whose library is only a test extra fails here; tests/test_smoke.py
runs it against the checkout. No network: every service URL points at a
closed local port, so the commands that ask a service end with exit 3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DEAD = "http://127.0.0.1:9"

RIS = """TY  - JOUR
AU  - Ünal, Çağrı
TI  - A RIS entry
T2  - Journal of Tests
PY  - 2019
VL  - 3
""" + "ER  - \n"  # RIS ends a record with "ER  - " (the space included)
BIB = "@book{roe2018book, author = {Roe, Richard}, title = {A Bib{\\TeX} book}, publisher = {Press}, year = {2018}}\n"
CSL = [{"id": "poe2017web", "type": "webpage", "title": "A CSL-JSON page", "URL": "https://example.org/"}]
MANUSCRIPT = "---\ntitle: Paper\n---\nAs shown [@doe2020book; @roe2018book].\n"

# (arguments, exit codes that are fine)
RUNS = [
    (["--version"], {0}),
    (["--help"], {0}),
    (["add", "--manual", "--type", "book", "--title", "A book", "--author", "Doe, Jane", "--year", "2020",
      "--set", "publisher=Press"], {0}),
    (["add", "10.1080/14751798.2021.1995963"], {3}),  # Crossref unreachable: a clean failure
    (["import", "refs.ris", "refs.bib", "refs.json"], {0}),
    (["list"], {0}),
    (["list", "--json"], {0}),
    (["show", "doe2020book"], {0}),
    *[(["export", "-f", fmt, "-o", f"out.{fmt}"], {0}) for fmt in ("bibtex", "biblatex", "ris", "html", "text", "csl-json")],
    (["export", "-f", "text", "--style", "apa"], {0}),
    (["edit", "doe2020book", "--set", "note=Read"], {0}),
    (["refresh", "doe2020book"], {0, 3}),
    (["check"], {0, 3}),
    (["upgrade", "--dry-run"], {0, 3}),
    (["bib", "paper.md", "-o", "paper.bib"], {0, 3}),
    (["rekey", "doe2020book", "doe2020a"], {0}),
    (["remove", "doe2020a"], {0}),
    (["doctor"], {0}),
    (["doctor", "--repair"], {0}),
]


def commands(citetool: list[str], env: dict, cwd: Path) -> list[str]:
    text = subprocess.run([*citetool, "--help"], capture_output=True, text=True, env=env, cwd=cwd).stdout
    listed = text.split("Commands:", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in listed.splitlines() if line.strip()]


def main(citetool: list[str]) -> int:
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        (cwd / "refs.ris").write_text(RIS, encoding="utf-8")
        (cwd / "refs.bib").write_text(BIB, encoding="utf-8")
        (cwd / "refs.json").write_text(json.dumps(CSL), encoding="utf-8")
        (cwd / "paper.md").write_text(MANUSCRIPT, encoding="utf-8")
        env = dict(os.environ, CITETOOL_STORE=str(cwd / "store.json"), CITETOOL_CACHE_DIR=str(cwd / "cache"),
                   CITETOOL_TIMEOUT="3", CITETOOL_RETRY_BASE="0.01", NO_COLOR="1")
        for name in ("CROSSREF", "DOI", "REPEC", "OPENLIBRARY"):
            env[f"CITETOOL_{name}_URL"] = DEAD
        runs = list(RUNS)
        tried = {args[0] for args, _ in runs if not args[0].startswith("-")}
        runs += [([name, "--help"], {0}) for name in commands(citetool, env, cwd) if name not in tried]
        for args, fine in runs:
            done = subprocess.run([*citetool, *args], capture_output=True, text=True, env=env, cwd=cwd,
                                  stdin=subprocess.DEVNULL, timeout=300)
            bad = done.returncode not in fine or any(
                sign in done.stderr for sign in ("Traceback", "internal error", "ModuleNotFoundError"))
            print(f"{'FAIL' if bad else 'ok'}  exit {done.returncode}  citetool {' '.join(args)}")
            if bad:
                failures.append(f"citetool {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or [sys.executable, "-m", "citetool"]))
