"""Every seed document is citable: the EconPapers article (by DOI and handle,
see test_repec.py), the book (by ISBN, or typed in), and the two web articles;
DOIs outside Crossref come from doi.org; formatted references in CSL styles."""

import json

import pytest
from conftest import SEED_DOI

SEED_KEY = "arduino2021russia"
BOOK_ISBN = "978-0-000-00000-2"  # the synthetic Open Library fixture's test ISBN


def stored(store_path):
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


def test_the_seed_book_by_isbn(crossref, openlibrary, run, store_path):
    result = run("add", f"isbn:{BOOK_ISBN}")
    assert result.exit_code == 0, result.stderr
    key = result.stdout.strip()
    assert key == "lilly2014russian"
    book = stored(store_path)[key]
    assert book["type"] == "book"
    assert book["title"] == "Russian foreign policy toward missile defense: actors, motivations, and influence"
    assert book["author"] == [{"family": "Lilly", "given": "Bilyana"}]
    assert (book["publisher"], book["publisher-place"], book["issued"]) == ("Lexington Books", "Lanham", {"date-parts": [[2014]]})
    assert book["ISBN"] == "9780000000002" and book["citetool"]["fields"]["title"] == "openlibrary"
    assert crossref.list_requests == [["9780000000002"]]  # Crossref was asked first
    again = run("add", "9780000000002")  # a bare ISBN, same book: no request
    assert again.stdout == f"{key}\n" and len(openlibrary) == 1
    bib = run("export", "-f", "bibtex").stdout
    assert "@book{lilly2014russian," in bib and "publisher = {Lexington Books}" in bib and "isbn = {9780000000002}" in bib


def test_a_book_crossref_knows_comes_from_crossref(crossref, openlibrary, run, store_path):
    result = run("add", "isbn:9781108348843")  # the monograph 10.1017/9781108348843 carries it
    assert result.exit_code == 0, result.stderr
    ref = next(iter(stored(store_path).values()))
    assert ref["DOI"] == "10.1017/9781108348843" and ref["citetool"]["fields"]["title"] == "crossref"
    assert openlibrary == []


def test_unknown_isbn_and_bad_checksum(crossref, openlibrary, run):
    result = run("add", "isbn:978-0-306-40615-7", "978-0-306-40615-8")
    assert result.exit_code == 3
    assert "ISBN 9780306406157 not found in Crossref or Open Library" in result.stderr
    assert "'978-0-306-40615-8'" in result.stderr  # a wrong check digit is no ISBN


def test_the_seed_book_typed_in(run, store_path):
    missing = run("add", "--manual", "--type", "book", "--title", "Russian foreign policy toward missile defense")
    assert missing.exit_code == 2 and "a book needs author or editor, publisher, issued" in missing.stderr
    result = run("add", "--manual", "--type", "book", "--title", "Russian foreign policy toward missile defense",
                 "--author", "Lilly, Bilyana", "--year", "2014", "--set", "publisher=Lexington Books",
                 "--set", "publisher-place=Lanham")
    assert result.exit_code == 0, result.stderr
    book = stored(store_path)["lilly2014russian"]
    assert book["citetool"]["fields"]["title"] == "user"
    assert run("add", "--title", "x").exit_code == 2  # --title without --manual


def test_the_seed_web_articles(web, crossref, run, store_path):
    first = run("add", f"{web}/seed002")
    second = run("add", f"{web}/seed003")
    assert first.exit_code == second.exit_code == 0, first.stderr + second.stderr
    refs = stored(store_path)
    a = refs[first.stdout.strip()]
    b = refs[second.stdout.strip()]
    assert a["title"] == "Why Russia Works with Turkey on Weapon Sales While NATO Members Resist"
    assert a["type"] == "webpage" and a["publisher"] == "Example Defence Commentary" and "author" not in a
    assert a["URL"] == "https://defence-commentary.example/why-russia-works-with-turkey"  # the canonical link
    assert b["title"] == "Turkey will purchase the second batch of the Russian S-400"
    assert b["author"] == [{"family": "Boltuc", "given": "Silvia"}]
    assert b["issued"] == {"date-parts": [[2020, 8, 20]]} and b["publisher"] == "Example Eurasia Review"
    assert "accessed" in b and b["language"] == "en"
    assert second.stdout.strip() == "boltuc2020turkey"
    assert run("add", f"{web}/seed003").stdout == second.stdout  # the same page: no second reference

    blx = run("export", "-f", "biblatex", "boltuc2020turkey").stdout
    assert blx.startswith("@online{boltuc2020turkey,") and "urldate = {" in blx and "url = {" in blx
    bib = run("export", "-f", "bibtex", "boltuc2020turkey").stdout
    assert bib.startswith("@misc{") and "howpublished = {Example Eurasia Review}" in bib and "note = {Accessed " in bib
    ris = run("export", "-f", "ris", "boltuc2020turkey").stdout
    assert "TY  - ELEC" in ris and "Y2  - " in ris
    csl = json.loads(run("export", "-f", "csl-json", "boltuc2020turkey").stdout)[0]
    assert csl["type"] == "webpage" and csl["accessed"]["date-parts"][0][0] >= 2026


