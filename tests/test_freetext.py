"""References written out as text (APA, Chicago, EconPapers style): `search`
lists Crossref's candidates; `add` resolves a line only when the best
candidate is clearly the one meant, and otherwise fails that line naming the
candidates (exit 3), never adding a guess. Crossref is a real local server
answering query.bibliographic with the hand-built lists of
tests/fixtures/freetext/ (made of genuine recorded works; see SOURCES.md)."""

import json
from pathlib import Path

import pytest
from conftest import FakeCrossref

FREETEXT = Path(__file__).parent / "fixtures" / "freetext"
ROUTES = [("arduino", "seed"), ("petrovici", "petrovici"), ("dissmeyer", "dissmeyer"), ("citation roadmap", "close")]

APA = ("Arduino, A., & Shuja, A. (2021). Russia’s scalable soft power: Leveraging defense diplomacy through the "
       "transfer of S-400 Triumph. Defense & Security Analysis, 37(4), 435–452.")
CHICAGO = ("Dissmeyer, Nico, Susana Rivas, and Emmanuelle Graciet. 2017. “Life and Death of Proteins after Protease "
           "Cleavage: Protein Degradation by the N-End Rule Pathway.” New Phytologist 218 (3): 929–35.")
ECONPAPERS = ("Norel Petrovici: Workers and the City: Rethinking the Geographies of Power in Post-socialist "
              "Urbanisation, Urban Studies, 2012, vol. 49, issue 11, 2377-2397")


@pytest.fixture
def search(httpserver, monkeypatch):
    """Crossref: query.bibliographic answered from tests/fixtures/freetext/, the rest as usual."""
    from werkzeug import Response

    queries: list[str] = []

    def handle(request):
        query = request.args.get("query.bibliographic")
        if query is None:
            return fake.handle_list(request)
        queries.append(query)
        name = next((n for word, n in ROUTES if word in query.lower()), "empty")
        return Response((FREETEXT / f"{name}.json").read_bytes(), content_type="application/json")

    httpserver.expect_request("/works").respond_with_handler(handle)  # before FakeCrossref's own
    fake = FakeCrossref(httpserver)
    fake.queries = queries
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", fake.url)
    return fake


def stored(store_path):
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


@pytest.mark.parametrize("line, key, doi", [
    (APA, "arduino2021russia", "10.1080/14751798.2021.1995963"),
    (CHICAGO, "dissmeyer2018life", "10.1111/nph.14619"),  # cited by its online year, printed the next
    (ECONPAPERS, "petrovici2012workers", "10.1177/0042098011428175"),
])
def test_a_reference_string_is_resolved_when_the_match_is_sure(search, run, store_path, line, key, doi):
    result = run("add", line)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{key}\n"
    ref = stored(store_path)[key]
    assert ref["DOI"] == doi
    assert ref["citetool"]["fields"]["title"] == "crossref"
    assert list(ref["citetool"]["sources"]) == ["crossref"]
    assert search.queries == [" ".join(line.split())]
    assert search.requests == []  # the search answer is the record: no second request


def test_a_reference_list_pasted_from_a_paper(search, run, store_path, tmp_path):
    references = tmp_path / "references.txt"
    references.write_text("\n".join([APA, "10.1038/srep16696", ECONPAPERS, "Data citation roadmap for scholarly "
                                     "data repositories, 2016, Fenner and others"]) + "\n", encoding="utf-8")
    result = run("add", "--from", str(references))
    assert result.exit_code == 3
    assert result.stdout.split() == ["arduino2021russia", "tosatto2015single", "petrovici2012workers"]
    assert "3 added, 0 updated, 0 already present, 1 failed" in result.stderr
    assert len(stored(store_path)) == 3


def test_close_candidates_are_not_a_sure_match(search, run, store_path):
    result = run("add", "Fenner M, et al. (2016) A data citation roadmap for scholarly data repositories.")
    assert result.exit_code == 3
    assert "no sure match in Crossref" in result.stderr and "no candidate stands out" in result.stderr
    assert "candidates: 10.1101/097196 (2016, Fenner, \"A Data Citation Roadmap for Scholarly Data Repositories\", score 61.2)" in result.stderr
    assert "10.3390/publications6020015" in result.stderr
    assert not store_path.exists()


@pytest.mark.parametrize("line, why", [
    ("Arduino, A., & Shuja, A. (2019). Russia’s scalable soft power: Leveraging defense diplomacy through the "
     "transfer of S-400 Triumph. Defense & Security Analysis, 37(4).", "its year is not the one in the text"),
    ("Arduino, A. (2021). Soft power and arms transfers in the Gulf. Middle East Policy, 28(2).",
     "its title is not the one in the text"),
])
def test_a_best_candidate_the_text_does_not_bear_out_is_not_added(search, run, store_path, line, why):
    result = run("add", line)
    assert result.exit_code == 3
    assert "no sure match in Crossref" in result.stderr
    assert "10.1080/14751798.2021.1995963 (2021, Arduino" in result.stderr  # the candidate is named
    assert why in result.stderr
    assert not store_path.exists()


def test_no_candidate_at_all(search, run):
    result = run("add", "Nobody, N. (1999). A work nobody has heard of in any index anywhere.")
    assert result.exit_code == 3
    assert "Crossref has no candidate" in result.stderr


def test_offline_a_reference_string_fails_cleanly(search, run):
    result = run("add", "--offline", APA)
    assert result.exit_code == 3 and "cannot search Crossref for a reference offline" in result.stderr
    assert search.queries == []


def test_a_stored_work_written_out_is_present(search, run, store_path):
    assert run("add", "10.1080/14751798.2021.1995963").exit_code == 0
    result = run("add", APA)
    assert result.exit_code == 0 and result.stdout == "arduino2021russia\n"
    assert len(stored(store_path)) == 1


def test_search_prints_candidates(search, run):
    result = run("search", "Arduino Shuja 2021 Russia's scalable soft power")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0].split("\t") == ["118.4", "10.1080/14751798.2021.1995963", "2021", "Arduino",
                                    "Russia’s scalable soft power: leveraging defense diplomacy through the "
                                    "transfer of S-400 triumph"]
    as_json = json.loads(run("search", "--json", "Arduino Shuja 2021").stdout)
    assert as_json[0] == {"score": 118.4, "DOI": "10.1080/14751798.2021.1995963", "year": 2021,
                          "author": "Arduino", "title": lines[0].split("\t")[4]}
    assert [c["score"] for c in as_json] == sorted((c["score"] for c in as_json), reverse=True)


def test_search_when_crossref_fails(run):
    result = run("search", "anything at all")  # Crossref points at a closed port
    assert result.exit_code == 3
    assert "Crossref list query failed: cannot reach Crossref" in result.stderr
