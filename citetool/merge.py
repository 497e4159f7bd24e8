"""The one merge engine: decide which stored reference a new record belongs to,
and merge it field by field, keeping per-field provenance.

Matching, in order: same DOI (ignoring case), same RePEc handle, same ISBN,
else the same normalised title + year + first author's family name.

Rules (README, "How references are merged"):

1. A field the user set (``citetool edit``, or a hand-fixed value in an
   imported file) is never overwritten, or re-added after being unset, by a source.
2. Otherwise the more authoritative source wins (ranks from the registry in
   :mod:`citetool.sources`: ``crossref`` > ``doi.org`` > ``econpapers`` >
   ``repec-handle``; then ``import``); a source refreshing its own field replaces it.
3. A source never erases a value with an empty one.
4. A value that loses to a more authoritative one, or to the user's, is kept
   visibly under ``citetool.conflicts`` (``citetool show`` lists it).

Provenance lives under the record's ``citetool`` field: ``fields`` maps each
field to the source that gave its value (``user`` for the user's), ``sources``
maps each source to what was asked of it and when, ``ids`` holds identifiers
that have no CSL variable (the RePEc handle).

Every record enters the store through here (``new_reference``, ``merge_into``,
``merge_import``, ``set_user_field``, ``merge_references``), and so every one
loses its control characters on the way in (:func:`citetool.record.clean_record`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from citetool.formats.bibtex_kept import merge_kept
from citetool.identifiers import isbn13
from citetool.record import META, Record, clean_record
from citetool.record import year as year_of
from citetool.sources import rank as source_rank

USER = "user"
IMPORT = "import"
OWNER_RANK = {USER: 100, IMPORT: 20}  # the sources' ranks are in the registry (citetool.sources)
EMPTY = (None, "", [], {})


def _copied(value):
    """A deep copy of record data (dicts, lists, tuples of strings and numbers):
    what ``copy.deepcopy`` gives for it, five times faster (no memo: records
    share no parts, and a merge copies many values)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copied(v) for v in value)
    return value


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bibliographic_fields(record: Record) -> dict:
    return {k: v for k, v in record.items() if k not in ("id", META)}


# --- matching -----------------------------------------------------------------

# Every byte but ASCII lower-case letters and digits: what fold_ascii deletes.
_NOT_ALNUM = bytes(b for b in range(256) if not (48 <= b <= 57 or 97 <= b <= 122))


def _ascii(text: str) -> bytes:
    """``text`` in ASCII bytes, accents dropped (é -> e), other letters gone."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore")


def fold_ascii(text: str) -> str:
    """Lower-case ASCII letters and digits only: accents dropped (é -> e); what
    identity matching compares. On bytes (``bytes.translate`` deletes in one
    pass): three times faster than a regular expression, and a third of
    building a store's identity index."""
    return _ascii(text).lower().translate(None, _NOT_ALNUM).decode("ascii")


def _first_person(record: Record) -> dict | None:
    """``(names(record, "author") or names(record, "editor"))[0]``, without the lists."""
    for role in ("author", "editor"):
        value = record.get(role)
        if isinstance(value, list):
            for name in value:
                if isinstance(name, dict):
                    return name
    return None


def identity_keys(record: Record) -> list[str]:
    """Identifiers that make two records the same work, strongest first."""
    keys = _strong_keys(record)
    title = _title_key(record)
    if title:
        keys.append(title)
    return keys


def _strong_keys(record: Record) -> list[str]:
    """The identifiers among :func:`identity_keys`: DOI, RePEc handle, ISBN, URL."""
    return [ident for kind in _STRONG_KINDS.values() for ident in kind(record)]


def _doi_keys(record: Record) -> list[str]:
    doi = record.get("DOI")
    return ["doi:" + doi.lower()] if isinstance(doi, str) and doi else []


def _repec_keys(record: Record) -> list[str]:
    handle = record.get(META, {}).get("ids", {}).get("repec")
    return ["repec:" + handle.lower()] if handle else []


def _isbn_keys(record: Record) -> list[str]:
    keys = []
    if record.get("ISBN") and record.get("type") in ("book", "report", "thesis"):
        for isbn in str(record["ISBN"]).split(","):
            normal = isbn13(isbn, check=False) if isbn.strip() else None
            if normal:
                keys.append("isbn:" + normal)  # a chapter shares its book's ISBN: not an identity
    return keys


