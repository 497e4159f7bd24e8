"""The command line: parse arguments, call the library, print.

Contract for scripts: data alone on stdout; messages on stderr; ``-`` reads
identifiers from stdin; ``--json`` for machine-readable output; exit codes from
:class:`citetool.errors.ExitCode`; never a prompt; never a traceback for an
expected failure (``--debug`` shows one).

One module per group of commands; each registers its commands on
:data:`citetool.cli.app.app` when imported (below), and shared options are
declared once in :mod:`citetool.cli.options`.
"""

from __future__ import annotations

import copy
import gc
import os
import sys
from collections.abc import Sequence

import typer

from citetool.cli.app import app
from citetool.environment import Environment

# Each module registers its commands on ``app`` when imported.
# In this order: the order of `citetool --help`.
from citetool.cli import collect, browse, write, edit, news, store_tools, info  # noqa: F401  isort: skip


def command_named(args: Sequence[str]) -> str | None:
    """The command ``args`` run (``["--store", "s.json", "add", ...]`` -> ``add``), or None
    when they ask for the group's help or version, or name no command."""
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg in ("--store", "-s"):
            args = args[1:]
        elif arg.startswith(("--store=", "-s")) or arg == "--debug":
            continue
        else:
            return None if arg.startswith("-") else arg
    return None


def click_command(args: Sequence[str]):
    """The Click command for ``args``. Typer builds a command by reading its
    function's signature and type hints (a millisecond or two each, ~20 ms for
    all): when ``args`` name a command, only that one is built. Help, version
    and unknown commands get the whole group."""
    name = command_named(args)
    chosen = [c for c in app.registered_commands
              if (c.name or typer.main.get_command_name(c.callback.__name__)) == name]
    if name is None and "--version" in args and not {"-h", "--help"} & set(args):
        chosen = []  # the version is printed before any command is looked at: build none
    elif not chosen:
        return typer.main.get_command(app)
    one = copy.copy(app)
    one.registered_commands = chosen
    return typer.main.get_command(one)


def run(args: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the command line with ``args`` in ``env`` (default: this process's);
    return the exit code. What tests call, with an Environment of their own."""
    args = sys.argv[1:] if args is None else list(args)
    return click_command(args).main(args, prog_name="citetool", obj=env, standalone_mode=False)


def main() -> None:
    """Console-script entry point."""
    # One command is a short-lived process, and the store's records (hundreds of
    # thousands of dicts and lists) hold no reference cycles: the cyclic collector
    # would only walk them again and again (a fifth of `show` on a 10,000-reference
    # store). Reference counting still frees everything as usual.
    gc.disable()
    # A closed stdout or stderr (`citetool export >&-`) has no stream; its
    # descriptor must not be reused by the next file opened (the store!).
    closed = {fd: stream is None for fd, stream in ((1, sys.stdout), (2, sys.stderr))}
    for fd, is_closed in closed.items():
        if is_closed:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    _leave(run(sys.argv[1:], Environment()))


def _leave(code: int) -> None:
    """End the process with ``code`` once stdout and stderr are flushed, without
    the interpreter's own teardown: freeing every module and collecting what is
    left, ~20 ms of every command (a tenth of `list` on a 10,000-reference store),
    for a process that is about to end. Nothing of citetool's waits for it:
    files are written and closed, and the store's lock released, before a
    command returns (the system closes what is left). A reader gone from a pipe
    (`citetool list | head -1`) is no error, as before."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe, a closed stream: nothing more to say
            pass
    os._exit(code if isinstance(code, int) else 0)
