"""The .bib reader's own splitter and name splitting (citetool.formats.bibtex_reader)
read exactly as bibtexparser does, which they replace for speed (issue #14): each
case is compared with bibtexparser's own answer, and a file the splitter is not
sure of goes to bibtexparser whole."""

from __future__ import annotations

import json
import logging

import bibtexparser
import pytest
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

from citetool.formats.bibtex_reader import _name_parts, _split_names
from citetool.formats.bibtex_split import _split
from citetool.ingest import bulk


def _theirs(text: str):
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return [(e.entry_type, e.key, [(f.key, f.value) for f in e.fields], e.start_line) for e in library.entries]


def _ours(text: str):
    entries = _split(text)
    assert entries is not None, "the splitter gave up on a file it reads"
    return [(e.entry_type, e.key, e.fields, e.start_line) for e in entries]


READ = {
    "plain": "@article{a,\n  title = {T},\n  year = 2001,\n}\n",
    "nested braces": "@Article{a, title = {A {B {C {D {E} d} c} b} a}, note = {{x}}}",
    "escaped braces": r"@misc{a, title = {50\% of \{x\} and \}}, note = {a\\ b}}",
    "quoted": '@misc{a, title = "The {GABA} case, {with} commas", note = "say \\"hi\\""}',
    "macros": '@string{JCN = {J. Comp. Neurol.}}\n@STRING{ mac = "Mac Press" }\n'
              "@misc{a, journal = jcn, publisher = MAC, month = jan, note = jcn # { x }}",
    "concatenation": '@misc{a, title = {a} # "b", note = "a" # jan, pages = 1 # "--" # {2}}',
    "no fields": "@misc{lonely}\n@misc{two,}\n",
    "spacing": "@book  {  k1 ,\n\n  Title\t=\t{T}  ,\n  author={A}\n\n}\n\n\n@misc{k2,x={y}}",
    "line counting": "junk\n\n@misc{a, note = {one \\\n two\n three}}\n% comment\n@misc{b, title={B}}",
    "at signs": "@misc{a, url = {https://medium.com/@me}, note = {write to me@x.org}}",
    "at signs between entries": "% by me@example.org\n@misc{a, title={A}}\n@ home\n@misc{b, title={B}}",
    "keys in two cases": "@misc{Key, title={A}}\n@misc{key, title={B}}",
    "comments and preamble": '@comment{jabref-meta: x;}\n@preamble{"\\newcommand{\\x}{y}"}\n@misc{a,t={1}}',
    "unicode": "@misc{Müller2001, title = {Über {Ærø} – ß}, author = {Müller, Jörg}}",
}


@pytest.mark.parametrize("text", READ.values(), ids=READ.keys())
def test_the_splitter_reads_as_bibtexparser(text):
    assert _ours(text) == _theirs(text)


GIVE_UP = {
    "parenthesised": "@misc(a, title = {T})",
    "quote in quotes": '@misc{a, title = "a{"}b"}',
    "unclosed brace": "@misc{a, title = {T,\n}\n@misc{b, title = {U}}",
    "block start in a value": "@misc{a, title = {T\n  @misc{b, title={U}}}",
    "duplicate key": "@misc{a, title={A}}\n@misc{a, title={B}}",
    "missing equals": "@misc{a, title {A}}",
    "too deep": "@misc{a, title = {{{{{{{{deep}}}}}}}}}",
    "parenthesised after text": "% see @misc(a, title={A})\n@misc{b, title={B}}",
    "dangling": "@misc{a, title={A}, oops}",
    "concatenation in braces": "@misc{a, title = {a} # {b}}",  # bibtexparser's enclosing rules count braces in quotes
}


@pytest.mark.parametrize("text", GIVE_UP.values(), ids=GIVE_UP.keys())
def test_the_splitter_gives_up_on_what_it_is_not_sure_of(text):
    assert _split(text) is None


@pytest.mark.parametrize("text", ["@misc{a, title={A}, Title={B}, year=2001}\n",
                                  "@misc(p, title={P})\n@misc{a, title={A}, Title={B}, year=2001}\n"],
                         ids=["splitter", "bibtexparser"])
