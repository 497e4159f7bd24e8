"""The registry of metadata sources: the one place where a source is named.

Each source is a module of this package holding a class with:

* ``name``: what the store's provenance calls it (``citetool.fields``/``sources``);
* ``look_up(idents, offline, fresh, on_result)``: answer identifiers of the
  kinds the registry gives it, batched where the service allows, calling
  ``on_result(ident, found=[...], notes=[...])`` or ``on_result(ident, error=...)``
  for each as it arrives;
* ``refetch(asked)``: its record again for what it was asked before (``refresh``),
  from the service, never from the cache; None if it cannot be asked again;
  optionally ``refetch_many(asked_list, on_answer)`` to ask for many at once
  (see :meth:`Sources.refetch_many`).

The registry below adds what the rest of citetool needs to know: the rank that
decides which source's value wins in a merge, the identifier kinds each one
answers, and whether it is only a fall-back (asked only when the sources
before it did not know the identifier). Sources are built on first use, share
one HTTP session (:mod:`citetool.sources.http`), and import nothing heavy
until then, so commands that need no network stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from citetool.errors import CitetoolError
from citetool.identifiers import parse_identifier
from citetool.record import Record

# (source name, what was asked, the source's record)
Found = tuple[str, str, Record]


@dataclass(frozen=True)
class Spec:
    name: str
    rank: int  # merge: the higher rank's value wins (the user's edits: 100, imported files: 20)
    kinds: tuple[str, ...]  # identifier kinds it answers (citetool.identifiers.Identifier.kind)
    make: Callable  # (Sources) -> the source object
    fallback: bool = False  # asked only for identifiers the sources before it did not find
    # made from the identifier alone (no request): a reference of its own only with --offline;
    # online, when every source that fetches failed, the identifier fails rather than store a stub
    from_identifier: bool = False


def _load(path: str, *needs: str) -> Callable:
    """A factory for class ``module:Class``, built with the session and the sources it needs."""
    module, _, cls = path.partition(":")

    def make(sources: Sources):
        return getattr(import_module(f"citetool.sources.{module}"), cls)(sources.settings, sources.http,
                                                                        *(sources.get(n) for n in needs))
    return make


# In the order sources are asked for an identifier kind; ranks as merge uses them.
REGISTRY: tuple[Spec, ...] = (
    Spec("crossref", 50, ("doi", "isbn"), _load("crossref:CrossrefSource")),
    Spec("doi.org", 45, ("doi",), _load("doi_org:DoiOrgSource"), fallback=True),
    Spec("econpapers", 40, ("repec",), _load("econpapers:EconPapersSource")),
    Spec("repec-handle", 30, ("repec",), _load("repec_handle:HandleSource"), from_identifier=True),
    Spec("openlibrary", 0, ("isbn",), _load("books:OpenLibrarySource"), fallback=True),
    Spec("web", 0, ("url",), _load("webpage:WebSource")),
    # References written out as text: Crossref's query.bibliographic, on the Crossref client.
    Spec("crossref-search", 50, ("reference",), _load("freetext:FreeTextSource", "crossref")),
)
_BY_NAME = {spec.name: spec for spec in REGISTRY}


# The source `check` and `upgrade` ask what happened to stored works since.
NEWS_SOURCE = "crossref"


def csl_type(name: object) -> str | None:
    """The CSL type a source's own type name means (Crossref's ``journal-article``:
    ``article-journal``), for ``doctor --repair``; None if none."""
    from citetool.sources.crossref_mapping import CSL_TYPE  # start-up: only a repair needs it

    return CSL_TYPE.get(name) if isinstance(name, str) else None


def from_identifier(name: str) -> bool:
    """Whether the source makes its record from the identifier alone (no request)."""
    spec = _BY_NAME.get(name)
    return spec is not None and spec.from_identifier


def rank(name: str | None) -> int:
    """A source's merge rank (0 for a name the registry does not know)."""
    spec = _BY_NAME.get(name or "")
    return spec.rank if spec else 0


def names() -> list[str]:
    return [spec.name for spec in REGISTRY]


class Sources:
    """The sources of one :class:`~citetool.library.Library`, built on first use."""

    def __init__(self, settings):
        from citetool.sources.http import Http  # start-up: loaded only when needed

        self.settings = settings
        self.http = Http(settings)
        self._made: dict[str, object] = {}

    def get(self, name: str):
        if name not in self._made:
            self._made[name] = _BY_NAME[name].make(self)
        return self._made[name]

    def chain(self, kind: str) -> list[Spec]:
        """The sources answering ``kind``, in the order they are asked (each built by
        :meth:`get` when it is asked: a fall-back nobody needs costs nothing)."""
        return [spec for spec in REGISTRY if kind in spec.kinds]

    @staticmethod
    def is_source(name: str) -> bool:
        """Whether ``name`` (a reference's provenance) is a source that can be asked
        again, not "import" or "user"."""
        return name in _BY_NAME

    def answers(self, kind: str) -> bool:
        return any(kind in spec.kinds for spec in REGISTRY)

    def also_asked(self, recorded: dict[str, str]) -> dict[str, str]:
        """``recorded`` ({source: what it was asked}) plus the sources of the
        same identifier kind that were never asked (a RePEc handle added
        ``--offline`` has only the handle's own record: ``refresh`` asks
        EconPapers too). Fall-backs are not added."""
        out = dict(recorded)
        for name, asked in recorded.items():
            if name not in _BY_NAME:
                continue
            try:
                kind = parse_identifier(asked).kind
            except CitetoolError:
                continue
            for spec in REGISTRY:
                if kind in spec.kinds and not spec.fallback and spec.name not in out:
                    out[spec.name] = asked
        return out

    def refetch(self, name: str, asked: str) -> Record | None:
        """A source's record again, from the service (``refresh``); None for
        names that are not sources (``import``, ``user``) or cannot be asked again."""
        if name not in _BY_NAME:
            return None
        return self.get(name).refetch(asked)

    def refetch_many(self, name: str, asked: list[str], on_answer: Callable[[], None] | None = None) -> dict:
        """Each of ``asked`` again from one source (``refresh``): {asked: record,
        None, or the CitetoolError it failed with}; ``on_answer()`` as each comes.
        A source with ``refetch_many`` asks in batches (Crossref: list queries);
        any other is asked one at a time, at its own polite pace."""
        if name not in _BY_NAME:  # "import", "user": nothing to ask
            for _ in asked if on_answer else ():
                on_answer()
            return dict.fromkeys(asked)
        source = self.get(name)
        if hasattr(source, "refetch_many"):
            return source.refetch_many(asked, on_answer)
        answers = {}
        for one in asked:
            try:
                answers[one] = source.refetch(one)
            except CitetoolError as exc:
                answers[one] = exc
            if on_answer:
                on_answer()
        return answers

    def search(self, text: str, rows: int) -> list:
        """Candidates for a reference written out, from the source that answers
        references (``citetool search``); nothing is stored."""
        return self.get(self.chain("reference")[0].name).search(text, rows)

    def news(self, dois: list[str], progress=None) -> tuple[dict[str, list[dict]], set[str], list[str]]:
        """What :data:`NEWS_SOURCE` says happened to the works of ``dois`` (never the cache):
        ({doi: findings}, DOIs it does not know, problems)."""
        from citetool.sources import crossref_updates  # start-up: only check and upgrade need it

        return crossref_updates.ask(self.get(NEWS_SOURCE).client, dois, progress)

    def close(self) -> None:
        self.http.close()