def _url_keys(record: Record) -> list[str]:
    url = record.get("URL")
    if isinstance(url, str) and url.startswith("http") and "doi.org/" not in url and "repec.org/" not in url.lower():
        return ["url:" + url.split("#", 1)[0].lower()]
    return []


# The strong identity keys, by their prefix, strongest first.
_STRONG_KINDS = {"doi:": _doi_keys, "repec:": _repec_keys, "isbn:": _isbn_keys, "url:": _url_keys}


def _title_key(record: Record, year_wanted: str | None = None) -> str | None:
    """The title key ("title:TITLE|YEAR|FAMILY", folded), if the record has one;
    with ``year_wanted``, None at once for a record of another year."""
    year = year_of(record)  # (a plain date at once)
    if year_wanted is not None and str(year) != year_wanted:
        return None
    # Cheapest parts first: most of an index's time went on folding titles of
    # records that have no year or no named first person.
    person = _first_person(record)
    family = fold_ascii(person.get("family") or person.get("literal") or "") if person else ""
    title = fold_ascii(record.get("title") or "") if year and family else ""
    return f"title:{title}|{year}|{family}" if len(title) >= 8 else None


def build_index(records: dict[str, Record]) -> dict[str, str]:
    """identity key -> citation key."""
    index: dict[str, str] = {}
    for key, rec in records.items():
        for ident in identity_keys(rec):
            index.setdefault(ident, key)
    return index


class IdentityIndex(dict):
    """:func:`build_index` of ``records``, kept up to date by the writers (``update``,
    ``[key] = ``), with each kind of key built only when first asked: the strong
    keys (DOI, RePEc, ISBN, URL) a kind at a time, in one pass each (adding a DOI
    builds the DOI keys only); the title keys are most of an index's
    time (a title and a name folded per record). A title look-up is first answered
    by a scan of the records of its year (what adding one DOI needs), and from
    the ``SCANS``-th on by building them all; :meth:`complete` builds them at
    once, and must be called before a stored record changes (the index holds
    the keys records had when it was made, as build_index's does). Answers are
    build_index's: the first record with a key, unless a writer set it."""

    SCANS = 2

    def __init__(self, records: dict[str, Record]):
        super().__init__()
        self.records = records
        self._kinds_built: set[str] = set()  # the strong kinds ("doi:"...) whose keys are in
        self._titles_built = False
        self._scans = 0

    def _build_kind(self, prefix: str) -> None:
        """Add every record's keys of one strong kind (the writers' are kept)."""
        self._kinds_built.add(prefix)
        keys_of = _STRONG_KINDS[prefix]
        for key, rec in self.records.items():
            for ident in keys_of(rec):
                self.setdefault(ident, key)

    def complete(self) -> None:
        """Add every record's keys, the title keys included (keys already set are kept: the writers')."""
        for prefix in _STRONG_KINDS.keys() - self._kinds_built:
            self._build_kind(prefix)
        if not self._titles_built:
            self._titles_built = True
            for key, rec in self.records.items():
                title = _title_key(rec)
                if title:
                    self.setdefault(title, key)

    def get(self, ident: str, default=None):
        prefix = ident[:ident.find(":") + 1]
        if prefix in _STRONG_KINDS and prefix not in self._kinds_built:
            self._build_kind(prefix)  # a strong kind is built whole when first asked: one pass, cheap
        if dict.__contains__(self, ident):
            return dict.__getitem__(self, ident)
        if self._titles_built or not ident.startswith("title:"):
            return default
        if self._scans >= self.SCANS - 1:
            self.complete()
            return dict.get(self, ident, default)
        self._scans += 1
        year = ident.split("|")[1]
        return next((key for key, rec in self.records.items() if _title_key(rec, year) == ident), default)

    def __contains__(self, ident) -> bool:
        return self.get(ident) is not None


def find_match(index: dict[str, str], record: Record, records: dict[str, Record] | None = None) -> str | None:
    """The key of the stored reference ``record`` belongs to, or None. A title
    or ISBN match never joins two records whose DOIs differ: those are two
    works (a preprint and its article, an erratum) whatever else they share."""
    doi = (record.get("DOI") or "").lower()
    for ident in identity_keys(record):
        key = index.get(ident)
        if key is None:
            continue
        if ident.startswith(("title:", "isbn:")) and doi and records is not None:
            other = (records.get(key, {}).get("DOI") or "").lower()
            if other and other != doi:
                continue
        return key
    return None


