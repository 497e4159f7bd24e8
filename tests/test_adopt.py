"""Issue #21's acceptance: a researcher's own .bib, adopted as it is. For each
real paper of tests/fixtures/adopt/ (origins in its SOURCES.md): import its .bib
files, write its bibliography with ``citetool bib paper.tex``, and compile the
cited keys against the original files and against citetool's with the real
bibtex (plainnat) and biber: no citation the original defines may be undefined,
and every entry of the .bbl must be the same. The whole library exported back
must hold every entry, key and field of the originals (bibtexparser reads both).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from adopt_roundtrip import library_trip, papers, round_trip

PAPERS = papers()

# Real papers compiled against their own .bib files and against citetool's: a corpus
# through the real consumers, run in CI and with CITETOOL_CORPUS_TESTS=1 (tests/conftest.py).
pytestmark = pytest.mark.corpus


SHARED = Path(__file__).resolve().parents[2] / "shared"


def _needs(*tools: str):
    missing = [t for t in tools if shutil.which(t) is None]
    if not SHARED.is_dir():  # the real consumers come with ../shared (validators/install.sh)
        return pytest.mark.skip(reason=f"{SHARED} is missing (the real consumers are installed from it)")
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed")


def test_the_fixtures_are_there():
    assert len(PAPERS) >= 6, "tests/fixtures/adopt holds the real papers"


@_needs("bibtex")
@pytest.mark.parametrize("paper", PAPERS, ids=[p.name for p in PAPERS])
def test_a_paper_compiles_the_same_with_bibtex(paper, tmp_path):
    trip = round_trip(paper, tmp_path / "work", biber=False)
    assert trip.cited and trip.entries, "the original compiles"
    assert trip.undefined_after <= trip.undefined_before, trip.undefined_after - trip.undefined_before
    assert trip.identical == trip.entries, {k: v for k, v in list(trip.differing.items())[:3]}


@_needs("pdflatex", "biber")
@pytest.mark.parametrize("paper", PAPERS, ids=[p.name for p in PAPERS])
def test_a_paper_compiles_the_same_with_biber(paper, tmp_path):
    trip = round_trip(paper, tmp_path / "work", biber=True)
    assert trip.undefined_after <= trip.undefined_before, trip.undefined_after - trip.undefined_before
    if not trip.compiled:
        # econ-bst: biber refuses the original .bib (a key holding "'"): citetool's
        # bibliography defines every key biber can read, and says which it cannot
        assert len(trip.undefined_after) < len(trip.undefined_before)
        assert "biber cannot read a key holding" in trip.bib_stderr
        return
    assert trip.identical == trip.entries, {k: v for k, v in list(trip.differing.items())[:3]}


@pytest.mark.parametrize("paper", PAPERS, ids=[p.name for p in PAPERS])
def test_the_whole_library_comes_back(paper, tmp_path):
    entries, fields, kept, lost = library_trip(paper, tmp_path / "work")
    assert entries and fields
    assert kept == fields, lost[:5]
