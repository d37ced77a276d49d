"""The ``ona-pats`` command line: one subpackage for the commands (``_main``), their output
(``_format``), their errors and exit statuses (``_errors``), the token lifecycle reports and
rules (``_lifecycle``) and the demo (``_demo``)."""

from ._errors import CLIError, ExitCode
from ._main import build_parser, main

__all__ = ["CLIError", "ExitCode", "build_parser", "main"]
