"""Real consumers judge the exports: every fixture, every format, through
../shared/validators/check_*.sh (bibtex+pdflatex, biber+biblatex, rispy,
citation-js, the CSL-JSON schema, citeproc-py, pandoc, vnu, html5lib, tidy).

Skipped, with the reason, where the validators are not installed
(``bash ../shared/validators/install.sh``); .ci/run installs them.
"""

import os
import subprocess
from pathlib import Path

import pytest
from conftest import ALL_WORKS

VALIDATORS = Path(__file__).resolve().parents[2] / "shared" / "validators"

CHECKS = {
    "bibtex": ("check_bibtex.sh", "bib", {"BIB_MODE": "bibtex"}),
    "biblatex": ("check_bibtex.sh", "bib", {"BIB_MODE": "biber"}),
    "ris": ("check_ris.sh", "ris", {}),
    "csl-json": ("check_csljson.sh", "json", {}),
    "html": ("check_html.sh", "html", {}),
}


def validate(fmt: str, path: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    script, _, env = CHECKS[fmt]
    if not (VALIDATORS / script).exists():
        pytest.skip(f"validators not found at {VALIDATORS}")
    proc = subprocess.run(
        ["bash", str(VALIDATORS / script), str(path)],
        capture_output=True, text=True, env={**os.environ, **env, **(extra_env or {})}, timeout=600,
    )
    if proc.returncode == 2:
        pytest.skip(f"{script}: tools missing ({proc.stderr.strip()[:200]}); run {VALIDATORS}/install.sh")
    return proc


REPEC_HANDLES = Path(__file__).resolve().parents[2] / "shared" / "repec-handles.tsv"


@pytest.fixture(params=["crossref-fixtures", "repec-handles"])
def full_store(request, crossref, econpapers, run):
    if request.param == "crossref-fixtures":
        ids = list(ALL_WORKS)
        result = run("add", "-", input="\n".join(ids))
    else:  # every RePEc handle we know, offline (the thinnest records), and the seed online
        if not REPEC_HANDLES.exists():
            pytest.skip(f"{REPEC_HANDLES} not found")
        ids = [line.split("\t")[0] for line in REPEC_HANDLES.read_text(encoding="utf-8").splitlines()[1:]]
        result = run("add", "--offline", "-", input="\n".join(ids))
        assert run("add", "--refresh", ids[0]).exit_code == 0
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.split()) == len(ids)
    return result


@pytest.mark.validators
@pytest.mark.parametrize("fmt", sorted(CHECKS))
def test_every_fixture_passes_the_real_consumers(full_store, run, tmp_path, fmt):
    out = tmp_path / f"refs.{CHECKS[fmt][1]}"
    result = run("export", "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    proc = validate(fmt, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout
