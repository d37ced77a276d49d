"""The exception tree of ona_pats; every error the library raises is an ``OnaPatsError``.

```
OnaPatsError
  ConfigurationError     missing token, token over plain http to a remote host
  ValidationError        rejected before sending; .field
  JSONMappingError       bad JSON or RFC 3339; .path, .value (also a ValueError)
  PaginationError        the server repeated a next token
  APIError               .code, .message, .details, .http_status, .headers, .request_id
    (one subclass per Connect code, added by the client module)
```
"""

from __future__ import annotations


class OnaPatsError(Exception):
    """Base class of every error raised by ona_pats."""


class ConfigurationError(OnaPatsError):
    """The client was configured in a way that cannot work or is unsafe."""


class ValidationError(OnaPatsError, ValueError):
    """An argument was rejected before any request was sent.

    Attributes:
        field: the request field at fault, in proto field-path form (``filter.user_ids[3]``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class JSONMappingError(OnaPatsError, ValueError):
    """JSON text or a value in it does not follow the proto3 JSON mapping or RFC 3339.

    Attributes:
        path: where in the document the problem is, for example ``pat.createdAt``.
        value: the offending value, as found (``None`` when the problem is the document).
    """

    def __init__(self, path: str, message: str, value: object = None) -> None:
        where = path or "<document>"
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{where}: {message}{shown}")
        self.path = path
        self.value = value


class PaginationError(OnaPatsError):
    """A paginated listing cannot continue, for example the server repeated a next token."""
