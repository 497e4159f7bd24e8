"""The round trip of issue #21 on a real paper and its own .bib files
(tests/fixtures/adopt/): import the .bib files into an empty store, let
``citetool bib paper.tex`` write the bibliography, and compile the cited keys
against the original files and against citetool's, with the real bibtex
(natbib's plainnat) and biber (biblatex). The ground truth is the real tools'
.bbl; nothing here parses BibTeX itself.

Run by tests/test_adopt.py; ``python tests/adopt_roundtrip.py`` prints the
figures for every fixture.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ADOPT = Path(__file__).parent / "fixtures" / "adopt"
ROOT = Path(__file__).parent.parent


def papers() -> list[Path]:
    return sorted(p for p in ADOPT.iterdir() if (p / "paper.tex").is_file())


def citetool(args: list[str], store: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CITETOOL_STORE=str(store), CITETOOL_MAILTO="",
               CITETOOL_CROSSREF_URL="http://127.0.0.1:9", CITETOOL_DOI_URL="http://127.0.0.1:9",
               CITETOOL_REPEC_URL="http://127.0.0.1:9", CITETOOL_OPENLIBRARY_URL="http://127.0.0.1:9")
    return subprocess.run([sys.executable, "-m", "citetool", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


_BIBITEM = re.compile(r"^\\bibitem", re.M)
_ENTRY = re.compile(r"^\s*\\entry\{", re.M)


def bbl_entries(bbl: str, biber: bool) -> dict[str, str]:
    """The .bbl's entries by key (bibtex: ``\\bibitem[...]{key}``; biber: ``\\entry{key}{type}{}``)."""
    out = {}
    if biber:
        for chunk in _ENTRY.split(bbl)[1:]:
            chunk = chunk.split("\\endentry", 1)[0]
            out[chunk.split("}", 1)[0]] = " ".join(chunk.split())
    else:
        for chunk in _BIBITEM.split(bbl)[1:]:
            chunk = chunk.split("\\end{thebibliography}", 1)[0]
            m = re.match(r"(?:\[(?:[^\[\]]|\[[^\]]*\])*\])?\{([^}]*)\}", chunk)
            if m:
                out[m.group(1)] = " ".join(chunk.split())
    return out


def run_bibtex(folder: Path, keys: list[str], bibs: list[str], name: str) -> tuple[str, str]:
    """(.bbl text, .blg text) of plainnat on ``keys`` from ``bibs`` (names without .bib, in ``folder``)."""
    aux = "".join(f"\\citation{{{k}}}\n" for k in keys) + "\\bibstyle{plainnat}\n" + f"\\bibdata{{{','.join(bibs)}}}\n"
    (folder / f"{name}.aux").write_text(aux, encoding="utf-8")
    subprocess.run(["bibtex", "-terse", name], cwd=folder, capture_output=True, timeout=120)
    bbl, blg = folder / f"{name}.bbl", folder / f"{name}.blg"
    return (bbl.read_text(encoding="utf-8", errors="replace") if bbl.exists() else "",
            blg.read_text(encoding="utf-8", errors="replace") if blg.exists() else "")


def run_biber(folder: Path, keys: list[str], bibs: list[str], name: str) -> tuple[str, str]:
    """(.bbl text, .blg text) of biber (biblatex's default style) on ``keys`` from ``bibs``."""
    resources = "".join(f"\\addbibresource{{{b}.bib}}\n" for b in bibs)
    tex = ("\\documentclass{article}\n\\usepackage[backend=biber]{biblatex}\n" + resources
           + "\\begin{document}\n" + "".join(f"\\nocite{{{k}}}\n" for k in keys)
           + "\\printbibliography\n\\end{document}\n")
    (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=batchmode", "-draftmode", name], cwd=folder,
                   capture_output=True, timeout=300)
    subprocess.run(["biber", name], cwd=folder, capture_output=True, timeout=300)
    bbl, blg = folder / f"{name}.bbl", folder / f"{name}.blg"
    return (bbl.read_text(encoding="utf-8", errors="replace") if bbl.exists() else "",
            blg.read_text(encoding="utf-8", errors="replace") if blg.exists() else "")


@dataclass
class Trip:
    paper: str
    engine: str
    cited: int = 0
    undefined_before: set[str] = field(default_factory=set)
    undefined_after: set[str] = field(default_factory=set)
    entries: int = 0
    identical: int = 0
    differing: dict[str, tuple[str, str]] = field(default_factory=dict)
    compiled: bool = False  # the original .bib compiles (biber refuses some that bibtex reads)
    import_stderr: str = ""
    bib_stderr: str = ""

    def summary(self) -> str:
        return (f"{self.paper:16} {self.engine:6} cited {self.cited:3}  undefined {len(self.undefined_before)} -> "
                f"{len(self.undefined_after)}  identical {self.identical}/{self.entries}")


