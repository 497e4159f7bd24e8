"""doi.org content negotiation, for DOIs Crossref does not know (DataCite,
mEDRA, JaLC...): ``GET {CITETOOL_DOI_URL}/{doi}`` with
``Accept: application/vnd.citationstyles.csl+json``, following the redirect to
the registration agency, and the CSL-JSON it answers mapped to the record.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from citetool.errors import NotFound, SourceUnavailable
from citetool.record import CSL_TYPES, ITEM_VARIABLES, NAME_KEYS, NAME_VARIABLES, Record
from citetool.text import clean_paragraphs, clean_text

SOURCE = "doi.org"
ACCEPT = "application/vnd.citationstyles.csl+json"
CACHE_MAX_AGE = 7 * 24 * 3600


def _date(value):
    if not isinstance(value, dict):
        return None
    rows = value.get("date-parts") or []
    parts = []
    for p in (rows[0] if rows and isinstance(rows[0], list) else []):
        try:
            parts.append(int(p))
        except (TypeError, ValueError):
            break
    return {"date-parts": [parts]} if parts else None


def csl_to_record(item: dict) -> Record:
    """A CSL-JSON item from a registration agency, cleaned into the record."""
    rec: Record = {}
    for key, value in item.items():
        if key not in ITEM_VARIABLES or key in ("id", "citation-key", "custom") or value in (None, "", [], {}):
            continue
        if key in NAME_VARIABLES and isinstance(value, list):
            people = []
            for person in value:
                if not isinstance(person, dict):
                    continue
                name = {k: clean_text(str(v)) for k, v in person.items() if k in NAME_KEYS and v}
                if name.get("family") or name.get("literal"):
                    people.append(name)
                elif name.get("given"):
                    people.append({"literal": name["given"]})
            if people:
                rec[key] = people
        elif isinstance(value, dict) and "date-parts" in value:
            date = _date(value)
            if date:
                rec[key] = date
        elif key == "categories" and isinstance(value, list):  # the one list-of-strings variable
            cats = [clean_text(str(v)) for v in value if v]
            if cats:
                rec[key] = cats
        elif isinstance(value, list):  # some agencies send lists for string variables
            text = next((clean_text(str(v)) for v in value if v), "")
            if text:
                rec[key] = text
        elif key == "abstract":
            rec[key] = clean_paragraphs(str(value))
        elif isinstance(value, (str, int, float)):
            text = clean_text(str(value))
            if text:
                rec[key] = text
    if rec.get("type") not in CSL_TYPES:
        rec["type"] = {"article": "article-journal"}.get(str(rec.get("type")), "document")
    if rec.get("DOI"):
        rec["DOI"] = rec["DOI"].lower()
    return rec


class DoiOrgClient:
    def __init__(self, settings, cache=None):
        self.settings = settings
        self.cache = cache

    def fetch(self, doi: str, offline: bool = False) -> dict:
        """The CSL-JSON item doi.org gives for ``doi``; NotFound or SourceUnavailable."""
        import requests

        key = "csl:" + doi.lower()
        cached = self.cache.get(key, any_age=offline) if self.cache else None
        if cached:
            return json.loads(cached)
        if offline:
            raise SourceUnavailable(f"{doi} is not in the cache (offline)")
        url = f"{self.settings.doi_url}/{quote(doi, safe='/')}"
        try:
            response = requests.get(url, headers={"Accept": ACCEPT, "User-Agent": self.settings.user_agent},
                                    timeout=self.settings.timeout)
        except requests.Timeout:
            raise SourceUnavailable(f"doi.org did not answer within {self.settings.timeout:g}s for {doi}") from None
        except requests.RequestException as exc:
            raise SourceUnavailable(f"cannot reach doi.org for {doi}: {type(exc).__name__}") from None
        if response.status_code in (404, 410):
            raise NotFound(f"not found in Crossref or at doi.org: {doi}")
        if response.status_code != 200:
            raise SourceUnavailable(f"doi.org answered HTTP {response.status_code} for {doi}")
        try:
            item = response.json()
        except ValueError:
            raise SourceUnavailable(f"doi.org sent no CSL-JSON for {doi} (is it registered with an agency that offers it?)") from None
        if not isinstance(item, dict):
            raise SourceUnavailable(f"doi.org sent an answer of the wrong shape for {doi}")
        if self.cache:
            self.cache.put(key, json.dumps(item, ensure_ascii=False))
        return item
