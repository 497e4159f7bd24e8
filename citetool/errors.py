"""Every error citetool reports on purpose, and the exit code each one maps to.

This is the one place where exit codes are defined (the README's table is
written from it). Commands raise these; ``cli.py`` turns them into a one-line
message on stderr and the exit code, with no traceback unless ``--debug``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # unexpected failure (a bug): please report it
    MERGE_CONFLICT = 1  # merge-driver: conflicts left in the store (git's convention: non-zero); an alias of ERROR
    USAGE = 2  # bad command line: unknown option, bad value, unknown format
    IDENTIFIERS_FAILED = 3  # at least one identifier could not be added (others may have been)
    STORE = 4  # the store cannot be read, written or locked
    NOT_IN_STORE = 5  # a citation key named on the command line is not in the store
    INTERRUPTED = 130  # Ctrl-C


class CitetoolError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(CitetoolError):
    exit_code = ExitCode.USAGE


class IdentifierError(CitetoolError):
    """The input is not a recognisable identifier (DOI, RePEc handle, URL)."""

    exit_code = ExitCode.IDENTIFIERS_FAILED


class LookupFailed(CitetoolError):
    """A metadata source could not give a record for an identifier."""

    exit_code = ExitCode.IDENTIFIERS_FAILED


class NotFound(LookupFailed):
    """The source answered: it does not know this identifier."""


class SourceUnavailable(LookupFailed):
    """Network trouble: timeout, connection error, 5xx, 429, or an unreadable answer."""


class StoreError(CitetoolError):
    exit_code = ExitCode.STORE


class StoreLocked(StoreError):
    pass


class StoreReadOnly(StoreError):
    """The store file is read-only: citetool leaves it as it is."""


class KeyNotInStore(CitetoolError):
    exit_code = ExitCode.NOT_IN_STORE
