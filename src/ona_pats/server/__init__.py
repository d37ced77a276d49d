"""The embedded ``gitpod.v1.UserService``: a local, SQLite-backed stand-in for Ona's API.

Run it with ``ona-pats serve``, or in tests as a context manager:

```python
from ona_pats.server import Server

with Server() as srv:                      # fresh database, free loopback port
    alice = srv.create_user_token()        # .token is the secret, .pat the metadata
    print(srv.base_url, srv.admin_token is not None)
```
"""

from ona_pats._requests import MAX_PAGE_SIZE

from ._app import create_app
from ._faults import FaultInjector
from ._files import UnsafeFileError, write_token_file
from ._seed import seed_tokens
from ._server import DEFAULT_HOST, DEFAULT_PORT, Server, run
from ._store import Caller, IssuedToken, Store
from ._validation import DEFAULT_PAGE_SIZE, DEFAULT_VALID_FOR_S

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PORT",
    "DEFAULT_VALID_FOR_S",
    "MAX_PAGE_SIZE",
    "Caller",
    "FaultInjector",
    "IssuedToken",
    "Server",
    "Store",
    "UnsafeFileError",
    "create_app",
    "run",
    "seed_tokens",
    "write_token_file",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        _obj.__module__ = __name__
del _name, _obj
