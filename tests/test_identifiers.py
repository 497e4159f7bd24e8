import pytest

from citetool.errors import IdentifierError
from citetool.identifiers import normalise_doi, parse_identifier

SEED = "10.1080/14751798.2021.1995963"


@pytest.mark.parametrize(
    "text",
    [
        SEED,
        f"doi:{SEED}",
        f"DOI: {SEED}",
        f"https://doi.org/{SEED}",
        f"http://dx.doi.org/{SEED}",
        f"https://www.doi.org/{SEED}",
        f"doi.org/{SEED}",
        "10.1080%2F14751798.2021.1995963",
        "https://doi.org/10.1080%2F14751798.2021.1995963",
        f"  {SEED}  ",
        f"{SEED}.",
        f"{SEED},",
        f"{SEED};",
        f"({SEED})",
        f"<{SEED}>",
        f"“{SEED}”",
        f"info:doi/{SEED}",
        f"urn:doi:{SEED}",
    ],
)
def test_every_spelling_gives_the_same_doi(text):
    ident = parse_identifier(text)
    assert ident.kind == "doi"
    assert ident.value == SEED


def test_case_is_ignored_for_comparison_but_kept_for_display():
    a = parse_identifier("10.1080/14751798.2021.1995963")
    b = parse_identifier("10.1080/14751798.2021.1995963".upper())
    assert a.key == b.key
    assert b.value == "10.1080/14751798.2021.1995963".upper()


@pytest.mark.parametrize(
    "doi",
    [
        "10.1002/1096-9861(20010212)430:3<283::aid-cne1031>3.0.co;2-v",
        "10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2",
    ],
)
def test_sici_dois_survive(doi):
    assert normalise_doi(doi) == doi
    assert normalise_doi(f"https://doi.org/{doi}") == doi
    assert normalise_doi(f"{doi}.") == doi


def test_balanced_brackets_at_the_end_are_kept():
    assert normalise_doi("10.1000/abc(1)") == "10.1000/abc(1)"
    assert normalise_doi("see 10.1000/abc(1))") is None  # leading words are not a DOI


@pytest.mark.parametrize("text", ["", "   ", "hello world", "10.10/x", "11.1080/abc", "doi:", "10.1080/"])
def test_garbage_is_rejected_with_a_message_naming_it(text):
    with pytest.raises(IdentifierError) as err:
        parse_identifier(text)
    if text.strip():
        assert text.strip() in str(err.value)


@pytest.mark.parametrize("text, value, also", [
    ("10.21052/kcmr.", "10.21052/kcmr", "10.21052/kcmr."),  # a genuine DOI that ends in a full stop
    ("See https://doi.org/10.1234/x.", "10.1234/x", "10.1234/x."),
    ("(doi:10.1234/x.)", "10.1234/x", "10.1234/x."),
    ("\"10.1234/x.\",", "10.1234/x", "10.1234/x."),
    ("10.1234/x..", "10.1234/x", "10.1234/x.."),
    ("10.1234/x", "10.1234/x", None),
    ("10.1234/x,", "10.1234/x", None),
    ("10.1234/x/.", "10.1234/x/", None),  # "/." would leave the DOI's route: never asked
])
def test_a_doi_that_ended_in_a_full_stop_is_read_both_ways(text, value, also):
    from citetool.identifiers import parse_line

    ident = parse_line(text.removeprefix("See "))
    assert (ident.kind, ident.value, ident.also) == ("doi", value, also)
