"""Everything the command line takes from the process it runs in, in one object.

The CLI reads stdin, writes stdout and stderr, asks whether they are terminals,
reads environment variables (settings, ``NO_COLOR``, the editor) only through an
:class:`Environment`. The console script builds one from the real process; a
test builds one from strings and flags, so no test needs to patch ``sys``.
(The idea is httpie's ``Environment``.)

Output rules kept here, once:

* text for a terminal never carries a control character (an escape sequence
  from a web page's title could retitle or clear it);
* a reader that goes away (``citetool list | head -1``) ends the output
  quietly: later writes are dropped and the command finishes its work.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from citetool.record import strip_controls


def _isatty(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@dataclass
class Environment:
    """stdin, stdout, stderr (``None`` when closed), whether each is a terminal,
    and the environment variables."""

    stdin: TextIO | None = field(default_factory=lambda: sys.stdin)
    stdout: TextIO | None = field(default_factory=lambda: sys.stdout)
    stderr: TextIO | None = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stdin_isatty: bool | None = None  # None: ask the stream
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None
    stdout_gone: bool = False  # the reader closed the pipe

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = _isatty(self.stderr)

    # --- what the user asked for through the environment -------------------

    @property
    def colour(self) -> bool:
        """Colour and styling allowed (https://no-color.org)."""
        return "NO_COLOR" not in self.environ

    @property
    def width(self) -> int:
        """The terminal's width in columns: ``COLUMNS``, else the terminal's own, else 80."""
        raw = self.environ.get("COLUMNS", "")
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        try:
            return os.get_terminal_size(self.stdout.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return 80

    @property
    def editor(self) -> str:
        return self.environ.get("VISUAL") or self.environ.get("EDITOR") or "vi"

    # --- reading -------------------------------------------------------------

    def read_stdin(self) -> str:
        return self.stdin.read() if self.stdin is not None else ""

    # --- writing -------------------------------------------------------------

    def out(self, text: str, end: str = "\n") -> None:
        """Data on stdout (control characters removed on a terminal)."""
        if self.stdout_gone or self.stdout is None:
            return
        if self.stdout_isatty:
            text = strip_controls(text, keep="\t\n")
        try:
            self.stdout.write(text + end)
        except OSError as exc:
            if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EPIPE:
                raise
            self._reader_gone()

    def flush(self) -> None:
        if self.stdout_gone or self.stdout is None:
            return
        try:
            self.stdout.flush()
        except OSError as exc:
            if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EPIPE:
                raise
            self._reader_gone()

    def err(self, text: str) -> None:
        """A message on stderr (never a control character: it may be a terminal)."""
        if self.stderr is None:
            return
        try:
            self.stderr.write(strip_controls(text, keep="\t\n") + "\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass  # nowhere left to say it

    def _reader_gone(self) -> None:
        """The pipe's reader went away: drop the rest quietly. The stream's
        descriptor now points at /dev/null, so Python's final flush of the
        buffered bytes cannot fail with a second BrokenPipeError."""
        self.stdout_gone = True
        try:
            fileno = self.stdout.fileno()
        except (AttributeError, OSError, ValueError):
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fileno)
        finally:
            os.close(devnull)
