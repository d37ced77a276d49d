"""The public surface: ``__all__`` lists exactly the public names, each reads as ``ona_pats.X``."""

from __future__ import annotations

import inspect
import types

import ona_pats


def test_all_equals_the_public_names() -> None:
    public = {
        name
        for name, value in vars(ona_pats).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(ona_pats.__all__) - {"__version__"} == public
    assert len(ona_pats.__all__) == len(set(ona_pats.__all__))


def test_exported_classes_read_as_ona_pats() -> None:
    for name in ona_pats.__all__:
        value = getattr(ona_pats, name)
        if isinstance(value, type) or inspect.isfunction(value):
            assert getattr(value, "__module__", "ona_pats") == "ona_pats", name


def test_every_public_name_has_a_docstring() -> None:
    for name in ona_pats.__all__:
        value = getattr(ona_pats, name)
        if isinstance(value, type) or inspect.isfunction(value):
            assert (value.__doc__ or "").strip(), name
