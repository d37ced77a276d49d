"""Errors of the ``ona-pats`` command line: exit statuses and the one-line error report.

An error is one line on stderr, ``ona-pats: error: <code>: <message>``, with a traceback only
under ``--debug``; the token of the environment and anything shaped like a secret are replaced
by ``***``, and control characters are escaped.
"""

from __future__ import annotations

import enum
import os
import re
import sys
import traceback

from connectrpc.code import Code

from ona_pats._config import DEFAULT_BASE_URL, TOKEN_ENV_VARS
from ona_pats._exceptions import ConfigurationError, OnaPatsError, ValidationError

from . import _format as fmt

PROG = "ona-pats"


class ExitCode(enum.IntEnum):
    """The exit status of ``ona-pats``; each failure class has its own, for scripts."""

    OK = 0
    ERROR = 1  # any other API or runtime error, or a declined confirmation
    USAGE = 2  # bad arguments, invalid input, missing or unsafe configuration
    UNAUTHENTICATED = 3  # no token in the environment, or the server rejected it
    NOT_FOUND = 4  # the named token does not exist (or is not yours)
    PERMISSION_DENIED = 5  # the token may not do this, e.g. a read-only token mutating
    ROTATE_INCOMPLETE = 6  # rotate created the successor but the old token still exists
    ATTENTION = 7  # audit: some tokens need attention
    PRUNE_INCOMPLETE = 8  # prune: a token it set out to delete may still exist
    INTERRUPTED = 130  # Ctrl-C


EXIT_CODES_HELP = f"""\
exit status:
  0    success
  1    other API or runtime error (server unavailable, internal error, ...), or
       the delete confirmation was declined
  2    usage error: bad arguments, invalid input, unsafe configuration
  3    authentication error: no token in the environment, or the server
       rejected it (unknown, expired, revoked)
  4    not found: no such token (or not one you may see)
  5    permission denied: e.g. a read-only token asked to delete or create
  6    rotate incomplete: the new token exists, but deleting the old one failed
  7    audit: some tokens need attention (expired, never used, unused, expiring)
  8    prune incomplete: a token it set out to delete may still exist
  130  interrupted

environment:
  ONA_API_KEY, GITPOD_API_KEY    the API token (never accepted as an argument)
  ONA_BASE_URL, GITPOD_BASE_URL  the API base URL (default {DEFAULT_BASE_URL})
"""

# Connect codes with their own exit status; any other code is ExitCode.ERROR.
_CODE_EXITS = {
    Code.UNAUTHENTICATED: ExitCode.UNAUTHENTICATED,
    Code.NOT_FOUND: ExitCode.NOT_FOUND,
    Code.PERMISSION_DENIED: ExitCode.PERMISSION_DENIED,
    Code.INVALID_ARGUMENT: ExitCode.USAGE,
}

# The embedded server's secrets ("onapat_" + 59 characters); Ona's own are redacted by value.
_SECRET_SHAPE = re.compile(r"onapat_[A-Za-z0-9_-]{20,}")


class CLIError(Exception):
    """A failure the CLI reports as one line, with its exit status."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit status for an exception raised while running a command."""
    if isinstance(exc, CLIError):
        return exc.code
    if isinstance(exc, ValidationError | ConfigurationError):
        return ExitCode.USAGE
    code = getattr(exc, "code", None)
    if isinstance(exc, OnaPatsError) and isinstance(code, Code):
        return _CODE_EXITS.get(code, ExitCode.ERROR)
    return ExitCode.ERROR


def redact_secrets(text: str) -> str:
    """Replace the API token of the environment, and anything shaped like a secret, by ``***``."""
    for name in TOKEN_ENV_VARS:
        secret = os.environ.get(name, "").strip()
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return _SECRET_SHAPE.sub("***", text)


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, for stderr; never the token."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, CLIError | ValidationError | ConfigurationError):
        line = str(exc)
    elif isinstance(exc, OnaPatsError) and isinstance(code, Code):
        line = f"{code.value}: {message}"
        if code is Code.UNAUTHENTICATED:
            line += " (the token comes from ONA_API_KEY or GITPOD_API_KEY)"
        request_id = getattr(exc, "request_id", None)
        if isinstance(request_id, str) and request_id:
            line += f" [request id {request_id}]"
    else:
        line = f"{type(exc).__name__}: {message}"
    return fmt.printable(redact_secrets(" ".join(line.split())))


def report(exc: BaseException, *, debug: bool) -> ExitCode:
    """Write the error to stderr (after a redacted traceback under ``debug``); return its status."""
    if debug:
        sys.stderr.write(redact_secrets("".join(traceback.format_exception(exc))))
    print(f"{PROG}: error: {describe(exc)}", file=sys.stderr, flush=True)
    return exit_code_for(exc)
