"""Co-authors share one store through git: real repositories, real branches,
real `git merge`, with the merge driver installed by `citetool git-setup`.

The driver git runs is `<this Python> -m citetool merge-driver ...` (what
git-setup writes), so it runs the citetool under test (PYTHONPATH is inherited).
The references come from the recorded Crossref responses, served on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SEED_DOI

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

DOI_B = "10.1038/srep16696"
DOI_C = "10.1038/ng.3834"
DOI_D = "10.1098/rspb.2017.0132"
DOI_E = "10.1038/hdy.2013.26"


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """A private HOME (so --global writes there) and a fixed identity."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Co Author")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "coauthor@example.org")
    return home


class Repo:
    def __init__(self, root: Path, store: Path, run):
        self.root, self.store, self._run = root, store, run

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True)
        if check:
            assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def citetool(self, *args: str, input: str | None = None):
        return self._run("--store", str(self.store), *args, input=input)

    def ok(self, *args: str) -> str:
        result = self.citetool(*args)
        assert result.exit_code == 0, result.stderr
        return result.stdout.strip()

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def records(self) -> dict:
        text = self.store.read_text(encoding="utf-8")
        assert "<<<<<<<" not in text and ">>>>>>>" not in text
        return {r["id"]: r for r in json.loads(text)["references"]}


def make_repo(tmp_path, run, folder: str = "paper", store: str = "refs/my library.json", **config) -> Repo:
    root = tmp_path / folder
    root.mkdir()
    repo = Repo(root, root / store, run)
    repo.store.parent.mkdir(parents=True, exist_ok=True)  # citetool creates no folder but its own data folder
    repo.git("init", "-q", "-b", "main")
    for name, value in config.items():
        repo.git("config", name.replace("_", "."), value)
    return repo


@pytest.fixture
def repo(tmp_path, run, git_env, crossref):
    repo = make_repo(tmp_path, run)
    repo.keys = repo.ok("add", SEED_DOI, DOI_B, DOI_C).split()
    result = repo.citetool("git-setup")
    assert result.exit_code == 0, result.stderr
    repo.commit("a shared library")
    return repo


def test_git_setup_registers_the_driver_and_marks_the_store_once(tmp_path, run, git_env):
    repo = make_repo(tmp_path, run)
    first = repo.citetool("git-setup")
    assert first.exit_code == 0, first.stderr
    assert "added '\"/refs/my library.json\" merge=citetool'" in first.stderr
    driver = repo.git("config", "--get", "merge.citetool.driver").stdout.strip()
    assert driver.endswith("-m citetool merge-driver %O %A %B %P")
    assert repo.git("check-attr", "merge", "refs/my library.json").stdout.strip().endswith("merge: citetool")
    again = repo.citetool("git-setup")
    assert again.exit_code == 0
    assert "already" in again.stderr and "added" not in again.stderr
    assert (repo.root / ".gitattributes").read_text(encoding="utf-8").count("merge=citetool") == 1
    assert not (git_env / ".gitconfig").exists()


def test_git_setup_global_writes_the_users_git_config(tmp_path, run, git_env):
    repo = make_repo(tmp_path, run)
    result = repo.citetool("git-setup", "--global")
    assert result.exit_code == 0, result.stderr
    assert "merge-driver %O %A %B %P" in (git_env / ".gitconfig").read_text(encoding="utf-8")
    assert repo.git("config", "--local", "--get", "merge.citetool.driver", check=False).returncode != 0
    assert (repo.root / ".gitattributes").exists()


def test_git_setup_outside_a_work_tree_is_a_usage_error(tmp_path, run, git_env):
    outside = tmp_path / "nowhere"
    outside.mkdir()
    result = run("--store", str(outside / "refs.json"), "git-setup")
    assert result.exit_code == 2
    assert "not inside a git work tree" in result.stderr


