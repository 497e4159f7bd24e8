from hypothesis import given
from hypothesis import strategies as st

from citetool.keys import all_citable, base_key, invalid_key_reason, is_valid_key, unique_key


def rec(family=None, year=2021, title="A study of things", literal=None, editor=False):
    person = {"literal": literal} if literal else {"family": family, "given": "X"}
    r = {"title": title}
    if family or literal:
        r["editor" if editor else "author"] = [person]
    if year:
        r["issued"] = {"date-parts": [[year]]}
    return r


def test_google_scholar_style():
    r = rec("Arduino", 2021, "Russia’s scalable soft power: leveraging defense diplomacy")
    assert base_key(r) == "arduino2021russia"


def test_names_are_folded_to_ascii():
    assert base_key(rec("Ünal")).startswith("unal2021")
    assert base_key(rec("Łukasz")).startswith("lukasz2021")
    assert base_key(rec("O'Brien")).startswith("obrien2021")
    assert base_key(rec("García-Márquez")).startswith("garciamarquez2021")
    assert base_key(rec("王")).startswith("wang2021")


def test_stopwords_are_skipped():
    assert base_key(rec("Doe", 2020, "The art of war")) == "doe2020art"
    assert base_key(rec("Doe", 2020, "On the origin")) == "doe2020origin"


def test_organisations_missing_authors_years_and_titles():
    assert base_key(rec(literal="The World Bank")) == "world2021study"
    assert base_key(rec(None)) == "anon2021study"
    assert base_key(rec("Doe", None)) == "doendstudy"
    assert base_key(rec("Doe", 2021, "")) == "doe2021"
    assert base_key(rec("Editor", editor=True)).startswith("editor2021")


def test_keys_are_always_valid():
    for r in [rec("Ünal"), rec(literal="GTEx Consortium"), rec(None, None, "")]:
        assert is_valid_key(base_key(r)), base_key(r)


def test_collisions_take_suffixes_ignoring_case():
    taken = {"doe2020art"}
    assert unique_key("doe2020art", taken) == "doe2020arta"
    assert unique_key("Doe2020Art", taken) == "Doe2020Arta"
    taken = {"doe2020art", "doe2020arta", "doe2020artb"}
    assert unique_key("doe2020art", taken) == "doe2020artc"
    assert unique_key("free", taken) == "free"
    taken = {"k"} | {"k" + chr(c) for c in range(ord("a"), ord("z") + 1)}
    assert unique_key("k", taken) == "kaa"



@given(st.lists(st.text(max_size=12) | st.sampled_from(["Smith:2001/x", "ключ", "a b", "x,y", "k\n", "", "z" * 201])))
def test_one_search_of_all_keys_agrees_with_the_rule_key_by_key(keys):
    """The store's read checks all its keys in one search: the same verdict as each alone."""
    assert all_citable(keys) == all(invalid_key_reason(key) is None for key in keys)
