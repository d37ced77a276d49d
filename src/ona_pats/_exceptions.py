"""The exception tree of ona_pats; every error the library raises is an ``OnaPatsError``.

```
OnaPatsError
  ConfigurationError     missing token, token over plain http to a remote host
  ValidationError        rejected before sending; .field
  JSONMappingError       bad JSON or RFC 3339; .path, .value (also a ValueError)
  PaginationError        the server repeated a next token
  RotationError          rotate() created the successor but could not delete the old token
  APIError               .code, .message, .details, .http_status, .headers, .request_id
    CanceledError, UnknownError, InvalidArgumentError, DeadlineExceededError,
    NotFoundError, AlreadyExistsError, PermissionDeniedError, ResourceExhaustedError,
    FailedPreconditionError, AbortedError, OutOfRangeError, UnimplementedError,
    InternalError, UnavailableError, DataLossError, UnauthenticatedError
    InvalidResponseError  not a Connect response (HTML 502, wrong content type, bad body,
                          too large, refused redirect); also an instance of its code's class
```

The ``APIError`` subclass is chosen by the Connect code, never by the HTTP status, in one
place: :func:`map_connect_errors`; the transport's own failures (``_transport``) are mapped
there by their type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from types import TracebackType
from typing import ClassVar, Self, cast

from connectrpc.code import Code
from connectrpc.errors import ConnectError, ErrorDetail
from connectrpc.request import Headers

from ._transport import (
    BODY_READ_ERRORS,
    CURRENT_RESPONSE,
    NotConnected,
    RedirectRefused,
    ResponseInfo,
    ResponseTooLarge,
    TransportError,
    UnknownErrorCode,
)


class OnaPatsError(Exception):
    """Base class of every error raised by ona_pats."""


class ConfigurationError(OnaPatsError):
    """The client was configured in a way that cannot work or is unsafe."""


class ValidationError(OnaPatsError, ValueError):
    """An argument was rejected before any request was sent.

    Attributes:
        field: the request field at fault, in proto field-path form (``filter.user_ids[3]``).
        reason: what is wrong with it (``must be a valid UUID``), without the field.
        rule: the schema's buf.validate rule it breaks (``string.uuid``), or ``None`` when
            the argument could not become a request at all (a wrong type).
    """

    #: The Connect code the server would have answered with.
    code: ClassVar[Code] = Code.INVALID_ARGUMENT

    def __init__(self, field: str, message: str, *, rule: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
        self.rule = rule


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


class RotationError(OnaPatsError):
    """``rotate()`` created the new token but failed to delete the old one.

    The old token is still valid. The new secret is only on this exception: keep it, then
    delete the old token yourself.

    Attributes:
        new_token: the secret of the successor token (never shown in ``str()`` or ``repr()``).
        old_token_id: the id of the token that is still valid.
        cause: the error the delete failed with (also ``__cause__``).
    """

    def __init__(self, *, new_token: str, old_token_id: str, cause: OnaPatsError) -> None:
        super().__init__(
            f"created the successor of {old_token_id} but could not delete the old token "
            f"({type(cause).__name__}: {cause}); the new secret is on .new_token and the old "
            "token is still valid"
        )
        self.new_token = new_token
        self.old_token_id = old_token_id
        self.cause = cause

    def __repr__(self) -> str:
        return f"RotationError(old_token_id={self.old_token_id!r}, new_token=<redacted>)"


#: Response headers that carry a request id, most specific first.
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-trace-id")


class APIError(OnaPatsError):
    """The server, or the way to it, answered a call with an error.

    ```python
    try:
        client.users.pats.get(personal_access_token_id=pat_id)
    except ona_pats.NotFoundError:
        ...
    except ona_pats.APIError as exc:
        print(exc.code, exc.http_status, exc.request_id)
    ```

    Attributes:
        code: the Connect code (``connectrpc.code.Code``).
        message: the server's error message.
        details: the Connect error details (``connectrpc.errors.ErrorDetail``).
        http_status: the HTTP status, or ``None`` when no response arrived.
        headers: the response headers (empty when no response arrived).
        never_sent: ``True`` when no connection could be established, so the server never
            saw the request (any call, a Create too, is then safe to retry).
    """

    #: Whether the request certainly never reached the server.
    never_sent: bool = False

    #: The code this class stands for; ``APIError`` itself is used for none.
    default_code: ClassVar[Code] = Code.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: Code | None = None,
        details: Sequence[ErrorDetail] = (),
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code = self.default_code if code is None else code
        self.message = message
        self.details = tuple(details)
        self.http_status = http_status
        self.headers: Mapping[str, str] = Headers() if headers is None else headers
        status = "" if http_status is None else f", HTTP {http_status}"
        super().__init__(f"[{self.code.value}{status}] {message}")

    @property
    def request_id(self) -> str | None:
        """The request id the server sent back, if any (for support tickets)."""
        for name in _REQUEST_ID_HEADERS:
            value = self.headers.get(name)
            if value:
                return value
        return None


class CanceledError(APIError):
    """The call was canceled, usually by the caller."""

    default_code = Code.CANCELED


class UnknownError(APIError):
    """An error of unclear origin."""

    default_code = Code.UNKNOWN


class InvalidArgumentError(APIError):
    """The server rejected the request as invalid."""

    default_code = Code.INVALID_ARGUMENT


class DeadlineExceededError(APIError):
    """The call's timeout expired before it completed."""

    default_code = Code.DEADLINE_EXCEEDED