def test_missing_page_and_not_a_page(web, run):
    result = run("add", f"{web}/nothing-here")
    assert result.exit_code == 3 and "no page at" in result.stderr


def test_a_datacite_doi_comes_from_doi_org(crossref, run, store_path):
    result = run("add", "10.5555/citetool-test.datacite")
    assert result.exit_code == 0, result.stderr
    assert crossref.requests == ["10.5555/citetool-test.datacite"]
    assert crossref.doi_org.accepts == ["application/vnd.citationstyles.csl+json"]
    ref = next(iter(stored(store_path).values()))
    assert ref["type"] == "dataset" and ref["DOI"] == "10.5555/citetool-test.datacite"
    assert ref["issued"] == {"date-parts": [[2022, 3, 1]]}
    assert ref["author"] == [{"family": "Shuja", "given": "Asif"}, {"literal": "Middle East Institute"}]
    assert ref["abstract"] == "Arms-transfer records used in a study of S-400 exports."
    assert ref["citetool"]["fields"]["title"] == "doi.org"
    assert "@dataset{" in run("export", "-f", "biblatex").stdout


def test_unknown_everywhere(crossref, run):
    result = run("add", "10.5555/nobody-knows-this")
    assert result.exit_code == 3
    assert "not found in Crossref or at doi.org: 10.5555/nobody-knows-this" in result.stderr


@pytest.mark.validators
@pytest.mark.parametrize("fmt", ["bibtex", "biblatex", "ris", "csl-json", "html"])
def test_every_seed_passes_the_real_consumers(fmt, web, crossref, openlibrary, econpapers, run, tmp_path):
    from test_validators import CHECKS, validate

    for ident in (SEED_DOI, "RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452", f"isbn:{BOOK_ISBN}",
                  f"{web}/seed002", f"{web}/seed003", "10.5555/citetool-test.datacite"):
        assert run("add", ident).exit_code == 0
    out = tmp_path / f"seeds.{CHECKS[fmt][1]}"
    assert run("export", "-f", fmt, "-o", str(out)).exit_code == 0
    proc = validate(fmt, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_apa_rendering_of_the_seed_article(crossref, run):
    run("add", SEED_DOI)
    text = run("export", "-f", "text", "--style", "apa").stdout
    assert text == ("Arduino, A., & Shuja, A. (2021). Russia’s scalable soft power: Leveraging defense diplomacy "
                    "through the transfer of S-400 triumph. Defense & Security Analysis, 37(4), 435–452. "
                    "https://doi.org/10.1080/14751798.2021.1995963\n")
    html = run("export", "-f", "html", "--style", "apa").stdout
    assert "<i>Defense &amp; Security Analysis</i>, <i>37</i>(4), 435–452" in html


@pytest.mark.parametrize("style", ["apa", "chicago-author-date", "harvard-cite-them-right", "modern-language-association"])
def test_styles_render_valid_escaped_html(style, crossref, run, tmp_path):
    run("add", SEED_DOI, "10.1038/ng.3834")
    run("edit", "chiang2017impact", "--set", "title=<script>alert(1)</script> & <b>bold</b>")
    out = tmp_path / "styled.html"
    assert run("export", "-f", "html", "--style", style, "-o", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>bold" not in page
    assert page.count('class="csl-entry"') == 2
    from test_validators import validate

    proc = validate("html", out)
    assert proc.returncode == 0, proc.stdout


def test_style_errors(crossref, run, tmp_path):
    run("add", SEED_DOI)
    assert run("export", "-f", "text", "--style", "nonesuch").exit_code == 2
    assert run("export", "-f", "ris", "--style", "apa").exit_code == 2
    assert run("export", "-f", "text", "--style", str(tmp_path / "missing.csl")).exit_code == 2