def test_edits_additions_removals_rekeys_and_one_doi_twice_merge_cleanly(repo, crossref):
    seed, b, c = repo.keys
    repo.git("checkout", "-q", "-b", "bob")
    repo.ok("edit", seed, "--set", "note=Read for chapter 2")
    d_bob = repo.ok("add", DOI_D)
    repo.ok("rekey", d_bob, "bobsKey2017")
    repo.ok("add", DOI_E)
    repo.ok("rekey", b, "tosatto2015")
    repo.commit("bob's references")

    repo.git("checkout", "-q", "main")
    repo.ok("edit", seed, "--set", "volume=38")
    d_main = repo.ok("add", DOI_D)
    repo.ok("remove", c)
    repo.commit("alice's references")

    merged = repo.git("merge", "-q", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    refs = repo.records()
    e_bob = next(k for k, r in refs.items() if r.get("DOI", "").lower() == DOI_E)
    assert set(refs) == {seed, "tosatto2015", d_main, e_bob}
    assert refs[seed]["note"] == "Read for chapter 2" and refs[seed]["volume"] == "38"
    assert refs[seed]["citetool"]["fields"]["note"] == "user" == refs[seed]["citetool"]["fields"]["volume"]
    assert [r["id"] for r in refs.values() if r.get("DOI", "").lower() == DOI_D] == [d_main]
    assert refs[d_main]["citetool"]["aliases"] == ["bobsKey2017"]
    assert refs["tosatto2015"]["DOI"].lower() == DOI_B
    # Bob's manuscript still cites his key: it resolves to the one reference.
    assert repo.ok("show", "bobsKey2017").splitlines()[0] == f"key: {d_main}"
    assert f"@article{{{d_main}," in repo.ok("export", "bobsKey2017")
    assert repo.citetool("doctor").exit_code == 0
    assert repo.git("status", "--porcelain").stdout == ""


def test_a_same_field_conflict_leaves_a_valid_store_until_resolved(repo):
    seed = repo.keys[0]
    repo.git("checkout", "-q", "-b", "bob")
    repo.ok("edit", seed, "--set", "title=Soft power, the Russian way")
    repo.commit("bob's title")
    repo.git("checkout", "-q", "main")
    repo.ok("edit", seed, "--set", "title=Russia's scalable soft power")
    repo.ok("edit", seed, "--set", "volume=38")
    repo.commit("alice's title")

    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout
    assert f"conflict: {seed} title" in merged.stdout + merged.stderr
    refs = repo.records()  # valid JSON, no markers
    assert refs[seed]["title"] == "Russia's scalable soft power"
    assert refs[seed]["volume"] == "38"
    assert refs[seed]["citetool"]["unresolved"]["title"] == {
        "ours": "Russia's scalable soft power", "theirs": "Soft power, the Russian way"}
    shown = repo.ok("show", seed)
    assert "merge conflict, ours: Russia's scalable soft power" in shown
    assert "merge conflict, theirs: Soft power, the Russian way" in shown
    doctor = repo.citetool("doctor")
    assert doctor.exit_code == 4
    assert "unresolved merge conflict in title" in doctor.stdout

    resolved = repo.citetool("resolve", seed, "title", "--take", "theirs")
    assert resolved.exit_code == 0, resolved.stderr
    assert repo.records()[seed]["title"] == "Soft power, the Russian way"
    assert "unresolved" not in repo.records()[seed]["citetool"]
    assert repo.citetool("doctor").exit_code == 0
    repo.commit("merged bob")
    assert repo.git("log", "--format=%s", "-1").stdout.strip() == "merged bob"


def test_a_removal_is_kept_unless_the_other_side_edited(repo):
    seed, b, c = repo.keys
    repo.git("checkout", "-q", "-b", "bob")
    repo.ok("edit", seed, "--set", "note=still needed")
    repo.commit("bob edits the seed")
    repo.git("checkout", "-q", "main")
    repo.ok("remove", seed, b)
    repo.commit("alice removes two")
    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert f"kept {seed}: removed in ours, but edited in theirs" in merged.stdout + merged.stderr
    refs = repo.records()
    assert set(refs) == {seed, c}
    assert refs[seed]["note"] == "still needed"


def test_a_user_edit_beats_a_source_update_of_the_same_field(repo, crossref, monkeypatch):
    seed = repo.keys[0]
    repo.git("checkout", "-q", "-b", "bob")
    recorded = json.loads(crossref_fixture(SEED_DOI))
    recorded["message"]["volume"] = "99"
    recorded["message"]["page"] = "1-20"
    crossref.overrides[SEED_DOI.lower()] = (200, json.dumps(recorded).encode(), "application/json")
    monkeypatch.setenv("CITETOOL_CACHE_MAX_AGE", "0")
    result = repo.citetool("refresh", seed)
    assert result.exit_code == 0, result.stderr
    assert repo.records()[seed]["volume"] == "99"
    repo.commit("crossref updated the volume and pages")
    repo.git("checkout", "-q", "main")
    repo.ok("edit", seed, "--set", "volume=37 (special issue)")
    repo.commit("alice's volume")
    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    rec = repo.records()[seed]
    assert rec["volume"] == "37 (special issue)" and rec["citetool"]["fields"]["volume"] == "user"
    assert rec["page"] == "1-20" and rec["citetool"]["fields"]["page"] == "crossref"
    assert rec["citetool"]["conflicts"]["volume"] == {"crossref": "99"}  # still visible in `show`
    assert "crossref says: 99" in repo.ok("show", seed)


def crossref_fixture(doi: str) -> str:
    from conftest import ALL_WORKS

    return ALL_WORKS[doi.lower()].read_text(encoding="utf-8")


def to_crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def merge_a_note_from_each_branch(repo: Repo, seed: str, other: str, bob_crlf: bool, alice_crlf: bool) -> None:
    repo.git("checkout", "-q", "-b", "bob")
    repo.ok("edit", seed, "--set", "note=bob")
    if bob_crlf:
        to_crlf(repo.store)
    repo.commit("bob")
    repo.git("checkout", "-q", "main")
    repo.ok("edit", other, "--set", "note=alice")
    if alice_crlf:
        to_crlf(repo.store)
    repo.commit("alice")
    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    refs = repo.records()
    assert refs[seed]["note"] == "bob" and refs[other]["note"] == "alice"


def test_crlf_checkouts_merge(tmp_path, run, git_env, crossref):
    repo = make_repo(tmp_path, run, core_autocrlf="true")
    (repo.root / ".gitattributes").write_text("* text=auto\n", encoding="utf-8")
    seed, other = repo.ok("add", SEED_DOI, DOI_B).split()
    repo.citetool("git-setup")
    repo.commit("base")
    to_crlf(repo.store)  # as a Windows checkout has it
    merge_a_note_from_each_branch(repo, seed, other, bob_crlf=True, alice_crlf=False)
    assert b"\r\n" in repo.store.read_bytes()  # the checkout keeps its line endings


def test_a_store_committed_with_crlf_merges_and_keeps_crlf(tmp_path, run, git_env, crossref):
    repo = make_repo(tmp_path, run, core_autocrlf="false")
    seed, other = repo.ok("add", SEED_DOI, DOI_B).split()
    repo.citetool("git-setup")
    to_crlf(repo.store)
    repo.commit("base, CRLF in the repository")
    # citetool writes LF: bob's side is LF, ours (alice's) CRLF
    merge_a_note_from_each_branch(repo, seed, other, bob_crlf=False, alice_crlf=True)
    raw = repo.store.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")


HAND_MADE = """{"format": "citetool-store", "version": 1, "references": [
 {"id": "hume1739treatise", "type": "book", "title": "A Treatise of Human Nature",
  "author": [{"family": "Hume", "given": "David"}], "issued": {"date-parts": [[1739]]}, "publisher": "John Noon"},
 {"id": "smith1776wealth", "type": "book", "title": "An Inquiry into the Nature and Causes of the Wealth of Nations",
  "author": [{"family": "Smith", "given": "Adam"}], "issued": {"date-parts": [[1776]]}}
]}
"""


def test_a_side_in_an_older_hand_made_format_is_migrated_and_nothing_dropped(tmp_path, run, git_env):
    """A store with no provenance at all, not in canonical form (as an older or
    hand-written store is): every reference and field survives, and its
    unprovenanced fields count as the user's."""
    repo = make_repo(tmp_path, run, store="citetool.json")
    repo.store.write_text(HAND_MADE, encoding="utf-8")
    repo.citetool("git-setup")
    repo.commit("hand-made library")
    repo.git("checkout", "-q", "-b", "bob")
    text = HAND_MADE.replace('"issued": {"date-parts": [[1776]]}}',
                             '"issued": {"date-parts": [[1776]]}, "publisher": "W. Strahan and T. Cadell"},\n'
                             ' {"id": "keynes1936general", "type": "book", "title": "The General Theory",'
                             ' "author": [{"family": "Keynes", "given": "John Maynard"}]}')
    repo.store.write_text(text, encoding="utf-8")  # still hand-made, by a text editor
    repo.commit("bob, by hand")
    repo.git("checkout", "-q", "main")
    repo.ok("edit", "hume1739treatise", "--set", "publisher=Printed for John Noon")
    repo.commit("alice, with citetool")
    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    refs = repo.records()
    assert set(refs) == {"hume1739treatise", "smith1776wealth", "keynes1936general"}
    assert refs["hume1739treatise"]["publisher"] == "Printed for John Noon"
    assert refs["smith1776wealth"]["publisher"] == "W. Strahan and T. Cadell"
    assert refs["keynes1936general"]["author"] == [{"family": "Keynes", "given": "John Maynard"}]
    assert json.loads(repo.store.read_text(encoding="utf-8"))["version"] == 1
    assert repo.citetool("doctor").exit_code == 0  # written back in canonical form


def test_a_side_from_a_newer_citetool_is_refused_and_ours_left_alone(repo):
    repo.git("checkout", "-q", "-b", "bob")
    data = json.loads(repo.store.read_text(encoding="utf-8"))
    data["version"] = 99
    repo.store.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    repo.commit("bob's newer citetool")
    repo.git("checkout", "-q", "main")
    repo.ok("edit", repo.keys[0], "--set", "note=alice")
    repo.commit("alice")
    before = repo.store.read_bytes()
    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode != 0
    assert "newer than this citetool understands" in merged.stdout + merged.stderr
    assert repo.store.read_bytes() == before


def test_a_store_started_on_both_branches_merges(tmp_path, run, git_env, crossref):
    """No common ancestor of the store (git's add/add: an empty %O)."""
    repo = make_repo(tmp_path, run)
    assert repo.citetool("git-setup").exit_code == 0
    repo.commit("the driver, before any reference")
    repo.git("checkout", "-q", "-b", "bob")
    bob = repo.ok("add", DOI_B, SEED_DOI).split()
    repo.ok("edit", bob[1], "--set", "note=bob")
    repo.commit("bob starts a library")
    repo.git("checkout", "-q", "main")  # git removes bob's store; its folder stays if the (ignored) lock file does
    repo.store.parent.mkdir(exist_ok=True)
    alice = repo.ok("add", SEED_DOI, DOI_C).split()
    repo.commit("alice starts one too")
    merged = repo.git("merge", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    refs = repo.records()
    assert set(refs) == {*alice, bob[0]}
    assert refs[alice[0]]["note"] == "bob"


def test_a_criss_cross_history_merges(repo, crossref):
    """Two co-authors merge each other's branch, then go on: the next merge has
    two merge bases, which git first merges into a virtual one with the driver."""
    seed, b, c = repo.keys
    repo.git("checkout", "-q", "-b", "bob")
    repo.ok("edit", b, "--set", "volume=99")
    repo.commit("bob: a volume")
    repo.git("checkout", "-q", "main")
    repo.ok("edit", seed, "--set", "note=Alice's note")
    repo.commit("alice: a note")
    alice_first = repo.git("rev-parse", "HEAD").stdout.strip()
    assert repo.git("merge", "-q", "--no-edit", "bob", check=False).returncode == 0
    repo.git("checkout", "-q", "bob")
    assert repo.git("merge", "-q", "--no-edit", alice_first, check=False).returncode == 0
    repo.ok("edit", c, "--set", "note=Bob's note")
    repo.commit("bob: another note")
    repo.git("checkout", "-q", "main")
    d = repo.ok("add", DOI_D)
    repo.commit("alice: one more")
    assert len(repo.git("merge-base", "--all", "main", "bob").stdout.split()) == 2  # criss-cross

    merged = repo.git("merge", "-q", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    refs = repo.records()
    assert set(refs) == {seed, b, c, d}
    assert refs[seed]["note"] == "Alice's note" and refs[b]["volume"] == "99" and refs[c]["note"] == "Bob's note"
    assert repo.citetool("doctor").exit_code == 0
    assert repo.git("status", "--porcelain").stdout == ""
