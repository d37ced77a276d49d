"""The transport layer: every fact about URLs, redirects, bodies and connections.

Everything here is decided without I/O; the transports that act on it (``AsyncTransport`` in
``_async/_transport.py``, ``SyncTransport`` generated from it) only send and read. Each fact is
decided with the rules of the component that acts on it:

- A URL's origin is read with the default transport's own parser (pyqwest, the WHATWG rules
  of the Rust ``url`` crate) and the URL is then sent exactly as that parser serialized it, so
  the origin checked is the origin connected to. With a caller's httpx client, httpx's reading
  of that serialization must agree too. URLs with characters on which parsers are known to
  disagree (backslashes, whitespace, control and non-ASCII characters) are refused outright.
- Redirects (307/308 only) are followed within the origin of the request, with the same
  method, headers and body; anything else is refused (:class:`RedirectRefused`).
- A response body is bounded once: a declared ``Content-Length`` over the limit fails before
  anything is read, and a body without one (chunked or decompressed) is read chunk by chunk up
  to the limit (:class:`ResponseTooLarge`), so a gzip bomb inflates no further than the limit.
- "The connection was never established" (nothing was sent) is a type,
  :class:`NotConnected`, raised where the transport knows it.

These exceptions subclass connectrpc's ``ConnectError`` so that connectrpc passes them
through unchanged; ``_exceptions.map_connect_errors`` maps them to the public tree by type.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

import pyqwest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import Headers

if TYPE_CHECKING:
    from ._async._transport import AsyncTransport

DEFAULT_MAX_REDIRECTS = 5
#: Idle connections kept per host by the default transport, so concurrent calls reuse them.
DEFAULT_MAX_IDLE_CONNECTIONS = 64
#: Connections open at once per server address: as many as are kept idle. Without a cap, a
#: thread pool sharing a client opens a new connection (and over HTTPS a new TLS handshake)
#: whenever none is idle at that instant, then closes those the idle pool cannot keep; with
#: it, a call beyond this many concurrent ones waits for a free connection instead.
DEFAULT_MAX_CONNECTIONS = DEFAULT_MAX_IDLE_CONNECTIONS
#: Seconds an idle connection stays pooled: below common server keep-alive timeouts (uvicorn
#: closes after 5 s), so a request is not sent on a connection the server is closing; a
#: Create or Delete failing that way could not be retried. httpx's default is 5 s.
DEFAULT_POOL_IDLE_TIMEOUT = 4.0

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({307, 308})
# Characters on which URL parsers disagree: WHATWG reads "\" as "/" and drops tabs and
# newlines, urllib and httpx do not; control, space and non-ASCII characters are mapped
# differently again. A URL holding any of them is refused rather than interpreted.
_AMBIGUOUS = re.compile(r"[\x00-\x20\x7f-\U0010ffff\\]")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_KNOWN_CODES = frozenset(code.value for code in Code)
#: The trailers of a buffered response: Connect unary responses carry theirs as headers.
NO_TRAILERS = pyqwest.Headers()


# --- the transport's own exceptions ---------------------------------------------------------


class TransportError(ConnectError):
    """A fact the transport established about a call, raised to the client's error seam.

    Attributes:
        http_status: the status of the response it concerns (``None``: no response).
        headers: that response's headers.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        headers: pyqwest.Headers | None = None,
    ) -> None:
        super().__init__(Code.UNAVAILABLE, message)
        self.http_status = http_status
        self.headers: Mapping[str, str] = Headers([] if headers is None else list(headers.items()))


class NotConnected(TransportError):
    """No connection could be established: the request was certainly not sent."""


class ResponseTooLarge(TransportError):
    """The response body is over the read limit (declared, or as read after decompression)."""


class RedirectRefused(TransportError):
    """A redirect that is not followed: another origin, an unusable ``Location``, or a loop."""


class UnknownErrorCode(TransportError):
    """A Connect error body whose ``code`` this version does not know (the spec: ``unknown``)."""


# --- URLs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """The (scheme, host, port) a URL connects to, the port filled in from the scheme."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def canonical_url(url: str) -> str:
    """``url`` as the transport reads it, serialized by the transport's own parser.

    Raises:
        ValueError: the URL holds a character URL parsers disagree on, or does not parse.
    """
    if _AMBIGUOUS.search(url):
        raise ValueError(
            "it contains a backslash, whitespace, a control or a non-ASCII character, which "
            "URL parsers read differently"
        )
    try:
        return pyqwest.SyncRequest("GET", url).url
    except ValueError as exc:
        raise ValueError(f"it is not a valid absolute URL ({exc})") from None


