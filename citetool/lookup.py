"""Asking the sources: identifiers in, every source's record for each out.

For each identifier kind the registry (:mod:`citetool.sources`) gives the
sources to ask, in order. Every source that is not a fall-back is asked; a
fall-back only for identifiers the sources before it did not find (doi.org
after Crossref, Open Library after Crossref's ISBN filter). An identifier is
handed on as soon as no later source will be asked for it, so a long batch is
saved as it goes. When the records name a DOI that is not stored yet and no
DOI source gave them, the DOI is looked up too and merged (Crossref wins).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from citetool.errors import CitetoolError, IdentifierError, LookupFailed, NotFound, SourceUnavailable
from citetool.identifiers import Identifier, parse_line, unrecognised, without_credentials
from citetool.outcome import Outcome
from citetool.record import META
from citetool.sources import Found, Sources, from_identifier, rank


class _Stopped(BaseException):
    """Raised in the sources' threads once nobody waits for their answers (not an
    Exception: no source's error handling takes it for a failed look-up)."""


@dataclass(frozen=True)
class Answer:
    """How one identifier ended: every source's record for it (most authoritative
    first) with notes for the user, or why there is none (``error``)."""

    ident: Identifier
    found: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


SERVICES = {"crossref": "Crossref", "crossref-search": "Crossref", "econpapers": "EconPapers",
            "repec-handle": "the RePEc handle", "openlibrary": "Open Library", "web": "the page"}


def checked(found: Found) -> Found:
    """A source's record as it enters (before any merge), once its shape is
    checked (:func:`citetool.record_shape.record_problem`, the store's own check);
    SourceUnavailable naming the field otherwise: that one item fails."""
    from citetool.record_shape import record_problem  # start-up: loaded only when needed

    name, asked, record = found
    problem = record_problem(record) if isinstance(record, dict) else ("the record", "is not an object")
    if problem:
        raise SourceUnavailable(f"{SERVICES.get(name, name)} answered {asked} of the wrong shape: "
                                f"{problem[0]} ({problem[1]})")
    return found


@dataclass
class _State:
    found: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: LookupFailed | None = None
    missing: NotFound | None = None
    done: bool = False

    def outcome(self, final: bool) -> str | None:
        """"found", "failed", or None while a later source may still answer."""
        if self.found:
            return "found"
        if self.error is not None or final:
            return "failed"
        return None

    def reason(self, ident: Identifier) -> str:
        problem = self.error or self.missing
        return str(problem) if problem else f"no source knows {ident.value}"


