from citetool.keys import base_key, is_valid_key, unique_key


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