def origin_of(canonical: str) -> Origin:
    """The origin of a URL in its canonical form (what :func:`canonical_url` returns).

    Raises:
        ValueError: not http(s), no host, or user info (``user@host``) in the URL.
    """
    parts = urlsplit(canonical)
    scheme = parts.scheme
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("it is not an http(s) URL with a host")
    if "@" in parts.netloc:
        raise ValueError("it contains user info (user@host)")
    return Origin(scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme])


def resolve_location(request_url: str, location: str) -> str:
    """The canonical URL a redirect's ``Location`` points to, relative to ``request_url``.

    Raises:
        ValueError: the location is ambiguous or does not make a valid URL.
    """
    if _AMBIGUOUS.search(location):
        canonical_url(location)  # raises with the reason
    target = location if _ABSOLUTE.match(location) else urljoin(request_url, location)
    return canonical_url(target)


class ResponseInfo:
    """The HTTP status and headers of the response a call received, recorded by the transport.

    :class:`map_connect_errors <ona_pats._exceptions.map_connect_errors>` makes one current for
    an attempt; the transport records into it without copying, and :attr:`headers` is built on
    first use only (for an error, a page, a raw response). connectrpc's own
    ``ResponseMetadata`` copied every response's headers into new objects on every call.
    """

    __slots__ = ("_headers", "_raw", "body_read", "http_status")

    def __init__(self) -> None:
        self.http_status: int | None = None
        self.body_read = False
        """Whether the transport read the body itself (a 200 it hands on unread is read by
        pyqwest afterwards, so a failure then is a failed read, not a bad response)."""
        self._raw: pyqwest.Headers | None = None
        self._headers: Headers | None = None

    @property
    def headers(self) -> Headers:
        """The response headers (Connect unary trailers, ``trailer-*``, left out)."""
        if self._headers is None:
            headers = Headers()
            for key, value in (self._raw or {}).items():
                if not key.startswith("trailer-"):
                    headers.add(key, value)
            self._headers = headers
        return self._headers

    def record(self, status: int, headers: pyqwest.Headers) -> None:
        """Note a response (the last one wins: a followed redirect is replaced)."""
        self.http_status, self._raw, self._headers = status, headers, None
        self.body_read = False


#: What pyqwest raises when a response body stops arriving.
BODY_READ_ERRORS = (pyqwest.ReadError, pyqwest.RemoteProtocolError, TimeoutError)


#: The :class:`ResponseInfo` of the attempt in progress, if any.
CURRENT_RESPONSE: ContextVar[ResponseInfo | None] = ContextVar(
    "ona_pats_current_response", default=None
)


def record(status: int, headers: pyqwest.Headers) -> ResponseInfo | None:
    info = CURRENT_RESPONSE.get()
    if info is not None:
        info.record(status, headers)
    return info


class URLReader(Protocol):
    """How a transport flavour reads a canonical URL's origin (a check that it agrees)."""

    def origin(self, url: str) -> Origin:
        """The origin this flavour connects to for ``url``."""
        ...


# --- bodies ----------------------------------------------------------------------------------


def declared_length(headers: pyqwest.Headers) -> int | None:
    """The body length a response declares; reqwest drops it when it decompresses a body."""
    value = headers.get("content-length")
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


def _too_large(limit: int, status: int, headers: pyqwest.Headers) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"the response body exceeds the read limit of {limit} bytes",
        http_status=status,
        headers=headers,
    )


class Budget:
    """Collects the chunks of one body, counting them against the limit."""

    __slots__ = ("chunks", "headers", "left", "limit", "status")

    def __init__(self, limit: int | None, status: int, headers: pyqwest.Headers) -> None:
        self.limit = limit
        self.left = limit
        self.status = status
        self.headers = headers
        self.chunks: list[bytes | bytearray | memoryview] = []

    def take(self, chunk: bytes | bytearray | memoryview) -> None:
        """Add a chunk.

        Raises:
            ResponseTooLarge: the body is now over the limit.
        """
        if self.left is not None:
            self.left -= len(chunk)
            if self.left < 0:
                raise _too_large(self.limit or 0, self.status, self.headers)
        self.chunks.append(chunk)

    def body(self) -> bytes:
        """The body read, checked as an error body when the status is not 200.

        Raises:
            UnknownErrorCode: an error body with a code this version does not know.
        """
        body = b"".join(self.chunks)
        _error_body_check(self.status, self.headers, body)
        return body


