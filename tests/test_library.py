"""The store as a library: one reference per work, provenance, the user's edits kept."""

import json
import textwrap

from conftest import SEED_DOI

SEED_KEY = "arduino2021russia"
# A real hand fix (a word changed): typography alone (Title Case, straight quotes)
# would change nothing (issue #15 item 4, tests/test_fidelity.py).
HAND_FIXED = "Russia's Scalable Soft Power: Leveraging Defense Diplomacy through the Sale of S-400 Triumph"

COAUTHOR_BIB = textwrap.dedent(r"""
    @string{dsa = "Defense {\&} Security Analysis"}

    @article{Arduino:2021,
      author = {Arduino, A. and Shuja, A.},
      title = {Russia's Scalable Soft Power: Leveraging Defense Diplomacy through the Sale of {S-400} Triumph},
      journal = dsa,
      year = 2021,
      volume = {37},
      number = {4},
      pages = {435--452},
      doi = {https://doi.org/10.1080/14751798.2021.1995963},
    }
    """)


def stored(store_path):
    return json.loads(store_path.read_text(encoding="utf-8"))["references"]


def test_seed_scenario_one_reference_hand_fix_kept(crossref, run, store_path, tmp_path, monkeypatch):
    assert run("add", SEED_DOI).stdout == f"{SEED_KEY}\n"
    bib = tmp_path / "coauthor.bib"
    bib.write_text(COAUTHOR_BIB, encoding="utf-8")
    imported = run("import", str(bib))
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout == f"{SEED_KEY}\n"  # merged into the existing reference, key kept
    assert run("add", SEED_DOI).stdout == f"{SEED_KEY}\n"
    refreshed = run("refresh")
    assert refreshed.exit_code == 0, refreshed.stderr
    assert len(crossref.requests) == 2  # refresh asks Crossref again, whatever the cache holds

    refs = stored(store_path)
    assert len(refs) == 1
    ref = refs[0]
    assert ref["title"] == HAND_FIXED
    assert ref["author"] == [{"family": "Arduino", "given": "Alessandro"}, {"family": "Shuja", "given": "Asif"}]
    fields = ref["citetool"]["fields"]
    assert fields["title"] == "user"
    assert all(fields[f] == "crossref" for f in ("author", "volume", "issue", "page", "container-title", "DOI"))

    shown = run("show", SEED_KEY).stdout
    assert f"title: {HAND_FIXED}  [user]" in shown
    assert "  crossref says: Russia’s scalable soft power: leveraging defense diplomacy" in shown
    assert "volume: 37  [crossref]" in shown
    assert "source import: " in shown and "coauthor.bib" in shown


def test_edit_set_and_unset_survive_refresh(crossref, run, store_path):
    run("add", SEED_DOI)
    result = run("edit", SEED_KEY, "--set", "title=My title", "--set", "author=Arduino, Alessandro and Shuja, Asif and Doe, Jane",
                 "--set", "issued=2021-10-28", "--unset", "abstract")
    assert result.exit_code == 0, result.stderr
    assert "changed title, author, issued, abstract" in result.stderr
    run("refresh", SEED_KEY)
    ref = stored(store_path)[0]
    assert ref["title"] == "My title"
    assert [a["family"] for a in ref["author"]] == ["Arduino", "Shuja", "Doe"]
    assert ref["issued"] == {"date-parts": [[2021, 10, 28]]}
    assert "abstract" not in ref  # unset by the user: not re-added by the source
    assert ref["citetool"]["conflicts"]["title"]["crossref"].startswith("Russia’s scalable")