class NotFoundError(APIError):
    """The token (or user) does not exist."""

    default_code = Code.NOT_FOUND


class AlreadyExistsError(APIError):
    """The resource already exists."""

    default_code = Code.ALREADY_EXISTS


class PermissionDeniedError(APIError):
    """The caller may not do this."""

    default_code = Code.PERMISSION_DENIED


class ResourceExhaustedError(APIError):
    """Rate limited or out of quota; see ``retry_after`` headers."""

    default_code = Code.RESOURCE_EXHAUSTED


class FailedPreconditionError(APIError):
    """The system is not in a state that allows the operation."""

    default_code = Code.FAILED_PRECONDITION


class AbortedError(APIError):
    """The operation was aborted, often by a concurrency conflict."""

    default_code = Code.ABORTED


class OutOfRangeError(APIError):
    """The operation was attempted past the valid range."""

    default_code = Code.OUT_OF_RANGE


class UnimplementedError(APIError):
    """The server does not implement this method."""

    default_code = Code.UNIMPLEMENTED


class InternalError(APIError):
    """The server broke an invariant."""

    default_code = Code.INTERNAL


class UnavailableError(APIError):
    """The service is unavailable or could not be reached (connection failures too)."""

    default_code = Code.UNAVAILABLE


class DataLossError(APIError):
    """Unrecoverable data loss or corruption."""

    default_code = Code.DATA_LOSS


class UnauthenticatedError(APIError):
    """The token is missing, wrong, expired or revoked."""

    default_code = Code.UNAUTHENTICATED


class InvalidResponseError(APIError):
    """The response is not a Connect response: an HTML 502 from a proxy, a wrong content
    type, a body that does not decode, a body over the read limit, a refused redirect.

    ``code`` is the Connect code of the HTTP status for error statuses (a proxy's 502 or 503
    is ``unavailable`` and retried like one) and ``internal`` otherwise. Every instance is also
    an instance of its code's class: a proxy's HTML 503 is caught by ``except
    UnavailableError`` as well as by ``except InvalidResponseError``.
    """

    default_code = Code.INTERNAL

    def __new__(cls, message: str, *, code: Code | None = None, **kwargs: object) -> Self:
        del message, kwargs
        chosen = cls
        if cls is InvalidResponseError:
            by_code = _INVALID_BY_CODE.get(Code.INTERNAL if code is None else code, cls)
            chosen = cast("type[Self]", by_code)
        return super().__new__(chosen)


#: Each code's class: the direct subclasses of ``APIError`` but ``InvalidResponseError``.
_BY_CODE: dict[Code, type[APIError]] = {
    cls.default_code: cls for cls in APIError.__subclasses__() if cls is not InvalidResponseError
}


def _invalid(base: type[APIError]) -> type[InvalidResponseError]:
    name = f"InvalidResponse{base.__name__}"
    doc = f"An :class:`InvalidResponseError` whose code is ``{base.default_code.value}``."
    attrs = {"__doc__": doc, "__module__": __name__, "default_code": base.default_code}
    return type(name, (InvalidResponseError, base), attrs)