def _family_names(record: Record) -> set[str]:
    people = record.get("author") or record.get("editor") or []
    return {fold_ascii(p.get("family") or p.get("literal") or "") for p in people if isinstance(p, dict)} - {""}


def clearly_another_work(a: Record, b: Record) -> bool:
    """Two records that share an identifier but agree on nothing else: their
    titles differ (neither holds the other), their years are more than one apart,
    and no author's family name is in both. A DOI copied onto the wrong entry
    (Squire 2009 given Murdock 1960's DOI) is not a reason to merge them."""
    title_a, title_b = fold_ascii(a.get("title") or ""), fold_ascii(b.get("title") or "")
    year_a, year_b = year_of(a), year_of(b)
    families_a, families_b = _family_names(a), _family_names(b)
    if not (title_a and title_b and year_a and year_b and families_a and families_b):
        return False
    return (title_a not in title_b and title_b not in title_a and abs(year_a - year_b) > 1
            and not families_a & families_b)


def shared_identifier(a: Record, b: Record) -> str:
    """The first strong identifier ``a`` and ``b`` share, as "DOI 10.1/x" (for messages)."""
    for ident in _strong_keys(a):
        if ident in _strong_keys(b):
            kind, _, value = ident.partition(":")
            return f"{kind.upper() if kind != 'repec' else 'RePEc handle'} {value}"
    return "an identifier"


# --- merging --------------------------------------------------------------------

def rank(source: str | None) -> int:
    """How authoritative a field's owner is: the user's 100, an imported file 20, a source its registry rank."""
    if source in OWNER_RANK:
        return OWNER_RANK[source]
    return source_rank(source)


def new_reference(incoming: Record, source: str, asked: str, when: str | None = None) -> Record:
    """A fresh stored reference (without ``id``) from one source's record."""
    when = when or now_iso()
    rec = clean_record(bibliographic_fields(incoming))  # a copy, cleaned
    info = {
        "added": when,
        "fields": {field: source for field in rec},
        "sources": {source: {"id": asked, "fetched": when}},
    }
    ids = incoming.get(META, {}).get("ids")
    if ids:
        info["ids"] = dict(ids)
    rec[META] = info
    merge_kept(rec, incoming)  # an imported entry as written
    return rec


def _merge_ids(existing: Record, incoming: Record) -> None:
    ids = incoming.get(META, {}).get("ids")
    if ids:
        existing.setdefault(META, {}).setdefault("ids", {}).update(
            {k: v for k, v in ids.items() if k not in existing[META].get("ids", {})}
        )


def _set_conflict(info: dict, field: str, source: str, value) -> None:
    info.setdefault("conflicts", {}).setdefault(field, {})[source] = _copied(value)


def _drop_conflict(info: dict, field: str, source: str) -> None:
    conflicts = info.get("conflicts", {})
    conflicts.get(field, {}).pop(source, None)
    if field in conflicts and not conflicts[field]:
        del conflicts[field]
    if "conflicts" in info and not conflicts:
        del info["conflicts"]


def _offered(existing: Record, incoming: Record):
    """(info, provenance, [(field, value, current value, current owner)]) for
    every non-empty field ``incoming`` offers (rule 3: empty values never count)."""
    info = existing.setdefault(META, {})
    provenance = info.setdefault("fields", {})
    offers = [(field, value, existing.get(field), provenance.get(field))
              for field, value in clean_record(bibliographic_fields(incoming)).items() if value not in EMPTY]
    return info, provenance, offers


def merge_into(existing: Record, incoming: Record, source: str, asked: str,
               when: str | None = None) -> list[str]:
    """Merge ``incoming`` (from ``source``) into ``existing`` in place; returns the
    names of the fields whose value changed."""
    when = when or now_iso()
    info, provenance, offers = _offered(existing, incoming)
    changed: list[str] = []
    for field, value, current, owner in offers:
        if current == value:
            if owner != USER and rank(source) >= rank(owner):
                provenance[field] = source
            _drop_conflict(info, field, source)
        elif owner == USER or (current not in EMPTY and rank(source) < rank(owner)):
            if says_less(value, current, field):
                _drop_conflict(info, field, source)  # a year for a full date: no disagreement
            else:
                _set_conflict(info, field, source, value)  # rules 1, 4
        else:
            existing[field] = _copied(value)
            provenance[field] = source
            _drop_conflict(info, field, source)
            changed.append(field)
    _merge_ids(existing, incoming)
    info.setdefault("sources", {})[source] = {"id": asked, "fetched": when}
    return changed