def test_edit_rejects_bad_input(crossref, run):
    run("add", SEED_DOI)
    assert run("edit", SEED_KEY, "--set", "titel=x").exit_code == 2
    assert run("edit", SEED_KEY, "--set", "issued=soon").exit_code == 2
    assert run("edit", SEED_KEY, "--set", "type=journal-article").exit_code == 2
    assert run("edit", SEED_KEY, "--set", "novalue").exit_code == 2
    assert run("edit", SEED_KEY, "--unset", "titel").exit_code == 2
    assert run("edit", SEED_KEY, "--unset", "type").exit_code == 2  # CSL requires a type
    unset_date = run("edit", SEED_KEY, "--unset", "issued")
    assert unset_date.exit_code == 0 and "changed issued" in unset_date.stderr
    assert "editor opens only on a terminal" in run("edit", SEED_KEY).stderr
    assert run("edit", "nosuchkey", "--set", "title=x").exit_code == 5


def test_editing_one_reference_changes_only_its_lines(crossref, run, store_path):
    import difflib

    run("add", SEED_DOI, "10.1038/ng.3834", "10.1038/srep16696")
    before = store_path.read_text(encoding="utf-8").splitlines()
    assert run("edit", "chiang2017impact", "--set", "volume=1049").exit_code == 0
    after = store_path.read_text(encoding="utf-8").splitlines()
    # The edited reference's block: from its "{" to its closing "},".
    top = after.index('      "id": "chiang2017impact",')
    start = max(i for i in range(top) if after[i] == "    {")
    end = next(i for i in range(top, len(after)) if after[i] in ("    },", "    }"))
    touched = []
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after).get_opcodes():
        if tag != "equal":
            touched += list(range(j1, max(j2, j1 + 1)))
    assert touched and all(start <= j <= end for j in touched)
    assert json.loads("\n".join(after))["references"][1]["volume"] == "1049"


