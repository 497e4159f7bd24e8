"""The Crossref -> record mapping, on every recorded response."""

import json

import pytest
from conftest import SEED_FIXTURE, WORKS, crossref_fixture_files

from citetool.record import CSL_TYPES
from citetool.sources.crossref_mapping import choose_date, work_to_record

LIST_ITEMS = sorted((WORKS.parent / "list-items").glob("*.json"))


def message(name: str) -> dict:
    return json.loads((WORKS / f"{name}.json").read_text(encoding="utf-8"))["message"]


@pytest.mark.parametrize("path", crossref_fixture_files() + LIST_ITEMS, ids=lambda p: p.stem)
def test_every_fixture_maps_to_a_clean_record(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    work = data.get("message", data)
    rec = work_to_record(work)
    assert rec["type"] in CSL_TYPES
    assert rec["DOI"] == work["DOI"].lower()
    for field in ("title", "container-title", "abstract"):
        value = rec.get(field, "")
        assert "<i>" not in value and "</" not in value and "&amp;" not in value and "&lt;" not in value
        assert "\n" not in value or field == "abstract"
    if any(t.strip() for t in work.get("title") or []):
        assert rec.get("title")
    else:
        assert "title" not in rec
    for person in rec.get("author", []) + rec.get("editor", []):
        assert person.get("family") or person.get("literal")
    assert len(rec.get("author", [])) == len([a for a in work.get("author", []) if a.get("family") or a.get("given") or a.get("name")])


def test_authors_keep_array_order_given_family_and_orcid():
    rec = work_to_record(message("10.1038_ng.3834"))
    work = message("10.1038_ng.3834")
    assert [a.get("family") or a.get("literal") for a in rec["author"]] == [
        a.get("family") or a.get("name") for a in work["author"]
    ]
    assert {"literal": "GTEx Consortium"} in rec["author"]
    orcids = [a["ORCID"] for a in rec["author"] if "ORCID" in a]
    assert orcids and all(o.startswith("https://orcid.org/0000-") for o in orcids)


def test_markup_and_double_escaped_entities_become_text():
    assert work_to_record(message("10.5194_cp-2020-95"))["title"].startswith(
        "The Atmospheric Bridge Communicated the δ13C Decline"
    )
    title = work_to_record(message("10.1098_rspb.2017.0132"))["title"]
    assert title.endswith("in the seed beetle Callosobruchus maculatus")


def test_no_break_spaces_are_kept():
    assert "présences\u00a0: des" in work_to_record(message("10.4000_dms.865"))["title"]


def test_subtitle_is_joined_to_the_title():
    rec = work_to_record(message("10.1007_s00120-007-1345-2"))
    assert rec["title"] == "Penisverletzung durch eine Moulinette: Folge einer autoerotischen Selbstverstümmelung"
    assert rec["language"] == "de"


def test_article_number_and_missing_pages():
    rec = work_to_record(message("10.1038_srep16696"))
    assert rec["number"] == "16696"
    assert "page" not in rec


def test_empty_title_and_null_dates():
    assert "title" not in work_to_record(message("10.7600_jspfsm.56.60"))
    assert choose_date({"issued": {"date-parts": [[None]]}}) == []
    assert "issued" not in work_to_record(message("10.1109_icdcsw.2003.1203662"))


def test_date_rule_prefers_the_print_year_for_journal_issues():
    work = message("10.1136_jclinpath-2020-206745")  # online 2020-08-17, in print 2021-05
    assert work_to_record(work)["issued"] == {"date-parts": [[2021, 5]]}
    posted = {"type": "posted-content", "posted": {"date-parts": [[2019, 3, 1]]}, "issued": {"date-parts": [[None]]}}
    assert choose_date(posted) == [2019, 3, 1]


def test_editors_books_and_chapters():
    book = work_to_record(message("10.2973_odp.proc.ir.180.2000"))
    assert book["type"] == "book" and len(book["editor"]) == 4 and "author" not in book
    chapter = work_to_record(message("10.1007_978-3-642-33191-6_49"))
    assert chapter["type"] == "chapter"
    assert chapter["container-title"] == "Advances in Visual Computing"
    assert chapter["collection-title"] == "Lecture Notes in Computer Science"
    assert chapter["ISBN"] == "9783642331909, 9783642331916"
    assert chapter["publisher-place"] == "Berlin, Heidelberg"


def test_dissertation_and_preprint():
    thesis = work_to_record(message("10.14264_uql.2020.791"))
    assert thesis["type"] == "thesis" and thesis["publisher"] == "The University of Queensland"
    assert thesis["genre"] == "PhD Thesis"
    preprint = work_to_record(message("10.1101_097196"))
    assert preprint["type"] == "article" and preprint["publisher"] == "bioRxiv" and preprint["genre"] == "Preprint"


def test_abstract_loses_its_jats_title():
    rec = work_to_record(json.loads(SEED_FIXTURE.read_text(encoding="utf-8"))["message"])
    assert rec["abstract"].startswith("Military hardware and technology transfer")
