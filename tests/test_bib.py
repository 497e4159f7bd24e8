"""`citetool bib`: the bibliography a manuscript cites (citetool/bibliography.py),
down to the real consumers: pdflatex + bibtex, biblatex + biber, pandoc --citeproc."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from citetool.bibliography import build, closest_keys, identifier_of
from citetool.library import Library

MANUSCRIPTS = Path(__file__).parent / "fixtures" / "manuscripts"
SEED = "10.1080/14751798.2021.1995963"
HANDLE = "RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452"
# The keys the e2e-* manuscripts cite, in order, and the stored key each one is.
E2E_LATEX = {"doi:10.1080/14751798.2021.1995963": "arduino2021russia", "Tosatto2015single": "tosatto2015single",
             "arduino2021russia": "arduino2021russia",
             "repec:taf:cdanxx:v:37:y:2021:i:4:p:435-452": "arduino2021russia", "oldkey": "dissmeyer2018life"}


@pytest.fixture
def stocked(crossref, econpapers, run, store_path):
    """A store with three works; dissmeyer2018life also known as 'oldkey' (an alias)."""
    result = run("add", SEED, "10.1038/srep16696", "10.1111/nph.14619")
    assert result.exit_code == 0, result.stderr
    data = json.loads(store_path.read_text(encoding="utf-8"))
    for rec in data["references"]:
        if rec["id"] == "dissmeyer2018life":
            rec["citetool"]["aliases"] = ["oldkey"]
    store_path.write_text(json.dumps(data), encoding="utf-8")
    crossref.requests.clear()
    crossref.list_requests.clear()
    return crossref


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def bib_entries(text: str) -> list[str]:
    return re.findall(r"^@\w+\{(.+),$", text, re.MULTILINE)


# --- the library -----------------------------------------------------------------


@pytest.mark.parametrize("key, identifier", [
    ("doi:10.1/x", "doi:10.1/x"), ("DOI:10.1/x", "DOI:10.1/x"), ("isbn:978-0-306-40615-7", "isbn:978-0-306-40615-7"),
    ("repec:taf:x:v:1", "RePEc:taf:x:v:1"), ("RePEc:taf:x:v:1", "RePEc:taf:x:v:1"),
    ("https://example.org/a", "https://example.org/a"), ("url:https://example.org/a", "https://example.org/a"),
    ("arxiv:2101.00001v3", "10.48550/arXiv.2101.00001"), ("arXiv:hep-th/9901001", "10.48550/arXiv.hep-th/9901001"),
    ("smith2020", None), ("doi:", None), ("fig:plot", None), ("pmid:123", None),
])
def test_identifier_keys(key, identifier):
    assert identifier_of(key) == identifier


def test_keys_resolve_ignoring_case_through_aliases_and_identifiers(stocked, store_path):
    lib = Library(store_path)
    result = build(lib, ["Tosatto2015single", "oldkey", f"doi:{SEED}", "arduino2021russia"], fmt="csl-json")
    assert [(c.key, c.stored, c.status) for c in result.citations] == [
        ("Tosatto2015single", "tosatto2015single", "stored"), ("oldkey", "dissmeyer2018life", "stored"),
        (f"doi:{SEED}", "arduino2021russia", "stored"), ("arduino2021russia", "arduino2021russia", "stored")]
    items = json.loads(result.text)
    assert [i["id"] for i in items] == ["Tosatto2015single", "oldkey", f"doi:{SEED}", "arduino2021russia"]
    assert items[2]["DOI"] == items[3]["DOI"] == SEED  # one work, written under both keys
    assert stocked.requests == [] and stocked.list_requests == []  # a stored DOI costs no request


def test_identifier_keys_missing_from_the_store_are_added(stocked, store_path):
    lib = Library(store_path)
    seen = []
    result = build(lib, ["doi:10.1038/ng.3834", "arxiv:0000.00001v2", f"repec:{HANDLE[6:]}"],
                   fmt="biblatex", progress=lambda done, total: seen.append((done, total)))
    assert [(c.status, c.stored) for c in result.citations] == [
        ("added", "chiang2017impact"), ("added", "tester2021preprint"), ("stored", "arduino2021russia")]
    assert "10.48550/arXiv.0000.00001" in stocked.doi_org.requests
    assert seen and seen[-1][0] == seen[-1][1]
    assert bib_entries(result.text) == ["doi:10.1038/ng.3834", "arxiv:0000.00001v2", f"repec:{HANDLE[6:]}"]
    assert "chiang2017impact" in Library(store_path).records  # stored for next time


def test_unknown_keys_come_with_the_closest_stored_keys(stocked, store_path):
    lib = Library(store_path)
    result = build(lib, ["Arduíno2021Russia", "tosato2015single", "zzz", "pmid:12345"], render=False)
    assert [c.status for c in result.citations] == ["missing"] * 3 + ["unsupported"]  # pmid: no source for it (#26)
    assert result.citations[0].suggestions[0] == "arduino2021russia"  # case and accents ignored
    assert result.citations[1].suggestions[0] == "tosatto2015single"
    assert result.citations[2].suggestions == []
    assert result.text is None
    assert "(closest: arduino2021russia" in result.citations[0].message()
    assert closest_keys(["OLDKEY2"], lib) == [["oldkey"]]  # aliases are keys too


def test_nocite_star_is_every_stored_reference(stocked, store_path):
    result = build(Library(store_path), ["Tosatto2015single", "*"], fmt="bibtex")
    # tosatto2015single is cited already (BibTeX keys ignore case): not written twice
    assert bib_entries(result.text) == ["Tosatto2015single", "arduino2021russia", "dissmeyer2018life"]


def test_keys_differing_only_in_case_are_one_bibtex_entry(stocked, store_path):
    lib = Library(store_path)
    result = build(lib, ["Tosatto2015single", "tosatto2015single"], fmt="bibtex")
    assert bib_entries(result.text) == ["Tosatto2015single"]  # bibtex would stop at a "Repeated entry"
    assert "Tosatto2015single and tosatto2015single differ only in case" in result.notes[0]
    both = build(lib, ["Tosatto2015single", "tosatto2015single"], fmt="biblatex")  # biber tells them apart
    assert bib_entries(both.text) == ["Tosatto2015single", "tosatto2015single"] and both.notes == []


# --- the command -------------------------------------------------------------------


def test_keys_lists_citations_without_a_store(run, tmp_path):
    paper = write(tmp_path / "p.md", "[@b; @a] and @b again, mail x@y.org.\n")
    result = run("--store", str(tmp_path / "none" / "store.json"), "bib", "--keys", str(paper))
    assert result.exit_code == 0 and result.stdout == "b\na\n"


def test_bib_writes_exactly_the_cited_entries_atomically(stocked, run, tmp_path):
    out = tmp_path / "refs.bib"
    result = run("bib", str(MANUSCRIPTS / "e2e-natbib.tex"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert bib_entries(out.read_text(encoding="utf-8")) == list(E2E_LATEX)
    assert "5 of 5 cited references resolved" in result.stderr
    assert not list(tmp_path.glob("*.tmp*"))


def test_unknown_key_exit_3_and_no_file(stocked, run, tmp_path):
    paper = write(tmp_path / "p.tex", r"\cite{arduino2021russia,Arduíno2021} \cite{nowhere}")
    out = write(tmp_path / "refs.bib", "previous contents\n")
    result = run("bib", str(paper), "-o", str(out))
    assert result.exit_code == 3
    assert "error: Arduíno2021: not in the store (closest: arduino2021russia)" in result.stderr
    assert "error: nowhere: not in the store\n" in result.stderr
    assert out.read_text() == "previous contents\n"
    allowed = run("bib", str(paper), "-o", str(out), "--allow-missing")
    assert allowed.exit_code == 0 and "warning: nowhere: not in the store" in allowed.stderr
    assert bib_entries(out.read_text()) == ["arduino2021russia"]


def test_check_writes_nothing(stocked, run, tmp_path):
    good = write(tmp_path / "good.md", "@arduino2021russia and [@Tosatto2015single]\n")
    result = run("bib", "--check", str(good))
    assert result.exit_code == 0 and result.stdout == ""
    bad = write(tmp_path / "bad.md", "@arduino2021russia and [@missing2020]\n")
    result = run("bib", "--check", str(bad))
    assert result.exit_code == 3 and result.stdout == "" and "missing2020" in result.stderr


def test_offline_makes_no_request(stocked, run, tmp_path):
    paper = write(tmp_path / "p.md", f"@doi:{SEED} and @doi:10.1038/ng.3834\n")
    result = run("bib", "--offline", "--check", str(paper))
    assert result.exit_code == 3
    assert "doi:10.1038/ng.3834:" in result.stderr and f"doi:{SEED}:" not in result.stderr
    assert stocked.requests == [] and stocked.list_requests == []


def test_json_report(stocked, run, tmp_path):
    paper = write(tmp_path / "p.md", "@doi:10.1038/ng.3834 @oldkey @tosato2015single\n")
    out = tmp_path / "refs.json"
    result = run("bib", "--json", "--allow-missing", "-f", "csl-json", "-o", str(out), str(paper))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {"keys": ["doi:10.1038/ng.3834", "oldkey", "tosato2015single"],
                      "resolved": {"doi:10.1038/ng.3834": "chiang2017impact", "oldkey": "dissmeyer2018life"},
                      "added": ["doi:10.1038/ng.3834"],
                      "missing": [{"key": "tosato2015single", "error": None, "suggestions": ["tosatto2015single"]}]}
    assert [i["id"] for i in json.loads(out.read_text())] == ["doi:10.1038/ng.3834", "oldkey"]


def test_unknown_format_and_unreadable_paper_are_usage_errors(run, tmp_path):
    assert run("bib", "-f", "docx", str(MANUSCRIPTS / "handmade.qmd")).exit_code == 2
    result = run("bib", str(tmp_path / "absent.tex"))
    assert result.exit_code == 2 and result.stderr.startswith("citetool: error: cannot read")
    assert "Traceback" not in result.stderr


# --- the real consumers ---------------------------------------------------------------

needs = {tool: pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} is not installed")
         for tool in ("pdflatex", "bibtex", "biber", "pandoc")}


def latex_run(folder: Path, *commands: list[str]) -> None:
    for command in commands:
        subprocess.run(command, cwd=folder, capture_output=True, timeout=180)


@needs["pdflatex"]
@needs["bibtex"]
def test_natbib_paper_has_no_undefined_citation_with_bibtex(stocked, run, tmp_path):
    shutil.copy(MANUSCRIPTS / "e2e-natbib.tex", tmp_path / "paper.tex")
    assert run("bib", "paper.tex", "-o", "refs.bib").exit_code == 0
    tex = ["pdflatex", "-interaction=nonstopmode", "paper.tex"]
    latex_run(tmp_path, tex, ["bibtex", "paper"], tex, tex)
    log = (tmp_path / "paper.log").read_text(errors="replace")
    blg = (tmp_path / "paper.blg").read_text(errors="replace")
    assert "undefined" not in log.lower(), re.findall(r".*undefined.*", log)
    assert "didn't find" not in blg and "Warning" not in blg, blg
    bibitems = re.findall(r"\\bibitem\[[^\]]*\]\{([^}]*)\}", (tmp_path / "paper.bbl").read_text(), re.S)
    assert sorted(bibitems) == sorted(E2E_LATEX)  # exactly the cited entries


@needs["pdflatex"]
@needs["biber"]
def test_biblatex_paper_has_no_undefined_citation_with_biber(stocked, run, tmp_path):
    shutil.copy(MANUSCRIPTS / "e2e-biblatex.tex", tmp_path / "paper.tex")
    assert run("bib", "paper.tex", "-f", "biblatex", "-o", "refs.bib").exit_code == 0
    tex = ["pdflatex", "-interaction=nonstopmode", "paper.tex"]
    latex_run(tmp_path, tex, ["biber", "paper"], tex, tex)
    log = (tmp_path / "paper.log").read_text(errors="replace")
    blg = (tmp_path / "paper.blg").read_text(errors="replace")
    assert "undefined" not in log.lower(), re.findall(r".*undefined.*", log)
    assert not re.search(r"(WARN|ERROR) -", blg), blg
    # one work cited under two keys is one entry, the other key biber's alias of it (issue #21)
    bbl = (tmp_path / "paper.bbl").read_text()
    assert len(re.findall(r"\\entry\{", bbl)) == len(set(E2E_LATEX.values()))
    assert len(re.findall(r"\\keyalias\{", bbl)) == len(E2E_LATEX) - len(set(E2E_LATEX.values()))


@needs["pandoc"]
def test_pandoc_citeproc_finds_every_citation_doi_keys_included(stocked, econpapers, run, tmp_path):
    shutil.copy(MANUSCRIPTS / "e2e-pandoc.md", tmp_path / "paper.md")
    result = run("bib", "paper.md", "-f", "csl-json", "-o", "refs.json")
    assert result.exit_code == 0, result.stderr
    ids = [item["id"] for item in json.loads((tmp_path / "refs.json").read_text())]
    assert ids == ["doi:10.1080/14751798.2021.1995963", "Tosatto2015single", "arduino2021russia",
                   "arxiv:0000.00001v2", "repec:taf:cdanxx:v:37:y:2021:i:4:p:435-452", "oldkey"]
    done = subprocess.run(["pandoc", "--citeproc", "--bibliography", "refs.json", "-t", "plain", "paper.md"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "not found" not in done.stderr and "WARNING" not in done.stderr, done.stderr
    assert "Arduino" in done.stdout and "Tester" in done.stdout


def test_bib_warns_about_a_retracted_work_and_still_writes_it(stocked, run, store_path, tmp_path):
    data = json.loads(store_path.read_text(encoding="utf-8"))
    for rec in data["references"]:
        if rec["id"] == "tosatto2015single":  # as `citetool check` stores a finding
            rec["citetool"]["updates"] = {"findings": [
                {"kind": "retraction", "doi": "10.5555/notice", "date": "2020-01-02", "source": "publisher"}]}
    store_path.write_text(json.dumps(data), encoding="utf-8")
    paper = write(tmp_path / "p.md", "[@Tosatto2015single; @arduino2021russia]\n")
    result = run("bib", str(paper))
    assert result.exit_code == 0
    assert "warning: Tosatto2015single retracted: 10.5555/notice (2020-01-02, publisher)" in result.stderr
    assert "arduino2021russia retracted" not in result.stderr
    assert bib_entries(result.stdout) == ["Tosatto2015single", "arduino2021russia"]


SICI = "10.1002/1096-9861(20010212)430:3<283::aid-cne1031>3.0.co;2-v"


@pytest.mark.parametrize("key, fmt, refused", [
    ("doi:" + SICI, "bibtex", None), ("doi:" + SICI, "biblatex", "'(' ')'"), ("doi:" + SICI, "csl-json", None),
    ("https://example.com/bib?name=foobar&date=2000", "biblatex", "'='"), ("a b", "bibtex", "' '"),
    ("doi:10.1080/14751798.2021.1995963", "biblatex", None),
])
def test_keys_a_bib_file_cannot_hold(key, fmt, refused):
    from citetool.bibliography import unwritable

    why = unwritable(key, fmt)
    assert (why is None) == (refused is None)
    if refused:
        assert refused in why


@needs["pdflatex"]
@needs["biber"]
def test_the_characters_biber_refuses_in_keys_are_those_we_refuse(tmp_path):
    """Ground truth for _NOT_IN_BIBER_KEYS: biber itself, one cited key at a time
    (with a quote, biber reads the entry but not under the key cited)."""
    from citetool.bibliography import unwritable

    def biber_reads(key: str) -> bool:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        (folder / "refs.bib").write_text("@misc{" + key + ",\n  title = {T},\n  year = {2000}\n}\n")
        (folder / "p.tex").write_text("\\documentclass{article}\\usepackage[backend=biber]{biblatex}"
                                      "\\addbibresource{refs.bib}\\begin{document}\\cite{" + key + "}\\end{document}")
        latex_run(folder, ["pdflatex", "-interaction=nonstopmode", "-draftmode", "p.tex"])
        done = subprocess.run(["biber", "p"], cwd=folder, capture_output=True, text=True, timeout=120)
        return done.returncode == 0 and "ERROR" not in done.stdout and "WARN" not in done.stdout

    for ch in "\"'()=":
        assert unwritable(f"a{ch}b", "biblatex") and not biber_reads(f"a{ch}b"), ch
    accepted = "a:/.-+?<>;![]^_`|&*$@b"  # every other ASCII punctuation a LaTeX key can hold, at once
    assert unwritable(accepted, "biblatex") is None and biber_reads(accepted)


@needs["pdflatex"]
@needs["bibtex"]
@needs["biber"]
def test_a_sici_doi_key_works_with_bibtex_and_is_refused_for_biber(stocked, run, tmp_path):
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\\usepackage{natbib}\\begin{document}"
        f"\\cite{{doi:{SICI}}} \\cite{{arduino2021russia}}\\bibliographystyle{{plainnat}}\\bibliography{{refs}}\\end{{document}}")
    assert run("bib", "paper.tex", "-o", "refs.bib").exit_code == 0
    tex = ["pdflatex", "-interaction=nonstopmode", "paper.tex"]
    latex_run(tmp_path, tex, ["bibtex", "paper"], tex, tex)
    assert "undefined" not in (tmp_path / "paper.log").read_text(errors="replace").lower()
    refused = run("bib", "paper.tex", "-f", "biblatex", "-o", "refs2.bib")
    assert refused.exit_code == 3 and not (tmp_path / "refs2.bib").exists()
    assert f"error: doi:{SICI}: biber cannot read a key holding '(' ')'" in refused.stderr


def test_isbn_key_is_resolved_and_a_cited_loopback_address_is_not_fetched(crossref, openlibrary, web, store_path):
    page = f"{web}/seed002"  # a manuscript's web address is fetched only from a public host
    keys = ["isbn:9780000000002", f"url:{page}"]
    result = build(Library(store_path), keys, fmt="csl-json")
    assert [c.status for c in result.citations] == ["added", "failed"]
    assert "refused to fetch localhost, a loopback address" in result.citations[1].error
    items = json.loads(result.text)
    assert [i["id"] for i in items] == ["isbn:9780000000002"] and items[0]["ISBN"] == "9780000000002"
