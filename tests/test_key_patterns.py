"""Keys the way researchers want them: a key pattern in citetool.toml (JabRef's
bracket notation), `rekey --pattern` keeping the old keys as aliases, and a
work with no author keyed by its container or title, never `anon…`. Through
the CLI, with the recorded Crossref answers."""

from __future__ import annotations

import json

import pytest
from conftest import SEED_DOI, crossref_fixture_files

from citetool.keypattern import compile_pattern, key_maker
from citetool.keys import base_key
from citetool.sources.crossref_mapping import work_to_record


def recorded_records() -> list[dict]:
    return [work_to_record(json.loads(path.read_text(encoding="utf-8"))["message"]) for path in crossref_fixture_files()]


def test_the_default_pattern_makes_todays_keys_and_never_anon():
    make = key_maker(None)
    records = recorded_records()
    assert len(records) > 80
    for record in records:
        today = base_key(record)
        if today.startswith("anon"):
            assert not make(record).startswith("anon"), record.get("title")
        else:
            assert make(record) == today


@pytest.mark.parametrize("doi, key", [
    ("10.7600/jspfsm.56.60", "japanese2007"),  # no author: its journal's first word
    ("10.1007/10452.1573-5125", "aquaticndecology"),  # a journal's own record: its title's words
    ("10.1371/journal.pmed.0030277.g001", "documentnd"),  # a figure with no title: its type
])
def test_a_work_with_no_author_is_keyed_by_its_container_title_or_type(crossref, run, doi, key):
    result = run("add", doi)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == key


@pytest.fixture
def patterned(tmp_path, monkeypatch):
    monkeypatch.delenv("CITETOOL_STORE", raising=False)
    (tmp_path / "citetool.toml").write_text('store = "refs.json"\nkey-pattern = "[auth][year][shorttitle]"\n',
                                            encoding="utf-8")
    return tmp_path


def test_the_configured_pattern_makes_new_keys(crossref, run, patterned):
    result = run("add", SEED_DOI, "10.1038/srep16696")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["Arduino2021RussiaScalableSoft", "Tosatto2015SingleFRETStudies"]
    config = json.loads(run("config", "--json").stdout)["settings"]["key-pattern"]
    assert config == {"value": "[auth][year][shorttitle]", "from": f"project file {patterned / 'citetool.toml'}"}
    again = run("refresh")
    assert again.exit_code == 0 and "Arduino2021RussiaScalableSoft" in run("list").stdout  # keys never change on their own


@pytest.mark.parametrize("pattern, said", [
    ("[auth][yr]", "unknown field [yr]"),
    ("[auth:lowercase]", "unknown modifier 'lowercase'"),
    ("[auth] [year]", "outside brackets may hold only"),
    ("smith", "names no field"),
])
def test_a_pattern_that_cannot_be_read_is_a_usage_error_naming_its_file(run, patterned, pattern, said):
    (patterned / "citetool.toml").write_text(f'key-pattern = "{pattern}"\n', encoding="utf-8")
    result = run("list")
    assert result.exit_code == 2
    assert said in result.stderr and f"(from project file {patterned / 'citetool.toml'})" in result.stderr


@pytest.mark.parametrize("pattern, key", [
    ("[auth:lower][year][veryshorttitle:lower]", "arduino2021russia"),
    ("[auth:upper]-[shortyear]", "ARDUINO-21"),
    ("[authors][year]", "ArduinoShuja2021"),
    ("[auth:lower]:[journal:abbr:lower][year]", "arduino:dsa2021"),
    ("[title:abbr]", "RSSPLDDTTST"),  # Russia’s scalable soft power: leveraging defense diplomacy through the transfer of S-400 triumph
])
def test_fields_and_modifiers(pattern, key):
    seed = next(r for r in recorded_records() if r.get("DOI", "").lower() == SEED_DOI.lower())
    assert compile_pattern(pattern)(seed) == key


def test_rekey_by_pattern_keeps_the_old_keys_as_aliases(crossref, run, store_path, tmp_path):
    old = run("add", SEED_DOI, "10.1038/srep16696").stdout.split()
    result = run("rekey", "--pattern", "[auth][year]", *old)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["Arduino2021", "Tosatto2015"]
    assert "renamed arduino2021russia to Arduino2021 (arduino2021russia stays an alias)" in result.stderr
    stored = {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}
    assert stored["Arduino2021"]["citetool"]["aliases"] == ["arduino2021russia"]
    assert run("show", "arduino2021russia").exit_code == 0  # the old key still finds the work
    paper = tmp_path / "paper.md"
    paper.write_text("[@arduino2021russia; @Tosatto2015]\n", encoding="utf-8")
    bib = run("bib", str(paper))
    assert bib.exit_code == 0 and "@article{arduino2021russia," in bib.stdout
    again = run("rekey", "--pattern", "[auth][year]", "Arduino2021")
    assert again.stdout.split() == ["Arduino2021"] and "the pattern gives it again" in again.stderr
    assert run("rekey", "OLD").exit_code == 2
