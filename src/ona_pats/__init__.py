"""ona-pats: the schema-first Python client for Ona's personal access token API."""

from ._version import __version__

__all__ = ["__version__"]
