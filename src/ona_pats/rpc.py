"""The raw generated connectrpc stubs for ``gitpod.v1.UserService``, for users who want them.

``UserServiceClient`` is the async client and ``UserServiceClientSync`` the sync one (the
generated names run the other way from httpx's); ``UserServiceASGIApplication`` and
``UserServiceWSGIApplication`` serve an implementation of ``UserService`` /
``UserServiceSync``. Most users want :class:`ona_pats.Client` instead.
"""

from __future__ import annotations

from ._gen.gitpod.v1.user_connect import (
    UserService,
    UserServiceASGIApplication,
    UserServiceClient,
    UserServiceClientSync,
    UserServiceSync,
    UserServiceWSGIApplication,
)

__all__ = [
    "UserService",
    "UserServiceASGIApplication",
    "UserServiceClient",
    "UserServiceClientSync",
    "UserServiceSync",
    "UserServiceWSGIApplication",
]