def test_a_field_given_twice_is_read_as_bibtex_reads_it(text, tmp_path, run, store_path):
    """BibTeX uses the first value ("I'm ignoring a's extra "title" field"); the
    entry is imported, never skipped, and the other value is kept aside and named."""
    bib = tmp_path / "refs.bib"
    bib.write_text(text, encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 0, result.stderr
    assert "a" in result.stdout.split()
    assert "the field 'title' is given again ('B')" in result.stderr
    ref = next(r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"] if r["id"] == "a")
    assert ref["title"] == "A"
    assert ref["citetool"]["bibtex"]["repeated"] == {"title": ["B"]}


def test_a_file_the_splitter_gives_up_on_is_read_by_bibtexparser(run, store_path, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc(paren, title = {Parenthesised})\n\n@misc{a, title = {Unclosed,\n\n"
                   "@misc{b, title = {Fine}, year = 2001}\n", encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 3
    assert f"{bib}:3: skipped a malformed entry (Unexpected block start: `@misc`." in result.stderr
    assert result.stdout.split() == ["paren", "b"]


NAMES = ["Donald E. Knuth", "Knuth, Donald E.", "van Lieshout, Marie-Colette", "Ludwig van Beethoven",
         "Hora, Jr., Donald", "de la Cruz, Juan", "Jean~Paul Sartre", "王 小明", "ÉMILE zola", "d'Alembert, Jean",
         "Brinch Hansen, Per", "  Smith ,  John  ", "a b c", "A b C d", "von", ", John", "Smith, , John", "",
         "x, y, z, w", "Smith,", "Jr, and", "A. and B.", "Émile de la Zola-Ávila",
         # braces and backslashes
         'M{\\"u}ller, J{\\"o}rg', "{World Bank}", "{\\'E}mile Zola", 'van {\\"O}zt{\\"u}rk, Ali',
         "{van Gogh}, Vincent", "Smith\\, John", "x\\", "Jean\\ Paul Sartre", "{Smith, and Co}", "a {b} c",
         "{\\ss}trom, Anna", "Smith}", "{Smith", "\\{Smith, John", "{a}{b}, c", "{\\relax Ch}ristine Moe"]


@pytest.mark.parametrize("name", NAMES)
def test_names_split_as_bibtexparser_splits_them(name):
    try:
        parts = parse_single_name_into_parts(name)
        expected = (parts.first, parts.von, parts.last, parts.jr)
    except Exception as exc:
        with pytest.raises(type(exc), match=str(exc)[:20]):
            _name_parts(name)
    else:
        assert _name_parts(name) == expected


@pytest.mark.parametrize("field", ["A and B", "A AND B and  C", "A and and B", "Aand B and", " A\tand\nB ",
                                   "Simon and Schuster", "A an and B", "", "  ", "x andy and z",
                                   "{Simon and Schuster} and B", "A and {B and C}", "A {x}and B", "A and{B}",
                                   'M{\\"u}ller, J. and Roe, R.', "A \\and B", "A \\ and B", "A and }B",
                                   "A and {B", "A a\\{nd B", "{A}and B and {C}"])
def test_author_fields_split_into_names_as_bibtexparser_splits_them(field):
    assert _split_names(field) == split_multiple_persons_names(field)


def test_a_name_with_too_many_commas_is_still_reported(run, store_path, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{a, author = {Smith, John, Jr, III}, title = {T}}\n@misc{b, title = {U}}\n", encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 3
    assert f"{bib}:1: skipped an entry that cannot be read (" in result.stderr and "Too many commas" in result.stderr
    assert result.stdout.split() == ["b"]


def test_an_import_makes_its_records_without_garbage_collections(store_path, monkeypatch):
    """Collections during an import found nothing and took a sixth of its time: the
    collector is paused while entries are read and placed, and on again after."""
    import gc

    from citetool.formats import bibtex_reader
    from citetool.ingest import Placer
    from citetool.library import Library

    seen = []

    def spying(real):
        def spy(*args, **kwargs):
            seen.append(gc.isenabled())
            return real(*args, **kwargs)
        return spy

    monkeypatch.setattr(bibtex_reader, "entry_to_record", spying(bibtex_reader.entry_to_record))
    monkeypatch.setattr(Placer, "imported", spying(Placer.imported))
    bib = "".join(f"@article{{k{i}, author = {{Doe, Jane}}, title = {{Paper number {i}}}, year = 2001}}\n"
                  for i in range(300))
    outcomes, problems = Library(store_path).import_files([("refs.bib", bib)])
    assert seen == [False] * 600 and gc.isenabled()
    assert [o.key for o in outcomes] == [f"k{i}" for i in range(300)] and not problems
    assert len(json.loads(store_path.read_text(encoding="utf-8"))["references"]) == 300
    with pytest.raises(UnicodeDecodeError), bulk():  # on again after a failure too
        b"\xff".decode("utf-8")
    assert gc.isenabled()


def test_a_usual_file_is_read_without_bibtexparser(tmp_path):
    """The file citetool itself exports, names with accents in braces, @string
    macros, quotes: read by citetool's own code (bibtexparser's import alone is
    ~20 ms), to the same records as bibtexparser's reading gives."""
    import subprocess
    import sys

    bib = tmp_path / "refs.bib"
    bib.write_text('@string{wiley = "Wiley"}\n@preamble{ "\\\\newcommand{\\\\x}{y}" }\n'
                   "@article{a,\n  author = {Ca{\\~n}edo-Arg{\\\"u}elles Iglesias, Miguel and {World Bank} and "
                   "van der Berg, J. and Jos{\\'e} da Silva},\n  title = {The {GABA} case},\n  publisher = wiley,\n"
                   "  journal = \"J. {N}eurosci.\",\n  year = 2001,\n  month = feb\n}\n", encoding="utf-8")
    code = ("import sys; from citetool.formats.bibtex_reader import read; "
            f"out, problems = read(open({str(bib)!r}, encoding='utf-8').read(), 'refs.bib'); "
            "print(out[0].record['author'], out[0].record['publisher'], problems); "
            "print('bibtexparser' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    people, loaded = result.stdout.splitlines()
    assert loaded == "False"
    assert people == ("[{'family': 'Cañedo-Argüelles Iglesias', 'given': 'Miguel'}, {'literal': 'World Bank'}, "
                      "{'family': 'van der Berg', 'given': 'J.'}, {'family': 'da Silva', 'given': 'José'}] Wiley []")
