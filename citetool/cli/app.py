"""The command line's frame: the Click group, one run's :class:`Invocation` (its
environment and global options), the one mapping of citetool's errors to
messages and exit codes, and the library a command opens. Commands live in
the modules beside this one; each only parses, calls :class:`citetool.library.Library`
and prints.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from typer.core import TyperGroup

from citetool import __version__
from citetool.environment import Environment
from citetool.errors import CitetoolError, ExitCode, StoreError, UsageError

EPILOG = """\
Examples:

  citetool add 10.1080/14751798.2021.1995963

  cat dois.txt | citetool add -

  citetool list

  citetool export --format bibtex --output refs.bib

Exit codes: 0 ok, 1 internal error, 2 usage error, 3 some identifiers failed
(check: a retraction or expression of concern found), 4 store cannot be
read/written/locked, 5 key not in store, 130 interrupted.
"""


# The Click that Typer runs on (recent Typers ship their own copy of it).
click_errors = (getattr(typer.core, "_click", None) or typer.core.click).exceptions


class CitetoolGroup(TyperGroup):
    """Click's group, with its usage errors said the citetool way
    (``citetool: error: no such option: --x``, exit 2) and the
    :class:`Environment` passed in as ``obj`` (default: the real process's)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        env = extra.pop("obj", None)
        if not isinstance(env, Environment):
            env = Environment()
        token = invocation_var.set(Invocation(env))
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click_errors.NoArgsIsHelpError as exc:
            env.err(exc.format_message())
            code = int(ExitCode.USAGE)
        except click_errors.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            env.err(f"citetool: error: {lower_first(exc.format_message())}{where}")
            code = int(ExitCode.USAGE)
        except click_errors.ClickException as exc:
            env.err(f"citetool: error: {lower_first(exc.format_message())}")
            code = exc.exit_code
        except typer.Abort:
            env.err("citetool: interrupted")
            code = int(ExitCode.INTERRUPTED)
        finally:
            finished[:] = [invocation_var.get()]  # (see `finished`)
            invocation_var.reset(token)
        env.flush()
        if standalone_mode:
            sys.exit(code)
        return code


def lower_first(text: str) -> str:
    """Click's "No such command 'x'." as a citetool message: "no such command 'x'"."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


app = typer.Typer(
    name="citetool",
    cls=CitetoolGroup,
    help="Build and export citations from DOIs, RePEc handles, ISBNs and web pages. Data goes to stdout, messages to stderr.",
    epilog=EPILOG,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Invocation:
    """One run of the command line: its environment and global options."""

    env: Environment
    store: Path | None = None
    debug: bool = False
    library: Any = None  # the Library the command opened (to report what a Ctrl-C left saved)
    configuration: Any = None  # the settings in effect (citetool.configfile.Configuration), read once


invocation_var: ContextVar[Invocation] = ContextVar("citetool_invocation")

# The last run's Invocation, kept: what its command opened (a large store's records,
# 700,000 objects at 10,000 references) is not freed object by object as the run
# ends, ~15 ms, for a command line process that ends right after (cli._leave); the
# next run in the same process (the tests) lets it go.
finished: list[Invocation] = []


def current() -> Invocation:
    """This run's :class:`Invocation` (set by :meth:`CitetoolGroup.main`)."""
    try:
        return invocation_var.get()
    except LookupError:  # a command function called outside the command line
        invocation = Invocation(Environment())
        invocation_var.set(invocation)
        return invocation


def environment() -> Environment:
    return current().env


def say(message: str) -> None:
    """A message for the user: stderr, one line, no markup."""
    environment().err(f"citetool: {message}")


def out(text: str) -> None:
    """A line of data on stdout."""
    environment().out(text)


def handle_errors(func):
    """Map citetool's errors to one-line messages and exit codes (the one place)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        invocation = current()
        try:
            return func(*args, **kwargs)
        except CitetoolError as exc:
            if invocation.debug:
                raise
            say(f"error: {exc.message}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            say(f"interrupted; {saved_so_far(invocation)}")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort, click_errors.ClickException):
            raise
        except Exception as exc:  # a bug: say so briefly, unless --debug
            if invocation.debug:
                raise
            say(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)")
            raise typer.Exit(int(ExitCode.ERROR)) from None
        finally:
            announce_new_store(invocation)

    return wrapper


def announce_new_store(invocation: Invocation) -> None:
    """The first write to a store that did not exist says where the store is (once)."""
    store = getattr(invocation.library, "store", None)
    if store is not None and store.created:
        store.created = False
        if invocation.store is not None:  # named by --store: later commands look there only when told so too
            say(f"created the store {store.path.absolute()} (named by --store: later commands need it too)")
        else:
            say(f"created the store {store.path.absolute()} (where every later command looks: see `citetool config`)")


def saved_so_far(invocation: Invocation) -> str:
    """What an interrupted command left in the store, for the Ctrl-C message."""
    if invocation.library is None:
        return "nothing was saved"
    return invocation.library.store.saved_summary()


def show_version(value: bool) -> None:
    if value:
        out(f"citetool {__version__}")
        raise typer.Exit()


@app.callback()
@handle_errors
def main_options(
    store: Annotated[
        Path | None,
        typer.Option("--store", "-s", help="Store file (default: $CITETOOL_STORE, citetool.toml's store, ./citetool.json, or the user data dir)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    invocation = current()
    invocation.store = store
    invocation.debug = debug
    if invocation.env.stdout is None:
        raise UsageError("stdout is closed: redirect it to a file or to /dev/null")


def configuration():
    """The settings in effect: options, environment, citetool.toml files, defaults (read once a run)."""
    from citetool.configfile import load  # start-up: loaded only when needed

    invocation = current()
    if invocation.configuration is None:
        invocation.configuration = load(invocation.store, environment().environ)
    return invocation.configuration


def current_settings():
    return configuration().settings


def current_store_path() -> Path:
    return configuration().store


def open_library():
    from citetool.library import Library  # start-up: loaded only when needed

    invocation = current()
    invocation.library = Library(current_store_path(), current_settings())
    return invocation.library


def where_store_was_named() -> str:
    origin = configuration().origins["store"]
    return origin if origin.startswith(("--", "$")) else f"the store setting in the {origin}"


def open_stored_library():
    """The library a reading command reads: a store named by ``--store``,
    ``CITETOOL_STORE`` or a citetool.toml must exist (a typo must not export an empty .bib with
    exit 0); the default store may not exist yet (nothing stored so far)."""
    library = open_library()  # reads the settings (a bad one is reported first), not yet the store
    path = library.store.path
    if not configuration().origins["store"].startswith("default") and not path.exists():
        raise StoreError(f"no store at {path}: check {where_store_was_named()} (adding a reference creates one)")
    return library