def set_user_field(existing: Record, field: str, value, when: str | None = None) -> bool:
    """The user sets (or, with ``value`` None, unsets) ``field``: it becomes
    theirs. The source's value it replaces stays visible as a conflict."""
    info = existing.setdefault(META, {})
    provenance = info.setdefault("fields", {})
    current = existing.get(field)
    owner = provenance.get(field)
    value = clean_record(value)
    if current not in EMPTY and owner not in (None, USER) and current != value:
        _set_conflict(info, field, owner, current)
    provenance[field] = USER
    if value in EMPTY:
        existing.pop(field, None)
    else:
        existing[field] = _copied(value)
    info["edited"] = when or now_iso()
    return current != value


def dois_differ(a: Record, b: Record) -> bool:
    """Both have a DOI, and not the same one: two works, whatever else they share."""
    doi_a, doi_b = (str(a.get("DOI") or "").lower(), str(b.get("DOI") or "").lower())
    return bool(doi_a and doi_b and doi_a != doi_b)


def same_work(a: Record, b: Record) -> bool:
    """Two stored references of one work: an identity in common (DOI, RePEc
    handle, ISBN, URL, title + year + first author), and no two different DOIs."""
    return not dois_differ(a, b) and bool(set(identity_keys(a)) & set(identity_keys(b)))


def merge_references(kept: Record, other: Record) -> list[str]:
    """Fold ``other``, a second stored reference of the same work (say under a
    case-variant key), into ``kept`` in place; returns the fields ``kept`` gained
    or changed. A field only ``other`` holds comes with its provenance; where
    both hold different values, a user's edit wins over a source's value, and
    otherwise ``kept``'s stays, ``other``'s shown as a conflict. Identifiers,
    sources and conflicts are united; ``other``'s key becomes an alias."""
    info = kept.setdefault(META, {})
    provenance = info.setdefault("fields", {})
    other_info = other.get(META, {})
    other_provenance = other_info.get("fields", {})
    changed: list[str] = []
    for field, value in clean_record(bibliographic_fields(other)).items():
        current, owner = kept.get(field), other_provenance.get(field) or IMPORT
        if value in EMPTY or current == value:
            continue
        if current in EMPTY or (owner == USER and provenance.get(field) != USER):
            if current not in EMPTY:
                _set_conflict(info, field, provenance.get(field) or IMPORT, current)
            kept[field] = _copied(value)
            provenance[field] = owner
            changed.append(field)
        else:
            _set_conflict(info, field, owner, value)
    for name in ("ids", "sources"):
        for label, value in other_info.get(name, {}).items():
            info.setdefault(name, {}).setdefault(label, _copied(value))
    for field, by_source in other_info.get("conflicts", {}).items():
        for source, value in by_source.items():
            info.setdefault("conflicts", {}).setdefault(field, {}).setdefault(source, _copied(value))
    aliases = info.setdefault("aliases", [])
    for alias in [other.get("id"), *other_info.get("aliases", [])]:
        if isinstance(alias, str) and alias and alias != kept.get("id") and alias not in aliases:
            aliases.append(alias)
    return changed


# --- imports ------------------------------------------------------------------------

def _loose(value) -> str:
    """Comparable form of a value for deciding whether an import changed it."""
    if isinstance(value, dict) and "date-parts" in value:
        return "-".join(str(p) for p in value["date-parts"][0])
    if isinstance(value, list):
        return "|".join(fold_ascii(n.get("family") or n.get("literal") or "") if isinstance(n, dict) else str(n)
                        for n in value)
    text = str(value).replace("\u2013", "-").replace("--", "-")
    return " ".join(text.split())


# Words an abbreviated journal name leaves out (ISO 4 drops articles, prepositions
# and conjunctions): "J. Am. Chem. Soc." for "Journal of the American Chemical Society".
_DROPPABLE_WORDS = {"a", "an", "and", "de", "der", "des", "die", "du", "et", "for", "fur", "in", "la", "le",
                    "of", "on", "the", "und", "y"}
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(_ascii(text).decode("ascii").lower())


def is_abbreviation(short: str, full: str) -> bool:
    """"Def. Secur. Anal." of "Defense & Security Analysis": each word of ``short``
    begins the next word of ``full`` that an abbreviation keeps, and the words
    left out are only articles, prepositions and conjunctions."""
    short_words, full_words = _words(short), _words(full)
    if not short_words or len(short) >= len(full):
        return False
    main = _words(full.split(":", 1)[0]) if ":" in full else full_words  # a subtitle may be left out
    for words in (full_words, main):
        i = 0
        for word in words:
            if i < len(short_words) and word.startswith(short_words[i]):
                i += 1
            elif word not in _DROPPABLE_WORDS:
                break
        else:
            if i == len(short_words):
                return True
    return False