def _error_body_check(status: int, headers: pyqwest.Headers, body: bytes) -> None:
    """Refuse a Connect error body whose code this version does not know, as ``unknown``."""
    if status == 200 or not body.startswith(b"{"):
        return
    try:
        data = json.loads(body)
    except ValueError:
        return
    code = data.get("code") if isinstance(data, dict) else None
    if isinstance(code, str) and code not in _KNOWN_CODES:
        message = data.get("message")
        raise UnknownErrorCode(
            f"{message if isinstance(message, str) else ''} (unknown Connect code {code!r})",
            http_status=status,
            headers=headers,
        )


#: How long a request waits for the first one to a cold pool (see :class:`ColdStart`).
COLD_START_WAIT_S = 5.0


class _Event(Protocol):
    def set(self) -> None: ...


_E = TypeVar("_E", bound=_Event)


class ColdStart(Generic[_E]):
    """Lets the first request to a cold pool go alone; the others start once it has its answer.

    Over TLS the HTTP version is known only once a connection's handshake is done (ALPN). Until
    then hyper's pool opens a connection for every request it cannot serve from the pool: a
    burst of 50 calls to a fresh client made 50 TLS handshakes although the server spoke HTTP/2,
    where all 50 share one connection. Holding the burst behind its first request (at most
    :data:`COLD_START_WAIT_S`) lets the others find that connection in the pool; over
    HTTP/1.1 they then open their own, one round trip later. The pool is cold before the first
    answer and after :data:`DEFAULT_POOL_IDLE_TIMEOUT` without one (its idle connections are
    closed by then). A sequential caller never waits.
    """

    __slots__ = ("_event", "_last", "_lock", "_new")

    def __init__(self, new_event: type[_E]) -> None:
        self._new = new_event
        self._event: _E | None = None
        self._last = -float("inf")
        self._lock = threading.Lock()

    def enter(self) -> tuple[_E | None, _E | None]:
        """``(event, None)`` for a request that should wait for ``event``; ``(None, event)`` for
        the request that goes first (it must :meth:`leave` with ``event``); ``(None, None)``
        for one that goes at once."""
        if time.monotonic() - self._last <= DEFAULT_POOL_IDLE_TIMEOUT:
            return None, None
        with self._lock:
            if self._event is None:
                self._event = self._new()
                return None, self._event
            return self._event, None

    def leave(self, event: _E | None) -> None:
        """The first request is answered (or failed): let the others go (``None``: not first)."""
        if event is not None:
            with self._lock:
                self._event = None
            event.set()

    def answered(self) -> None:
        """A response arrived: the pool holds a connection."""
        self._last = time.monotonic()


# --- what both transports decide (sans-I/O) --------------------------------------------------


class Policy:
    """What both flavours of the transport decide: redirect targets, body limits."""

    __slots__ = ("limit", "max_redirects", "reader")

    def __init__(self, limit: int | None, reader: URLReader | None, max_redirects: int) -> None:
        self.limit = limit
        self.reader = reader
        self.max_redirects = max_redirects

    def redirect_target(self, url: str, status: int, headers: pyqwest.Headers, hops: int) -> str:
        """The URL to resend to after a 307/308, checked to be the request's own origin.

        Raises:
            RedirectRefused: no usable ``Location``, another origin, or too many redirects.
        """
        location = headers.get("location")

        def refuse(why: str) -> RedirectRefused:
            return RedirectRefused(
                f"HTTP {status} redirect to {location!r} not followed: {why} (the API token "
                "is only sent to the configured origin)",
                http_status=status,
                headers=headers,
            )

        if location is None:
            raise refuse("no Location header")
        if hops >= self.max_redirects:
            raise refuse(f"more than {self.max_redirects} redirects")
        try:
            target = resolve_location(url, location)
            same = origin_of(target) == origin_of(url)
            if same and self.reader is not None:
                same = self.reader.origin(target) == self.reader.origin(url)
        except ValueError as exc:
            raise refuse(str(exc)) from None
        if not same:
            raise refuse("another origin")
        return target

    def declared(self, headers: pyqwest.Headers, status: int) -> int | None:
        """The body length the response declares, if any, checked against the limit.

        Raises:
            ResponseTooLarge: the declared length is over the limit; nothing was read.
        """
        length = declared_length(headers)
        if length is not None and self.limit is not None and length > self.limit:
            raise _too_large(self.limit, status, headers)
        return length


#: The event the requests behind a cold start wait on, by flavour (see :class:`ColdStart`).
AsyncEvent = asyncio.Event
SyncEvent = threading.Event


async def await_turn(event: asyncio.Event) -> None:
    """Wait (at most :data:`COLD_START_WAIT_S`) for the request that went first."""
    with contextlib.suppress(TimeoutError, RuntimeError):  # RuntimeError: another loop
        await asyncio.wait_for(event.wait(), COLD_START_WAIT_S)


def wait_turn(event: threading.Event) -> None:
    """The blocking :func:`await_turn`."""
    event.wait(COLD_START_WAIT_S)


