"""A newcomer's setting up: a project's citetool.toml found upward from the
working directory, the user's in the XDG config folder, `citetool config`,
an empty store file, the first write saying where the store is, and git-setup
in a repository (the lock file ignored, no store yet). Through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import SEED_DOI

SEED_KEY = "arduino2021russia"


@pytest.fixture
def no_store_env(monkeypatch):
    """No CITETOOL_STORE: the store comes from the files or the defaults."""
    monkeypatch.delenv("CITETOOL_STORE", raising=False)


@pytest.fixture
def project(tmp_path, monkeypatch, no_store_env):
    """A paper's folder with a citetool.toml, the command run two folders below it."""
    root = tmp_path / "paper"
    (root / "refs").mkdir(parents=True)
    (root / "chapters" / "one").mkdir(parents=True)
    (root / "citetool.toml").write_text(
        'store = "refs/library.json"\nmailto = "author@example.org"\nformat = "biblatex"\n', encoding="utf-8")
    monkeypatch.chdir(root / "chapters" / "one")
    return root


def settings_of(run) -> dict:
    result = run("config", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["settings"]


def test_a_project_file_is_found_upward_and_its_store_is_relative_to_it(crossref, run, project):
    result = run("add", SEED_DOI)
    assert result.exit_code == 0, result.stderr
    assert (project / "refs" / "library.json").exists()
    settings = settings_of(run)
    assert settings["store"] == {"value": str(project / "refs" / "library.json"),
                                 "from": f"project file {project / 'citetool.toml'}"}
    assert settings["mailto"]["value"] == "author@example.org"
    # the mailto is sent: Crossref's polite pool
    agents = [request.headers.get("User-Agent", "") for request, _ in crossref.server.log]
    assert agents and all("mailto:author@example.org" in agent for agent in agents)


def test_the_configured_format_is_the_default_and_an_option_wins(crossref, run, project):
    run("add", SEED_DOI)
    configured = run("export")
    assert configured.exit_code == 0, configured.stderr
    assert "journaltitle = {" in configured.stdout  # biblatex, not bibtex's journal
    chosen = run("export", "--format", "bibtex")
    assert "journal = {" in chosen.stdout and "journaltitle" not in chosen.stdout


def test_a_configured_style_applies_to_text_only(crossref, run, project):
    (project / "citetool.toml").write_text('store = "refs/library.json"\nstyle = "apa"\n', encoding="utf-8")
    run("add", SEED_DOI)
    styled = run("export", "--format", "text")
    plain = run("export", "--format", "text", "--style", "harvard-cite-them-right")
    assert styled.exit_code == plain.exit_code == 0
    assert "(2021)" in styled.stdout  # APA puts the year in brackets after the authors
    assert styled.stdout != plain.stdout
    assert run("export").stdout.startswith("@article{")  # a style is no reason to refuse bibtex


def test_the_user_file_is_read_and_the_project_file_environment_and_option_win(tmp_path, run, monkeypatch, no_store_env):
    user_folder = tmp_path / "user-config" / "citetool"
    user_folder.mkdir(parents=True)
    (user_folder / "citetool.toml").write_text('store = "~/all.json"\nmailto = "me@example.org"\n', encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    settings = settings_of(run)
    assert settings["store"] == {"value": str(tmp_path / "home" / "all.json"),
                                 "from": f"user file {user_folder / 'citetool.toml'}"}
    assert settings["mailto"]["from"] == f"user file {user_folder / 'citetool.toml'}"
    (work / "citetool.toml").write_text('store = "here.json"\n', encoding="utf-8")
    settings = settings_of(run)
    assert settings["store"]["value"] == str(work / "here.json")
    assert settings["mailto"]["value"] == "me@example.org"  # the user file still gives what the project's does not
    monkeypatch.setenv("CITETOOL_MAILTO", "env@example.org")
    monkeypatch.setenv("CITETOOL_STORE", str(tmp_path / "env.json"))
    settings = settings_of(run)
    assert settings["mailto"] == {"value": "env@example.org", "from": "$CITETOOL_MAILTO"}
    assert settings["store"] == {"value": str(tmp_path / "env.json"), "from": "$CITETOOL_STORE"}
    result = run("--store", str(tmp_path / "option.json"), "config")
    assert result.exit_code == 0
    store_line = result.stdout.splitlines()[0]
    assert store_line.split() == ["store", str(tmp_path / "option.json"), "(--store)"]


def test_config_without_any_file_says_where_it_looked(run, tmp_path, no_store_env):
    result = run("config")
    assert result.exit_code == 0, result.stderr
    assert "no citetool.toml found" in result.stdout
    assert str(tmp_path / "user-config" / "citetool" / "citetool.toml") in result.stdout
    assert "default: the user data folder" in result.stdout
    # the default key pattern said is the one keys are made by (it said [shorttitle] once)
    from citetool.keypattern import DEFAULT

    assert f"default: {DEFAULT})" in result.stdout and DEFAULT == "[auth:lower][year][veryshorttitle:lower]"


@pytest.mark.parametrize("text, said", [
    ('store = "refs.json', "is not valid TOML"),
    ('stor = "refs.json"\n', "unknown setting 'stor'; a citetool.toml may set: store, mailto, key-pattern, format, style"),
    ("store = 3\n", "store must be a non-empty string"),
])
def test_a_broken_project_file_is_a_one_line_usage_error(run, tmp_path, no_store_env, text, said):
    (tmp_path / "citetool.toml").write_text(text, encoding="utf-8")
    result = run("list")
    assert result.exit_code == 2
    assert said in result.stderr and str(tmp_path / "citetool.toml") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_named_store_that_is_missing_names_the_file_that_named_it(run, project):
    result = run("list")
    assert result.exit_code == 4
    assert f"check the store setting in the project file {project / 'citetool.toml'}" in result.stderr


def test_an_empty_file_is_an_empty_store(crossref, run, store_path):
    store_path.touch()
    listed = run("list")
    assert listed.exit_code == 0 and listed.stdout == ""
    assert run("doctor").exit_code == 0
    added = run("add", SEED_DOI)
    assert added.exit_code == 0, added.stderr
    assert json.loads(store_path.read_text(encoding="utf-8"))["references"][0]["id"] == SEED_KEY
    assert "created the store" not in added.stderr  # the file was there: the user made it


def test_the_first_write_to_a_new_store_says_where_it_is_once(crossref, run, store_path):
    first = run("add", SEED_DOI)
    assert first.exit_code == 0
    assert f"citetool: created the store {store_path}" in first.stderr
    second = run("add", "10.1038/srep16696")
    assert second.exit_code == 0 and "created the store" not in second.stderr


git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git_in(folder, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def repository(tmp_path, monkeypatch, no_store_env):
    root = tmp_path / "paper"
    root.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Co Author")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "coauthor@example.org")
    git_in(root, "init", "-q", "-b", "main")
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the default store, outside the repository
    return root


@git
def test_git_setup_in_a_repository_without_a_store_says_how_to_make_one(run, repository):
    result = run("git-setup")
    assert result.exit_code == 2
    assert "is outside the git work tree" in result.stderr
    assert f'store = "refs.json"  into {repository / "citetool.toml"}' in result.stderr


@git
def test_git_setup_keeps_the_lock_file_out_of_the_repository(crossref, run, repository):
    (repository / "citetool.toml").write_text('store = "refs.json"\n', encoding="utf-8")
    setup = run("git-setup")
    assert setup.exit_code == 0, setup.stderr
    assert f"there is no store at {repository / 'refs.json'} yet" in setup.stderr
    assert "added '/refs.json.lock'" in setup.stderr
    assert run("add", SEED_DOI).exit_code == 0
    assert (repository / "refs.json.lock").exists()  # the OS lock's file stays beside the store
    git_in(repository, "add", "-A")
    committed = git_in(repository, "diff", "--cached", "--name-only").split()
    assert sorted(committed) == [".gitattributes", ".gitignore", "citetool.toml", "refs.json"]
    again = run("git-setup")
    assert (repository / ".gitignore").read_text(encoding="utf-8") == "/refs.json.lock\n"
    assert "no store" not in again.stderr