def same_but_typography(imported: str, stored: str) -> bool:
    """Equal but for case, quotes, dashes, accents, braces, punctuation and
    spacing (straight vs curly quotes, Title Case vs sentence case, an ASCII
    .bib's "Nguyen" for "Nguyễn"): no hand fix."""
    return fold_ascii(imported) == fold_ascii(stored) and bool(fold_ascii(stored))


def _is_less_detailed(imported, stored, field: str) -> bool:
    """True when the import only says less than the store (a year for a full
    date, initials for given names, the same text in other typography): not a
    hand fix."""
    if isinstance(imported, dict) and isinstance(stored, dict):
        a, b = _loose(imported).split("-"), _loose(stored).split("-")
        return b[: len(a)] == a
    if isinstance(imported, list) and isinstance(stored, list):
        # the same people, or the first of them ("Tosatto, L. and Horrocks, M."
        # for Crossref's eight authors): names compare by family name
        a, b = _loose(imported).split("|"), _loose(stored).split("|")
        return len(a) <= len(b) and b[: len(a)] == a
    if field == "type":
        return imported == "document"  # @misc: the file does not say what the work is
    if field in ("DOI", "ISSN", "ISBN", "URL"):
        return _loose(imported).lower() == _loose(stored).lower()
    if isinstance(imported, str) and isinstance(stored, str):
        return _loose(imported) == _loose(stored) or same_but_typography(imported, stored)
    return _loose(imported) == _loose(stored)


def _parts(value) -> set[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    return {str(p).strip().lower() for p in items if str(p).strip()}


def says_less(value, current, field: str) -> bool:
    """True when ``value`` only says less than ``current`` (a year for a full
    date, initials for given names, one ISSN of two): not a disagreement, so
    not a conflict."""
    if current in EMPTY or value in EMPTY:
        return False
    if field in ("ISSN", "ISBN"):
        return _parts(value) <= _parts(current)
    return _is_less_detailed(value, current, field)


def merge_import(existing: Record, incoming: Record, origin: str, when: str | None = None,
                 another_entry: bool = False) -> list[str]:
    """Merge an entry from the user's own file (``origin``, e.g. "refs.bib").

    Fields the store lacks are filled with provenance ``import`` (ranked below
    every metadata source, so ``refresh`` mends them); a value that only says
    less (a year for a full date, "A." for "Alessandro", three authors "and
    others" for six, the same text in other typography) changes nothing; an
    abbreviated journal name ("Proc. R. Soc. B") replaces nothing and becomes the
    short title; a value that genuinely differs (a word of the title changed) is
    a hand fix and becomes the user's, the source's value staying a conflict.
    ``another_entry``: a second entry of the work in the file being imported
    (another key), which changes nothing: it is kept as written beside the
    first (:mod:`citetool.formats.bibtex_kept`).
    """
    when = when or now_iso()
    info, provenance, offers = _offered(existing, incoming)
    changed: list[str] = []
    if another_entry:
        # one work entered twice in one file (a second key for it): kept as
        # written beside the first, whose key prints what its entry said
        merge_kept(existing, incoming)
        return []
    for field, value, current, owner in offers:
        if current in EMPTY and owner != USER:
            existing[field] = _copied(value)
            provenance[field] = IMPORT
            changed.append(field)
        elif current == value or _is_less_detailed(value, current, field):
            continue
        elif (field == "container-title" and isinstance(value, str) and isinstance(current, str)
              and is_abbreviation(value, current)):
            # An abbreviated journal name replaces nothing; it is the short title.
            if existing.get("container-title-short") in EMPTY:
                existing["container-title-short"] = value
                provenance["container-title-short"] = IMPORT
                changed.append("container-title-short")
        elif owner == IMPORT:
            existing[field] = _copied(value)
            changed.append(field)
        else:
            set_user_field(existing, field, value, when)  # a hand fix: the source's value stays a conflict
            changed.append(field)
    _merge_ids(existing, incoming)
    merge_kept(existing, incoming)
    info.setdefault("sources", {})[IMPORT] = {"id": origin, "fetched": when}
    return changed
