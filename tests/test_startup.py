"""What start-up leaves out must not change what a command does: only the command
named is built, and the HTTP client is loaded without trio."""

from __future__ import annotations

import subprocess
import sys

import pytest

from citetool import cli


@pytest.mark.parametrize(("args", "name"), [
    (["add", "10.1/x"], "add"),
    (["--store", "s.json", "list"], "list"),
    (["-s", "s.json", "show", "k"], "show"),
    (["-ss.json", "export"], "export"),
    (["--store=s.json", "--debug", "merge-driver", "a", "b", "c"], "merge-driver"),
    (["--help", "add"], None),
    (["--version"], None),
    ([], None),
])
def test_the_command_named_is_found_past_the_global_options(args, name):
    assert cli.command_named(args) == name


def test_only_the_named_command_is_built_and_the_rest_get_every_command():
    every = set(cli.click_command(["--help"]).commands)
    assert {"add", "list", "export", "import", "merge-driver", "git-setup"} <= every
    assert set(cli.click_command(["--store", "s.json", "import", "x.bib"]).commands) == {"import"}
    assert set(cli.click_command(["no-such-command"]).commands) == every  # Click's error names the choices
    assert set(cli.click_command(["--version"]).commands) == set()


def test_a_misspelt_command_is_still_a_usage_error(capsys):
    assert cli.run(["lsit"]) == 2
    assert "no such command" in capsys.readouterr().err.lower()


def test_the_http_client_loads_without_trio_and_trio_still_imports():
    code = (
        "import sys\n"
        "from citetool.config import Settings\n"
        "from citetool.sources.http import Http\n"
        "Http(Settings.from_env())._session()\n"
        "assert 'httpcore2' in sys.modules and 'trio' not in sys.modules, sorted(sys.modules)\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('trio') is not None:\n"
        "    import trio  # blocked only while httpx2 loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
