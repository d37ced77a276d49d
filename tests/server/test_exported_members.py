"""The public surface of ``ona_pats.server``: ``__all__`` is exactly the public names."""

from __future__ import annotations

import inspect
import types

import ona_pats.server


def test_all_equals_the_public_names() -> None:
    public = {
        name
        for name, value in vars(ona_pats.server).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(ona_pats.server.__all__) == public


def test_exported_names_read_as_ona_pats_server_and_have_docstrings() -> None:
    for name in ona_pats.server.__all__:
        value = getattr(ona_pats.server, name)
        if isinstance(value, type) or inspect.isfunction(value):
            assert value.__module__ == "ona_pats.server", name
            assert inspect.getdoc(value), name