#: An InvalidResponseError class per code, also a subclass of that code's class.
_INVALID_BY_CODE: dict[Code, type[InvalidResponseError]] = {
    code: _invalid(cls) for code, cls in _BY_CODE.items()
}


def error_class(code: Code) -> type[APIError]:
    """Return the ``APIError`` subclass that stands for a Connect code."""
    return _BY_CODE.get(code, APIError)


def _unchanged(text: str) -> str:
    return text


#: The transport's own failures, by type: the public class and code each stands for.
_FROM_TRANSPORT: dict[type[TransportError], tuple[type[APIError], Code]] = {
    NotConnected: (UnavailableError, Code.UNAVAILABLE),
    ResponseTooLarge: (InvalidResponseError, Code.INTERNAL),
    RedirectRefused: (InvalidResponseError, Code.INTERNAL),
    UnknownErrorCode: (UnknownError, Code.UNKNOWN),
}


def _is_connect_error_body(headers: Mapping[str, str]) -> bool:
    content_type = headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() == "application/json"


def _from_transport(exc: TransportError, message: str) -> APIError:
    cls, code = _FROM_TRANSPORT[type(exc)]
    error = cls(message, code=code, http_status=exc.http_status, headers=exc.headers)
    error.never_sent = isinstance(exc, NotConnected)
    return error


def translate(
    exc: ConnectError,
    http_status: int | None,
    headers: Mapping[str, str],
    redact: Callable[[str], str] = _unchanged,
) -> APIError:
    """Turn a connectrpc error (or the transport's own) into the ``APIError`` of its code.

    Args:
        exc: what connectrpc or the transport raised.
        http_status: the status of the response, ``None`` when none arrived.
        headers: the response headers.
        redact: removes the token from a text (``BearerToken.redact``); the token itself is
            never held here, so no traceback's locals can show it.

    Returns:
        The typed error; an ``InvalidResponseError`` (also of its code's class) when the
        response was not Connect's.
    """
    # A hostile error body may carry any JSON as its message (null, a number, a list).
    raw = exc.message
    message = redact(raw if isinstance(raw, str) else ("" if raw is None else str(raw)))
    if isinstance(exc, TransportError):
        return _from_transport(exc, message)
    if http_status == HTTPStatus.OK:
        return InvalidResponseError(
            f"the 200 response could not be read: {message}",
            http_status=http_status,
            headers=headers,
        )
    if http_status is not None and not _is_connect_error_body(headers):
        content_type = headers.get("content-type", "no content type")
        return InvalidResponseError(
            f"HTTP {http_status} response is not a Connect response ({content_type})",
            code=exc.code,
            http_status=http_status,
            headers=headers,
        )
    return error_class(exc.code)(
        message, code=exc.code, details=exc.details, http_status=http_status, headers=headers
    )


class map_connect_errors:
    """The one place connectrpc errors become ``APIError``: a context manager.

    It also records the response's status and headers (``.metadata``), which the typed
    errors carry and ``with_raw_response`` returns.

    ```python
    with map_connect_errors() as mapped:
        response = stub.execute_unary(...)
    mapped.metadata.headers
    ```

    Raises:
        APIError: the subclass of the Connect code, ``from`` the connectrpc error.
    """

    __slots__ = ("_token", "metadata", "redact")

    def __init__(self, redact: Callable[[str], str] = _unchanged) -> None:
        self.metadata = ResponseInfo()
        self.redact = redact

    def __enter__(self) -> map_connect_errors:
        self._token = CURRENT_RESPONSE.set(self.metadata)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        meta = self.metadata
        CURRENT_RESPONSE.reset(self._token)
        if isinstance(exc, ConnectError):
            status, headers = meta.http_status, meta.headers
            if not meta.body_read and isinstance(exc.__cause__, BODY_READ_ERRORS):
                status, headers = None, Headers()  # its body never arrived: no response
            error = translate(exc, status, headers, self.redact)
            raw = exc.message
            if not isinstance(raw, str) or self.redact(raw) == raw:
                raise error from exc
            # A server echoed the token: chain a redacted copy, and keep the original out of
            # reach (raising here would make it the new error's __context__).
            scrubbed = ConnectError(exc.code, self.redact(raw), details=exc.details)
            try:
                raise error from scrubbed
            except APIError as raised:
                raised.__context__ = None
                raise