class Lookup:
    def __init__(self, sources: Sources, stored: Callable[[str], bool], offline: bool = False, fresh: bool = False):
        self.sources = sources
        self.stored = stored  # is this identity key ("doi:10...") in the store already?
        self.offline = offline
        self.fresh = fresh

    def answers(self, idents: list[Identifier]) -> Iterator[Answer]:
        """Ask the sources for every identifier, DOIs (batched) first, and yield
        each identifier's :class:`Answer` as soon as no later source will be asked
        for it: the sources answer on their own threads, and a long batch is
        handed on as it arrives (so ``add`` saves as it goes)."""
        arrived: queue.SimpleQueue = queue.SimpleQueue()
        finished = object()
        stop = threading.Event()  # the consumer went away (Ctrl-C): the sources stop asking

        def hand_on(answer: Answer) -> None:
            if stop.is_set():
                raise _Stopped  # through the source's own threads, which cancel what is queued
            arrived.put(answer)

        def ask_all() -> None:
            try:
                self._answer_all(idents, hand_on)
            except _Stopped:
                pass
            except BaseException as exc:  # handed to the consumer, raised there
                arrived.put(exc)
            finally:
                arrived.put(finished)

        threading.Thread(target=ask_all, name="citetool-lookup", daemon=True).start()
        try:
            while True:
                try:
                    item = arrived.get(timeout=0.25)  # a timeout: Ctrl-C is seen at once
                except queue.Empty:
                    continue
                if item is finished:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    def _answer_all(self, idents: list[Identifier], hand_on: Callable[[Answer], None]) -> None:
        groups: dict[str, list[Identifier]] = {}
        for ident in sorted(idents, key=lambda i: i.kind != "doi"):
            groups.setdefault(ident.kind, []).append(ident)
        for kind, group in groups.items():
            if not self.sources.answers(kind):
                for ident in group:
                    hand_on(Answer(ident, error=str(unrecognised(ident.raw))))
                continue
            second_readings: dict[Identifier, Identifier] = {}  # the other reading: the input's own

            def finished(ident: Identifier, state: _State, second_readings=second_readings) -> None:
                if not state.found and state.missing is not None and ident.also:
                    second_readings[ident.second_reading()] = ident  # asked next
                    return
                self._settle(second_readings.get(ident, ident), state, hand_on)

            self._ask(kind, group, finished)
            if second_readings:
                self._ask(kind, list(second_readings), finished)

    def _settle(self, ident: Identifier, state: _State, hand_on: Callable[[Answer], None]) -> None:
        """Hand on how ``ident`` ended, once no source is left to ask."""
        if not state.found:
            hand_on(Answer(ident, error=state.reason(ident)))
            return
        found, notes = self._with_named_doi(state.found, state.notes)
        if not self.offline and all(from_identifier(name) for name, _, _ in found):
            # only what the identifier itself says (a RePEc handle: no title): a stub, not a reference
            hand_on(Answer(ident, error=f"{state.reason(ident)}; nothing but the identifier to go on, so nothing was stored "
                                        "(`citetool add --offline` keeps what the identifier says)"))
        else:
            hand_on(Answer(ident, found, notes))

    def _ask(self, kind: str, group: list[Identifier], finished: Callable[[Identifier, _State], None]) -> None:
        chain = self.sources.chain(kind)
        states = {ident: _State() for ident in group}
        # identifiers of one value (a DOI typed with and without its full stop: two readings
        # after the first) are asked once, a source answering by value; each keeps its state
        twins: dict[str, list[Identifier]] = {}
        for ident in group:
            twins.setdefault(ident.key, []).append(ident)
        lock = threading.Lock()
        for position, spec in enumerate(chain):
            later = chain[position + 1:]
            primary_later = any(not s.fallback for s in later)
            fallback_later = any(s.fallback for s in later)
            asked = [same[0] for same in twins.values() if not states[same[0]].done
                     and (not spec.fallback or (states[same[0]].missing is not None and not states[same[0]].found))]
            if not asked:
                continue

            def on_result(ident, found=(), notes=(), error=None, primary_later=primary_later,
                          fallback_later=fallback_later):
                try:
                    found = [checked(f) for f in found]
                except LookupFailed as exc:  # a record of the wrong shape: this identifier fails
                    found, error = [], exc
                for twin in twins.get(ident.key, [ident]):
                    with lock:
                        state = states[twin]
                        state.found += list(found)
                        state.notes += list(notes)
                        if isinstance(error, NotFound):
                            state.missing = error
                        elif error is not None:
                            state.error = error
                        if primary_later or (state.missing is not None and not state.found and fallback_later
                                             and state.error is None):
                            continue
                        state.done = True
                    finished(twin, state)

            self.sources.get(spec.name).look_up(asked, self.offline, self.fresh, on_result)
        for ident, state in states.items():
            if not state.done:
                state.done = True
                finished(ident, state)

    def dois(self, dois: list[str], progress: Callable[[int, int], None] | None = None,
             ) -> tuple[dict[str, list[Found]], dict[str, str]]:
        """What the sources say of each DOI (batched): ({doi: found}, {doi: why not});
        ``progress(done, total)`` as each is settled."""
        found: dict[str, list[Found]] = {}
        failed: dict[str, str] = {}
        asked = sorted(set(dois))
        for answer in self.answers([Identifier("doi", doi, doi) for doi in asked]):
            if answer.error is None:
                found[answer.ident.value] = answer.found
            else:
                failed[answer.ident.value] = answer.error
            if progress:
                progress(len(found) + len(failed), len(asked))
        return found, failed

    def one(self, ident: Identifier) -> list[Found]:
        """Every source's record for one identifier (no follow-up); LookupFailed if none."""
        got: dict[str, object] = {}

        def finished(_, state):
            got["state"] = state

        self._ask(ident.kind, [ident], finished)
        state = got["state"]
        if not state.found:
            raise LookupFailed(state.reason(ident))
        return state.found

    def _with_named_doi(self, found: list[Found], notes: list[str]) -> tuple[list[Found], list[str]]:
        """The records, most authoritative first, with the record of a DOI they
        name (when it is not stored yet and no DOI source gave them)."""
        doi_sources = {spec.name for spec in self.sources.chain("doi")}
        named = next(((name, r["DOI"]) for name, _, r in found if r.get("DOI")), None)
        found, notes = list(found), list(notes)
        if named and not any(name in doi_sources for name, _, _ in found) and not self.stored("doi:" + named[1].lower()):
            try:
                found += self.one(Identifier("doi", named[1], named[1]))
            except LookupFailed as exc:
                notes.append(f"the {named[0]} record names DOI {named[1]}, but: {exc}")
        return sorted(found, key=lambda f: -rank(f[0])), notes