def test_import_bibtex_features_and_malformed_entries(run, store_path, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(textwrap.dedent(r"""
        @string{jfe = "Journal of Financial Economics"}
        @article{good1,
          author = {M{\"u}ller, J{\"o}rg and {World Bank}},
          title = {Prices {\&} 100\% of {GDP}},
          journal = jfe,
          year = {2019}, month = mar,
          pages = {1--20},
        }
        @article{broken,
          title = {unbalanced
          year = 2020
        }
        @inproceedings{paper1,
          author = {Doe, Jane},
          title = {A conference paper},
          crossref = {conf1},
          pages = {5--9},
        }
        @proceedings{conf1,
          title = {Proceedings of the Conference},
          year = {2018},
          publisher = {ACM},
        }
        """), encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 3
    assert f"{bib}:10: skipped a malformed entry (Unexpected block start: `@inproceedings`." in result.stderr
    assert result.stdout.split() == ["good1", "paper1", "conf1"]
    refs = {r["id"]: r for r in stored(store_path)}
    good = refs["good1"]
    assert good["author"] == [{"family": "Müller", "given": "Jörg"}, {"literal": "World Bank"}]
    assert good["title"] == "Prices & 100% of GDP"
    assert good["container-title"] == "Journal of Financial Economics"
    assert good["issued"] == {"date-parts": [[2019, 3]]} and good["page"] == "1-20"
    assert refs["paper1"]["container-title"] == "Proceedings of the Conference"
    assert refs["paper1"]["publisher"] == "ACM" and refs["paper1"]["issued"] == {"date-parts": [[2018]]}
    assert good["citetool"]["fields"]["title"] == "import"


def test_import_keeps_own_key_unless_taken_and_dedupes(crossref, run, store_path, tmp_path):
    run("add", SEED_DOI)
    ris = tmp_path / "zotero.ris"
    ris.write_text("TY  - JOUR\nAU  - Doe, Jane\nTI  - Another work\nPY  - 2020\nID  - arduino2021russia\nER  - \n\n"
                   "TY  - BOOK\nAU  - Lilly, Bilyana\nTI  - Russian foreign policy toward missile defense\n"
                   "PY  - 2014\nPB  - Lexington Books\nER  - \n", encoding="utf-8")
    result = run("import", str(ris))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["arduino2021russiaa", "lilly2014russian"]
    csl = tmp_path / "items.json"
    csl.write_text(json.dumps([{"id": "x1", "type": "book", "title": "Russian foreign policy toward missile defense",
                                "author": [{"family": "Lilly", "given": "Bilyana"}],
                                "issued": {"date-parts": [[2014]]}, "publisher-place": "Lanham"}]), encoding="utf-8")
    again = run("import", str(csl))
    assert again.stdout.split() == ["lilly2014russian"]  # same work: merged, not duplicated
    refs = {r["id"]: r for r in stored(store_path)}
    assert len(refs) == 3 and refs["lilly2014russian"]["publisher-place"] == "Lanham"


def test_import_resolve_enriches_from_crossref(crossref, run, store_path, tmp_path):
    bib = tmp_path / "min.bib"
    bib.write_text("@article{mine, title = {Scalable soft power}, doi = {10.1080/14751798.2021.1995963}}\n", encoding="utf-8")
    result = run("import", "--resolve", str(bib))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "mine\n"
    ref = stored(store_path)[0]
    assert ref["volume"] == "37" and ref["citetool"]["fields"]["volume"] == "crossref"
    assert ref["title"] == "Scalable soft power" and ref["citetool"]["fields"]["title"] == "user"


def test_rekey(crossref, run, store_path):
    run("add", SEED_DOI, "10.1038/ng.3834")
    assert run("rekey", SEED_KEY, "chiang2017IMPACT").exit_code == 2  # collision ignoring case
    assert run("rekey", SEED_KEY, "bad key").exit_code == 2
    result = run("rekey", SEED_KEY, "Arduino2021")
    assert result.exit_code == 0 and result.stdout == "Arduino2021\n"
    assert sorted(r["id"] for r in stored(store_path)) == ["Arduino2021", "chiang2017impact"]
    assert run("rekey", "arduino2021", "arduino2021").exit_code == 0  # a case change of its own key
    assert run("add", SEED_DOI).stdout == "arduino2021\n"  # the key stays, no new reference


def test_filters_on_list_and_export(crossref, run):
    run("add", SEED_DOI, "10.1038/ng.3834", "10.1017/9781108348843", "10.1101/097196")

    def keys(*args):
        result = run("list", *args)
        assert result.exit_code == 0, result.stderr
        return [line.split("\t")[0] for line in result.stdout.splitlines()]

    everything = keys()
    assert len(everything) == 4
    books = keys("--type", "book")
    assert len(books) == 1 and json.loads(run("show", books[0], "--json").stdout)["type"] == "book"
    assert keys("--type", "article-journal") == [SEED_KEY, "chiang2017impact"]
    assert keys("--year", "2021") == [SEED_KEY]
    assert keys("--year", "2016-2017") == sorted(set(everything) - {SEED_KEY} - set(books), key=str.lower)
    assert sorted(keys("--year", "-2016") + keys("--year", "2017-")) == sorted(everything)
    assert keys("--search", "SCALABLE soft") == [SEED_KEY]
    assert keys("--search", "shuja") == [SEED_KEY]
    assert keys("--search", "nothing like this") == []
    exported = run("export", "-f", "ris", "--year", "2021-")
    assert exported.stdout.count("TY  - ") == 1
    bad = run("list", "--year", "soon")
    assert bad.exit_code == 2 and "--year takes YEAR or FROM-TO" in bad.stderr


def test_one_library_object_stays_consistent_across_writes(crossref, store_path):
    """The Python API: a Library kept across rekey and import still finds what it stores."""
    from citetool.library import Library

    lib = Library(store_path)
    assert lib.add([SEED_DOI])[0].key == SEED_KEY
    lib.rekey(SEED_KEY, "seed")
    assert [(o.status, o.key) for o in lib.add([SEED_DOI])] == [("present", "seed")]
    outcomes, _ = lib.import_files([("x.bib", "@article{b1, title={The impact}, author={Doe, Jane}, "
                                              "journal={J}, year=2017, doi={10.1038/ng.3834}}")])
    assert outcomes[0].status == "added"
    assert [(o.status, o.key) for o in lib.add(["10.1038/ng.3834"])] == [("present", "b1")]


def test_edit_in_the_editor(crossref, run, store_path, tmp_path, monkeypatch):
    import sys

    from citetool.cli.edit import edit_in_editor
    from citetool.errors import UsageError
    from citetool.library import Library

    run("add", SEED_DOI)
    editor = tmp_path / "editor.py"
    editor.write_text("import json, sys\np = sys.argv[1]\nr = json.load(open(p))\n"
                      "r['volume'] = '38'\ndel r['abstract']\njson.dump(r, open(p, 'w'))\n", encoding="utf-8")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    lib = Library(store_path)
    values = edit_in_editor(lib, SEED_KEY)
    assert values == {"volume": "38", "abstract": None}
    editor.write_text("import json, sys\np = sys.argv[1]\nr = json.load(open(p))\ndel r['type']\n"
                      "json.dump(r, open(p, 'w'))\n", encoding="utf-8")
    try:
        edit_in_editor(lib, SEED_KEY)
        raise AssertionError("a record without a type was accepted")
    except UsageError as exc:
        assert "needs a type" in str(exc)


def test_a_sloppy_coauthor_entry_says_less_and_changes_nothing(crossref, run, store_path, tmp_path):
    """Found trying the README as a newcomer: a co-author's @misc with the first
    two authors as initials replaced Crossref's eight authors and its type, as
    the user's. A shorter, initialled author list and an untyped entry say less."""
    assert run("add", "10.1038/srep16696").exit_code == 0
    before = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert len(before["author"]) > 2 and before["type"] == "article-journal"
    first, second = before["author"][:2]
    bib = tmp_path / "coauthor.bib"
    authors = f"{first['family']}, {first['given'][0]}. and {second['family']}, {second['given'][0]}."
    bib.write_text("@misc{tosatto_dup, author = {" + authors + "}, title = {" + before["title"] + "},"
                   " doi = {10.1038/SREP16696}}\n", encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 0, result.stderr
    after = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert after["author"] == before["author"] and after["type"] == "article-journal"
    assert after["citetool"]["fields"]["author"] == "crossref" and after["citetool"]["fields"]["type"] == "crossref"
    # a genuinely different list is still the user's hand fix
    bib.write_text("@article{fix, author = {Someone, Else}, doi = {10.1038/srep16696}}\n", encoding="utf-8")
    assert run("import", str(bib)).exit_code == 0
    fixed = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert fixed["author"] == [{"family": "Someone", "given": "Else"}] and fixed["citetool"]["fields"]["author"] == "user"


def test_refresh_says_an_imported_entry_had_no_source_to_ask(crossref, run, store_path, tmp_path):
    """An entry that came from a .bib (no source made it) is not asked, and the
    summary says so rather than counting it refreshed."""
    assert run("add", SEED_DOI).exit_code == 0
    bib = tmp_path / "other.bib"
    bib.write_text("@book{keynes1936,\n  author = {Keynes, John Maynard},\n  title = {The General Theory of "
                   "Employment, Interest and Money},\n  publisher = {Macmillan},\n  year = {1936},\n}\n",
                   encoding="utf-8")
    assert run("import", str(bib)).exit_code == 0
    refreshed = run("refresh", "--json")
    assert refreshed.exit_code == 0, refreshed.stderr
    statuses = {o["key"]: o["status"] for o in map(json.loads, refreshed.stdout.splitlines())}
    assert statuses == {SEED_KEY: "present", "keynes1936": "skipped"}
    assert "1 refreshed, 0 changed, 1 not asked (no source made them: imported or typed in)" in refreshed.stderr
    assert crossref.requests == [SEED_DOI, SEED_DOI]  # add, then refresh: nothing asked for keynes1936
    assert run("refresh").stdout == f"{SEED_KEY}\n"  # the keys refreshed: not the one skipped
