"""CSL-JSON: an array of items valid against the official schema
(``csl-data.json``, ``additionalProperties: false``): citetool's own data and
anything else the schema does not know are left out."""

from __future__ import annotations

import json

from citetool.record import NAME_ROLES, Record

# Variables the official schema allows on an item (schema v1.0).
ITEM_VARIABLES = frozenset("""
type id citation-key categories language journalAbbreviation shortTitle author chair
collection-editor compiler composer container-author contributor curator director editor
editorial-director executive-producer guest host interviewer illustrator narrator organizer
original-author performer producer recipient reviewed-author script-writer series-creator
translator accessed available-date event-date issued original-date submitted abstract annote
archive archive_collection archive_location archive-place authority call-number chapter-number
citation-number citation-label collection-number collection-title container-title
container-title-short dimensions division DOI edition event event-title event-place
first-reference-note-number genre ISBN ISSN issue jurisdiction keyword locator medium note
number number-of-pages number-of-volumes original-publisher original-publisher-place
original-title page page-first part part-title PMCID PMID printing publisher publisher-place
references reviewed-genre reviewed-title scale section source status supplement title
title-short URL version volume volume-title volume-title-short year-suffix custom
""".split())
NAME_KEYS = frozenset("""family given dropping-particle non-dropping-particle suffix comma-suffix
static-ordering literal parse-names""".split())


def to_csl(rec: Record) -> dict:
    item = {}
    for key, value in rec.items():
        if key not in ITEM_VARIABLES:
            continue
        if key in NAME_ROLES or (isinstance(value, list) and value and isinstance(value[0], dict)):
            value = [{k: v for k, v in n.items() if k in NAME_KEYS} for n in value]
        item[key] = value
    item["citation-key"] = rec["id"]
    return item


def render(records: list[Record]) -> str:
    return json.dumps([to_csl(r) for r in records], ensure_ascii=False, indent=2) + "\n"
