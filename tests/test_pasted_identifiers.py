"""Identifiers as people paste them: a publisher's article address carrying the
DOI in its path, a doi.org link with a tracking query, `doi 10.…` with a space,
and a line holding two DOIs. Through the CLI, against the recorded Crossref
answers (each address below is the article page of a work recorded in
tests/fixtures/crossref/works/)."""

from __future__ import annotations

import json

import pytest
from conftest import SEED_DOI

from citetool.identifiers import parse_identifier

PAGES = {
    # Taylor & Francis (Atypon): every view of the page
    f"https://www.tandfonline.com/doi/full/{SEED_DOI}": SEED_DOI,
    f"https://www.tandfonline.com/doi/abs/{SEED_DOI}?journalCode=cdan20": SEED_DOI,
    f"https://www.tandfonline.com/doi/pdf/{SEED_DOI}?needAccess=true": SEED_DOI,
    # Wiley
    "https://nph.onlinelibrary.wiley.com/doi/10.1111/nph.14619": "10.1111/nph.14619",
    "https://onlinelibrary.wiley.com/doi/epdf/10.1111/nph.14619": "10.1111/nph.14619",
    # SAGE
    "https://journals.sagepub.com/doi/10.1177/0042098011428175": "10.1177/0042098011428175",
    "https://journals.sagepub.com/doi/pdf/10.1177/0042098011428175": "10.1177/0042098011428175",
    # Springer: articles, chapters, the PDF
    "https://link.springer.com/article/10.1007/s00120-007-1345-2": "10.1007/s00120-007-1345-2",
    "https://link.springer.com/chapter/10.1007/978-3-319-75889-3_1": "10.1007/978-3-319-75889-3_1",
    "https://link.springer.com/content/pdf/10.1007/s00120-007-1345-2.pdf": "10.1007/s00120-007-1345-2",
    # The Royal Society (Atypon too), percent-escaped
    "https://royalsocietypublishing.org/doi/10.1098%2Frspb.2017.0132": "10.1098/rspb.2017.0132",
}


@pytest.mark.parametrize("page, doi", PAGES.items())
def test_a_publisher_address_gives_the_doi_in_its_path(page, doi):
    found = parse_identifier(page)
    assert (found.kind, found.value) == ("doi", doi)


@pytest.mark.parametrize("page", [
    "https://www.sciencedirect.com/science/article/pii/S0140673697110960",  # no DOI in the path
    "https://www.nature.com/articles/srep16696",
    "https://academic.oup.com/qje/article/135/2/645/5658440",
    "https://example.org/doi/not-a-doi",
])
def test_an_address_without_a_doi_in_its_path_stays_a_web_page(page):
    assert parse_identifier(page).kind == "url"


def test_add_of_a_publisher_address_asks_crossref_for_its_doi(crossref, run):
    result = run("add", f"https://www.tandfonline.com/doi/full/{SEED_DOI}",
                 "https://link.springer.com/article/10.1007/s00120-007-1345-2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[0] == "arduino2021russia"
    assert crossref.requests + [d for batch in crossref.list_requests for d in batch] != []
    asked = {d.lower() for d in crossref.requests} | {d.lower() for batch in crossref.list_requests for d in batch}
    assert asked == {SEED_DOI.lower(), "10.1007/s00120-007-1345-2"}


def test_a_doi_link_with_a_tracking_query_and_doi_with_a_space(crossref, run):
    result = run("add", "https://doi.org/10.1038/srep16696?utm_source=x&utm_medium=email", "doi 10.1038/srep16696",
                 "DOI 10.1038/srep16696")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["tosatto2015single"] * 3


def test_a_line_holding_two_dois_gives_both(crossref, run, store_path):
    result = run("add", "-", input=f"10.1038/srep16696 doi:{SEED_DOI}\n10.1038/ng.3834, 10.1098/rspb.2017.0132.\n")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.split()) == 4
    dois = {r["DOI"].lower() for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}
    assert dois == {"10.1038/srep16696", SEED_DOI.lower(), "10.1038/ng.3834", "10.1098/rspb.2017.0132"}
