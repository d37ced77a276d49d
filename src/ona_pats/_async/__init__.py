"""The client's I/O-shaped code, written once: the source of both halves.

Edit the modules here; ``scripts/make_sync.py`` generates ``_sync/`` (``Client``, ``Pats``,
``Pager``, ``Gitpod``, ...) from them, and ``scripts/test`` fails when it is stale.
"""