@dataclass
class Plan:
    """What ``add`` must ask: identifiers not stored yet (each with its input's
    position), the inputs already settled, and repeated inputs."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)  # by input position: settled, or as they arrive
    jobs: dict[Identifier, int] = field(default_factory=dict)
    repeats: list[tuple[int, int]] = field(default_factory=list)  # (position, position of its first)

    def in_order(self, inputs: list[str]) -> list[Outcome]:
        """One outcome per input, in order: a repeated input shares its first's."""
        for i, first in self.repeats:
            original = self.outcomes[first]
            self.outcomes[i] = Outcome(inputs[i], "present" if original.ok else "failed",
                                       key=original.key, error=original.error)
        return [self.outcomes[i] for i in sorted(self.outcomes)]


def plan(inputs: list[str], index: dict[str, str], again: bool, typed: bool = True) -> Plan:
    """Parse each input (an identifier, or a reference written out); what is
    stored already is "present" unless ``again``; a bad input is "failed".
    ``typed=False``: the inputs were found in a document (a web address must then be public)."""
    out = Plan()
    first_of: dict[str, int] = {}
    for i, raw in enumerate(inputs):
        raw = without_credentials(raw)  # nothing printed or stored holds a password typed in an address
        try:
            ident = parse_line(raw) if typed else replace(parse_line(raw), typed=False)
        except IdentifierError as exc:
            out.outcomes[i] = Outcome(raw, "failed", error=str(exc))
            continue
        # a DOI that ended in "." has two readings: it repeats only an input of the same two
        readings = ident.key if ident.also is None else f"{ident.key} {ident.also.lower()}"
        if readings in first_of:
            out.repeats.append((i, first_of[readings]))
            continue
        first_of[readings] = i
        match = index.get(ident.key)
        if match is None and ident.also is not None:  # stored with its full stop: no request either
            match = index.get(ident.second_reading().key)
        if match and not again:
            out.outcomes[i] = Outcome(raw, "present", key=match)
        else:
            out.jobs[ident] = i
    return out


def refetch(sources: Sources, references: list[dict],
            progress: Callable[[int, int], None] | None = None,
            ) -> tuple[dict[str, list[Found]], dict[str, str], list[str]]:
    """Each reference's sources asked again (``refresh``): ({key: found}, {key: why not},
    [keys no source made: imported or typed in, nothing to ask]).

    A source is asked for all the references it answered before at once
    (Crossref in list queries, as ``add`` does), sources in name order; a
    reference that one source fails is not asked of the later ones and fails.
    ``progress(done, total)`` counts the answers."""
    asks = {rec["id"]: sources.also_asked({name: info.get("id", "") for name, info
                                           in rec.get(META, {}).get("sources", {}).items()})
            for rec in references}
    found: dict[str, list[Found]] = {key: [] for key in asks}
    failed: dict[str, str] = {}
    total = sum(len(asked) for asked in asks.values())
    answered = 0
    counting = threading.Lock()  # answers arrive on the sources' threads

    def tick() -> None:
        nonlocal answered
        with counting:
            answered += 1
            if progress:
                progress(answered, total)

    for name in sorted({name for asked in asks.values() for name in asked}):
        wanted = []
        for key, asked in asks.items():
            if name not in asked:
                continue
            if key in failed:
                tick()  # failed at an earlier source: not asked, done
            else:
                wanted.append((key, asked[name]))
        answers = sources.refetch_many(name, [what for _, what in wanted], on_answer=tick)
        for key, what in wanted:
            answer = answers.get(what)
            try:
                if isinstance(answer, CitetoolError):
                    raise answer
                if answer is not None:
                    found[key].append(checked((name, what, answer)))
            except CitetoolError as exc:
                failed[key] = f"{key}: {exc}"
    unasked = [key for key, asked in asks.items() if not any(sources.is_source(name) for name in asked)]
    return ({key: got for key, got in found.items() if key not in failed and key not in unasked}, failed,
            unasked)
