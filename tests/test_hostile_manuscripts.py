"""Hostile manuscripts (issue 23, B1-B8): `bib` reads any text in time linear
in its length, any YAML front matter without expanding it, any chain of
\\input files, and regular files only. The inputs are generated here, of the
sizes the adversarial probe used; each test caps the time the old quadratic
code took minutes (or for ever) on."""

import json
import os
import subprocess
import sys
import time

import pytest

PROBE_SIZE = 102_000  # bytes: the probe's manuscripts


def timed(run, *args):
    started = time.monotonic()
    result = run(*args)
    return result, time.monotonic() - started


def repeated(unit: str, size: int = PROBE_SIZE) -> str:
    return unit * (size // len(unit))


HOSTILE_LATEX = {
    "unclosed cite brace": repeated("\\cite{"),  # 350 s before
    "unclosed cite bracket": repeated("\\cite["),
    "unclosed multicite": repeated("\\cites[x]"),
    "unclosed import": repeated("\\import{"),
    "verb with 10,000 distinct delimiters": "".join(f"\\verb{chr(0x100 + i)}x " for i in range(10_000)),  # 40 s before
    "unclosed lstinline": repeated("\\lstinline{"),
}
HOSTILE_MARKDOWN = {
    "braced keys never closed": repeated("@{"),  # 669 s before
    "unclosed HTML comments": repeated("<!--"),
    "backtick runs of growing length": "".join("`" * i + " " for i in range(1, 450)),
}


HOSTILE = {name: (".tex", "\\cite{found}\n" + text) for name, text in HOSTILE_LATEX.items()} | {
    name: (".md", "See @found.\n\n" + text) for name, text in HOSTILE_MARKDOWN.items()}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_manuscripts_are_read_in_bounded_time(name, run, tmp_path):
    suffix, text = HOSTILE[name]
    paper = tmp_path / f"paper{suffix}"
    paper.write_text(text + "\n", encoding="utf-8")
    result, seconds = timed(run, "bib", "--keys", str(paper))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[0] == "found"
    assert seconds < 10, f"{name}: {seconds:.1f} s"


def test_a_ten_megabyte_hostile_manuscript_takes_seconds(run, tmp_path):
    paper = tmp_path / "paper.tex"
    unit = "\\cite{" + "\\cite[" + "\\verb|x| " + "\\lstinline{" + "\\cite{k1,k2} "
    paper.write_text(repeated(unit, 10_000_000), encoding="utf-8")
    result, seconds = timed(run, "bib", "--keys", str(paper))
    assert result.exit_code == 0, result.stderr
    assert seconds < 60, f"{seconds:.1f} s"


def alias_bomb(merge: bool) -> str:
    """Nine anchors of nine aliases each: 9^9 strings (or merged mappings) when expanded."""
    lines = ["---", 'l0: &l0 ["@k1", "@k2", "@k3", "@k4", "@k5", "@k6", "@k7", "@k8", "@k9"]' if not merge
             else 'l0: &l0 {a: "@k1", b: "@k2"}']
    for level in range(1, 10):
        aliases = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} {{<<: [{aliases}]}}" if merge else f"l{level}: &l{level} [{aliases}]")
    return "\n".join([*lines, "---", "", "Text."]) + "\n"


@pytest.mark.parametrize("merge", [False, True], ids=["aliases", "merge keys"])
def test_yaml_alias_bomb_is_read_without_expanding_it(merge, run, tmp_path):
    paper = tmp_path / "paper.md"
    paper.write_text(alias_bomb(merge), encoding="utf-8")
    assert len(paper.read_bytes()) < 600  # the probe's was 587 bytes
    result, seconds = timed(run, "bib", "--keys", str(paper))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == (["k1", "k2"] if merge else [f"k{i}" for i in range(1, 10)])
    assert seconds < 10


def test_a_thousand_unknown_keys_against_two_thousand_references(run, tmp_path, store_path):
    references = [{"id": f"author{i}2020title{i % 7}", "type": "article-journal", "title": f"Title {i}"}
                  for i in range(2000)]
    store_path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": references}),
                          encoding="utf-8")
    paper = tmp_path / "paper.tex"
    paper.write_text("\n".join(f"\\cite{{autor{i}2021titel{i % 5}x}}" for i in range(1000)), encoding="utf-8")
    result, seconds = timed(run, "bib", str(paper))
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("citetool: error:")]
    assert len(errors) == 1000 and "1000 missing" in result.stderr
    hinted = [line for line in errors if "(closest: " in line]
    assert 1 <= len(hinted) <= 20  # capped: each suggestion costs a pass over the store
    assert "author02020title0" in errors[0]  # and still helpful
    assert seconds < 15, f"{seconds:.1f} s (20 s before)"


def test_a_chain_of_1500_input_files_is_no_recursion_error(run, tmp_path):
    for i in range(1500):
        (tmp_path / f"part{i}.tex").write_text(f"\\cite{{key{i}}}\n\\input{{part{i + 1}}}\n", encoding="utf-8")
    (tmp_path / "part1500.tex").write_text("\\cite{last}\n", encoding="utf-8")
    result = run("bib", "--keys", str(tmp_path / "part0.tex"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [f"key{i}" for i in range(1500)] + ["last"]


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_manuscript_that_is_not_a_regular_file_is_refused(kind, tmp_path):
    paper = tmp_path / "paper.tex"
    if kind == "fifo":
        os.mkfifo(paper)
    else:
        paper.symlink_to("/dev/zero")
    result = subprocess.run([sys.executable, "-m", "citetool", "bib", "--keys", str(paper)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"citetool: error: cannot read {paper}: not a regular file"