#: How long the interpreter lets native threads finish at exit (see :func:`_settle_at_exit`).
_EXIT_SETTLE_SECONDS = 0.02


def _settle_at_exit() -> None:
    """Give pyqwest's runtime threads a moment with the GIL before the interpreter finalizes.

    pyqwest completes an awaited future from a tokio thread (pyo3-async-runtimes): it wakes the
    event loop, and only then takes the GIL again to return. A program that exits right after
    its last await can begin finalizing in between; on Python before 3.14 a thread that takes
    the GIL during finalization is ended with ``pthread_exit``, which aborts the process when
    it unwinds through Rust frames (SIGABRT at exit, seen in about one run in ten under load).
    Sleeping here releases the GIL to such a thread before finalization starts.
    """
    time.sleep(_EXIT_SETTLE_SECONDS)


#: The HTTP client of the sync stub: pyqwest's own, which calls the transport directly.
SyncHTTPClient = pyqwest.SyncClient


class AsyncHTTPClient(pyqwest.Client):
    """The HTTP client of the async stub: connectrpc's unary calls go straight to an
    ``AsyncTransport`` (``_async/_transport.py``).

    ``pyqwest.Client`` hands each request to a Python transport through its native client,
    which turns the transport's coroutine into a native future and back on every call: that
    doubled the CPU of an async Get. connectrpc's unary path only calls :meth:`get` and
    :meth:`post`, which here await the transport directly.

    Args:
        transport: the transport every request goes through.
    """

    _settling = False

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport)
        self._transport = transport
        if not AsyncHTTPClient._settling and sys.version_info < (3, 14):
            AsyncHTTPClient._settling = True
            atexit.register(_settle_at_exit)

    async def get(
        self,
        url: str,
        headers: pyqwest.Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        params: Any = None,
    ) -> pyqwest.FullResponse:
        """Send a GET (a Connect GET carries its message in ``url``)."""
        if params is not None:
            return await super().get(url, headers, params=params)
        return await self._transport.fetch("GET", url, _headers(headers), None)

    async def post(
        self,
        url: str,
        headers: pyqwest.Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        content: Any = None,
        *,
        params: Any = None,
    ) -> pyqwest.FullResponse:
        """Send a POST with a ``bytes`` body (what connectrpc's unary calls send)."""
        if params is not None or not isinstance(content, bytes):
            return await super().post(url, headers, content, params=params)
        return await self._transport.fetch("POST", url, _headers(headers), content)


def _headers(
    headers: pyqwest.Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None,
) -> pyqwest.Headers | None:
    if headers is None or isinstance(headers, pyqwest.Headers):
        return headers
    items = headers.items() if isinstance(headers, Mapping) else headers
    return pyqwest.Headers(list(items))


# --- the default transports ------------------------------------------------------------------


def _otel_configured() -> bool:
    # pyqwest instruments every request when OpenTelemetry is enabled, which costs CPU even
    # with no SDK installed; turn it on only when an application configured a provider.
    try:
        from opentelemetry import metrics, trace
    except ImportError:  # pragma: no cover - pyqwest depends on opentelemetry-api
        return False
    tracer = trace.get_tracer_provider()
    meter = metrics.get_meter_provider()
    no_tracer = isinstance(tracer, trace.ProxyTracerProvider | trace.NoOpTracerProvider)
    no_meter = isinstance(meter, metrics.NoOpMeterProvider) or type(meter).__name__.startswith(
        "_Proxy"
    )
    return not (no_tracer and no_meter)


def transport_options(base_url: str) -> dict[str, Any]:
    """The options of the default pyqwest transport for ``base_url``.

    Raises:
        OSError: ``SSL_CERT_FILE`` is set and cannot be read.
    """
    # Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, which reqwest reads itself.
    # Redirects are followed by SyncTransport/AsyncTransport, within one origin.
    options: dict[str, Any] = {
        "follow_redirects": False,
        "pool_max_idle_per_host": DEFAULT_MAX_IDLE_CONNECTIONS,
        "max_connections_per_address": DEFAULT_MAX_CONNECTIONS,
        "pool_idle_timeout": DEFAULT_POOL_IDLE_TIMEOUT,
        "enable_otel": _otel_configured(),
    }
    if base_url.startswith("http://"):
        return options  # no TLS: loading the system CA store would be wasted work
    # As with OpenSSL, SSL_CERT_FILE replaces the system CA store.
    cert_file = os.environ.get("SSL_CERT_FILE")
    if not cert_file:
        options["tls_include_system_certs"] = True
    else:
        options["tls_ca_cert"] = Path(cert_file).read_bytes()
    return options
