"""The ona-pats pytest plugin (the ``pytest11`` entry point ``ona_pats``).

It adds fixtures only when the ``server`` extra is installed (``pip install ona-pats[server]``):
``ona_pats_server``, ``ona_pats_user``, ``ona_pats_client``, ``ona_pats_async_client`` and
``ona_pats_faults``; see :mod:`ona_pats.server._pytest_fixtures`. Without it, it adds nothing, so
installing ona-pats alone never changes a test run.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("uvicorn") is not None:
    pytest_plugins = ("ona_pats.server._pytest_fixtures",)