def round_trip(paper: Path, work: Path, biber: bool) -> Trip:
    """Import ``paper``'s .bib files, write its bibliography with ``citetool bib``, compile both."""
    engine = "biber" if biber else "bibtex"
    trip = Trip(paper.name, engine)
    work.mkdir(parents=True, exist_ok=True)
    for f in paper.iterdir():
        shutil.copy(f, work / f.name)
    bibs = sorted(p.stem for p in work.glob("*.bib"))
    store = work / "store.json"
    done = citetool(["import", *[f"{b}.bib" for b in bibs]], store, work)
    trip.import_stderr = done.stderr
    fmt = "biblatex" if biber else "bibtex"
    # --unicode: the characters as the user's file has them (the default, ASCII with LaTeX
    # accents, prints the same but its .bbl spells them otherwise)
    done = citetool(["bib", "paper.tex", "--allow-missing", "--offline", "--unicode", "-f", fmt,
                     "-o", "refs-out.bib"], store, work)
    trip.bib_stderr = done.stderr
    keys = citetool(["bib", "paper.tex", "--keys"], store, work).stdout.split()
    keys = [k for k in keys if k != "*"]
    trip.cited = len(keys)
    run = run_biber if biber else run_bibtex
    bbl_before, blg_before = run(work, keys, bibs, "before")
    bbl_after, blg_after = run(work, keys, ["refs-out"], "after")
    before, after = bbl_entries(bbl_before, biber), bbl_entries(bbl_after, biber)
    # undefined: cited, and not in the .bbl (what LaTeX then reports as an undefined citation)
    trip.undefined_before = set(keys) - set(before)
    trip.undefined_after = set(keys) - set(after)
    trip.compiled = bool(before)
    trip.entries = len(before)
    for key, text in before.items():
        if after.get(key) == text:
            trip.identical += 1
        else:
            trip.differing[key] = (text, after.get(key, "<missing>"))
    return trip


_ACCENT_OR_BRACE = re.compile(r"[{}\\\s~]+")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def normal(name: str, value: str) -> str:
    """A field's value with only what the issue allows normalised: braces and
    whitespace, LaTeX accents (decoded by pylatexenc), month macros, page dashes."""
    from pylatexenc.latex2text import LatexNodes2Text

    text = value
    if name == "month" and text.strip().lower()[:3] in _MONTHS:
        return str(_MONTHS[text.strip().lower()[:3]])
    if name == "pages":
        text = re.sub(r"-+|\u2013", "-", text)
    with contextlib.suppress(Exception):
        text = LatexNodes2Text(math_mode="verbatim").latex_to_text(text)
    return " ".join(_ACCENT_OR_BRACE.sub(" ", text).split())


def library_entries(bib_texts: list[str]) -> dict[str, dict[str, str]]:
    """bibtexparser's reading of the files (read together, as BibTeX reads them): key -> field -> value."""
    import bibtexparser

    library = bibtexparser.parse_string("\n".join(bib_texts))
    out: dict[str, dict[str, str]] = {}
    blocks = list(library.entries) + [b.ignore_error_block for b in library.failed_blocks
                                      if type(b).__name__ == "DuplicateFieldKeyBlock"]
    for entry in blocks:
        fields: dict[str, str] = {}
        for f in entry.fields:
            fields.setdefault(f.key.lower(), str(f.value))
        out.setdefault(entry.key, fields)
    return out


def library_trip(paper: Path, work: Path) -> tuple[int, int, int, list[str]]:
    """(entries, fields, fields kept, what was lost) of importing ``paper``'s .bib
    files and exporting the whole library as BibTeX, both read by bibtexparser."""
    work.mkdir(parents=True, exist_ok=True)
    bibs = sorted(paper.glob("*.bib"))
    store = work / "store.json"
    citetool(["import", *map(str, bibs)], store, work)
    citetool(["export", "-f", "bibtex", "--unicode", "-o", "all.bib"], store, work)
    original = library_entries([b.read_text(encoding="utf-8") for b in bibs])
    exported = library_entries([(work / "all.bib").read_text(encoding="utf-8")])
    fields = kept = 0
    lost = []
    for key, entry in original.items():
        back = exported.get(key)
        for name, value in entry.items():
            fields += 1
            if back is not None and name in back and normal(name, back[name]) == normal(name, value):
                kept += 1
            else:
                lost.append(f"{key}.{name}: {value[:60]!r} -> {(back or {}).get(name, '<missing>')[:60]!r}")
    return len(original), fields, kept, lost


if __name__ == "__main__":
    import tempfile

    chosen = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for paper in papers():
            if chosen and paper.name not in chosen:
                continue
            for biber in (False, True):
                trip = round_trip(paper, Path(tmp) / f"{paper.name}-{biber}", biber)
                print(trip.summary())
                if os.environ.get("SHOW"):
                    for key, (a, b) in list(trip.differing.items())[:int(os.environ["SHOW"])]:
                        print("  -", key, "\n     ", a, "\n     ", b)
                    print("  import:", trip.import_stderr[:3000])
                    print("  bib:", trip.bib_stderr[:1000])
                    print("  undefined after:", sorted(trip.undefined_after - trip.undefined_before))
            entries, fields, kept, lost = library_trip(paper, Path(tmp) / f"{paper.name}-library")
            print(f"{paper.name:16} library: {entries} entries, {kept}/{fields} fields back", *lost[:5], sep="\n  ")
