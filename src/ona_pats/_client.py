"""``Client`` and ``AsyncClient``: options, lifecycle, ``.users``, and the call loop.

Both clients share every decision (:class:`_Call`: deadline, retries, redirects) and differ
only by ``await`` and which sleep they call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import pyqwest
from connectrpc.client import ResponseMetadata
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.interceptor import Interceptor, InterceptorSync
from connectrpc.method import IdempotencyLevel

from . import _transport
from ._auth import BearerToken, check_base_url, redirect_base
from ._config import (
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_MAX_BYTES,
    DEFAULT_TIMEOUT,
    resolve_base_url,
    resolve_token,
)
from ._exceptions import APIError, ConfigurationError, InvalidResponseError, map_connect_errors
from ._resources import AsyncUsers, Users
from ._retries import Deadline, RetryPolicy, retry_delay
from ._types import AsyncSleep, SyncSleep, WireProtocol
from ._version import __version__

if TYPE_CHECKING:
    import httpx

    from ._schema import user_connect

_REDIRECT_STATUSES = frozenset({307, 308})
_NO_SIDE_EFFECTS = IdempotencyLevel.NO_SIDE_EFFECTS


class _Call:
    """The decisions of one call across its attempts: deadline, retries, redirects (sans-I/O)."""

    __slots__ = ("attempt", "base_url", "deadline", "op", "policy", "redirects")

    def __init__(
        self, op: _transport.Operation, timeout: float | None, policy: RetryPolicy, base_url: str
    ) -> None:
        self.op = op
        self.deadline = Deadline(timeout)
        self.policy = policy
        self.base_url = base_url
        self.attempt = 0
        self.redirects = 0

    def redirect(self, exc: APIError) -> str | None:
        """The base URL to resend to after a same-origin 307/308, else ``None``.

        Raises:
            InvalidResponseError: a redirect to another origin or too many redirects.
        """
        if exc.http_status not in _REDIRECT_STATUSES or "location" not in exc.headers:
            return None
        location = exc.headers["location"]
        base = redirect_base(self.base_url, self.op.path, location)
        if base is None:
            raise InvalidResponseError(
                f"HTTP {exc.http_status} redirect to {location!r} not followed: another origin "
                "(the API token is only sent to the configured origin)",
                code=exc.code,
                http_status=exc.http_status,
                headers=exc.headers,
            ) from exc
        self.redirects += 1
        if self.redirects > DEFAULT_MAX_REDIRECTS:
            raise InvalidResponseError(
                "too many redirects", code=exc.code, http_status=exc.http_status
            ) from exc
        self.base_url = base
        return base

    def delay(self, exc: APIError) -> float:
        """Seconds to sleep before the next attempt.

        Raises:
            APIError: ``exc`` itself, when the call is not to be retried or the sleep would
                outlast the deadline.
        """
        delay = retry_delay(self.op.level, exc, self.attempt, self.policy)
        if delay is None or not self.deadline.allows(delay):
            raise exc
        self.attempt += 1
        return delay


class _BaseClient:
    """What both clients share: configuration, headers, and the call decisions."""

    def __init__(
        self,
        *,
        token: str | None,
        base_url: str | None,
        protocol: WireProtocol,
        timeout: float | None,
        max_retries: int,
        use_get: bool,
        default_headers: Mapping[str, str] | None,
        allow_insecure_http: bool,
        read_max_bytes: int | None,
    ) -> None:
        self._token = BearerToken(resolve_token(token))
        self._base_url = resolve_base_url(base_url)
        check_base_url(self._base_url, allow_insecure_http=allow_insecure_http)
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        if timeout is not None and not timeout >= 0:
            raise ConfigurationError(f"timeout must be >= 0 seconds or None, got {timeout}")
        self._protocol: WireProtocol = protocol
        self._codec = _transport.codec_for(protocol)
        self._timeout = timeout
        self._policy = RetryPolicy(max_retries=max_retries)
        self._use_get = use_get
        self._read_max_bytes = read_max_bytes
        # Built once; connectrpc copies them into each request.
        self._headers: dict[str, str] = {"user-agent": f"ona-pats/{__version__}"}
        self._headers.update({k.lower(): v for k, v in (default_headers or {}).items()})
        self._headers["authorization"] = self._token.header()

    @property
    def base_url(self) -> str:
        """The base URL calls are sent to, without a trailing slash."""
        return self._base_url

    @property
    def protocol(self) -> WireProtocol:
        """The wire encoding, ``"proto"`` or ``"json"``."""
        return self._protocol

    @property
    def timeout(self) -> float | None:
        """The default time budget of one call, in seconds (``None``: no limit)."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """The default number of retries of a retryable call."""
        return self._policy.max_retries

    def __repr__(self) -> str:
        # getattr: a repr may be asked for while __init__ is failing (tracebacks' locals).
        base_url = getattr(self, "_base_url", None)
        protocol = getattr(self, "_protocol", None)
        return f"{type(self).__name__}(base_url={base_url!r}, protocol={protocol!r})"

    def _start(
        self, op: _transport.Operation, timeout: float | None, max_retries: int | None
    ) -> _Call:
        policy = self._policy
        if max_retries is not None and max_retries != policy.max_retries:
            policy = RetryPolicy(max_retries=max_retries)
        return _Call(op, self._timeout if timeout is None else timeout, policy, self._base_url)

    def _use_get_for(self, op: _transport.Operation) -> bool:
        return self._use_get and op.level is _NO_SIDE_EFFECTS


class Client(_BaseClient):
    """The synchronous client of Ona's personal access token API.

    ```python
    with Client() as client:  # token from ONA_API_KEY or GITPOD_API_KEY
        for pat in client.users.pats.list(page_size=50):
            print(pat.id, pat.description)
    ```

    Args:
        token: the API token; default ``ONA_API_KEY``, then ``GITPOD_API_KEY``.
        base_url: default ``ONA_BASE_URL``, then ``GITPOD_BASE_URL``, then
            ``https://app.ona.com/api``.
        protocol: ``"proto"`` (binary protobuf, the default) or ``"json"``.
        timeout: seconds one call may take in all, retries and sleeps included
            (``None``: no limit); sent as ``Connect-Timeout-Ms``.
        max_retries: retries of List and Get on unavailable, rate limiting and connection
            failures. Create and Delete are retried only when their connection could not be
            established (they never reached the server).
        use_get: send List and Get as Connect GET requests (cacheable by proxies).
        http_client: an ``httpx.Client`` to send through instead of the default pyqwest
            transport; you close it.
        interceptors: connectrpc sync interceptors.
        default_headers: headers added to every request.
        allow_insecure_http: allow sending the token over plain ``http://`` to a host that
            is not loopback.
        read_max_bytes: the largest response body accepted (``None``: no limit).
        sleep: the sleep used between retries (``time.sleep``); tests inject their own.

    Raises:
        ConfigurationError: no token, an unusable base URL, or a bad option.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        protocol: WireProtocol = "proto",
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        use_get: bool = False,
        http_client: httpx.Client | None = None,
        interceptors: Iterable[InterceptorSync] = (),
        default_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        read_max_bytes: int | None = DEFAULT_READ_MAX_BYTES,
        sleep: SyncSleep | None = None,
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            protocol=protocol,
            timeout=timeout,
            max_retries=max_retries,
            use_get=use_get,
            default_headers=default_headers,
            allow_insecure_http=allow_insecure_http,
            read_max_bytes=read_max_bytes,
        )
        self._sleep: SyncSleep = time.sleep if sleep is None else sleep
        self._owned_transport: pyqwest.SyncHTTPTransport | None = None
        if http_client is None:
            self._owned_transport = _transport.default_sync_transport(self._base_url)
            transport: pyqwest.SyncTransport = self._owned_transport
            if read_max_bytes is not None:
                transport = _transport.LimitedSyncTransport(transport, read_max_bytes)
        else:
            from ._httpx import HTTPXSyncTransport

            transport = HTTPXSyncTransport(http_client, read_max_bytes)
        self._http = pyqwest.SyncClient(transport)
        self._interceptors = tuple(interceptors)
        self._stubs: dict[str, user_connect.UserServiceClientSync] = {}
        self._stub = self._stub_at(self._base_url)
        self.users = Users(self._call)
        """The ``users`` resource: ``client.users.pats``."""

    def _stub_at(self, base_url: str) -> user_connect.UserServiceClientSync:
        stub = self._stubs.get(base_url)
        if stub is None:
            stub = _transport.sync_stub(
                base_url,
                codec=self._codec,
                http_client=self._http,
                interceptors=self._interceptors,
                read_max_bytes=self._read_max_bytes,
            )
            self._stubs[base_url] = stub
        return stub

    def _call(
        self,
        op: _transport.Operation,
        request: Any,
        timeout: float | None,
        max_retries: int | None,
    ) -> tuple[Any, ResponseMetadata]:
        call = self._start(op, timeout, max_retries)
        stub, use_get, redact = self._stub, self._use_get_for(op), self._token.redact
        while True:
            mapped = map_connect_errors(redact)
            try:
                with mapped:
                    message = stub.execute_unary(
                        request=request,
                        method=op.info,
                        headers=self._headers,
                        timeout_ms=call.deadline.timeout_ms(),
                        use_get=use_get,
                    )
                return message, mapped.metadata
            except APIError as exc:
                base = call.redirect(exc)
                if base is not None:
                    stub = self._stub_at(base)
                    continue
                self._sleep(call.delay(exc))

    def close(self) -> None:
        """Close the client and the connections it opened (not a caller's ``httpx.Client``)."""
        for stub in self._stubs.values():
            stub.close()
        if self._owned_transport is not None:
            self._owned_transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """The asynchronous client, with the same API as :class:`Client`.

    ```python
    async with AsyncClient() as client:
        async for pat in client.users.pats.list(page_size=50):
            print(pat.id)
    ```

    Args:
        token: the API token; default ``ONA_API_KEY``, then ``GITPOD_API_KEY``.
        base_url: default ``ONA_BASE_URL``, then ``GITPOD_BASE_URL``, then
            ``https://app.ona.com/api``.
        protocol: ``"proto"`` (binary protobuf, the default) or ``"json"``.
        timeout: seconds one call may take in all, retries and sleeps included
            (``None``: no limit); sent as ``Connect-Timeout-Ms``.
        max_retries: retries of List and Get on unavailable, rate limiting and connection
            failures. Create and Delete are retried only when their connection could not be
            established (they never reached the server).
        use_get: send List and Get as Connect GET requests.
        http_client: an ``httpx.AsyncClient`` to send through; you close it.
        interceptors: connectrpc async interceptors.
        default_headers: headers added to every request.
        allow_insecure_http: allow sending the token over plain ``http://`` to a host that
            is not loopback.
        read_max_bytes: the largest response body accepted (``None``: no limit). The default
            transport checks it once the body is read; an ``httpx.AsyncClient`` stops reading
            at the limit.
        sleep: the sleep used between retries (``asyncio.sleep``); tests inject their own.

    Raises:
        ConfigurationError: no token, an unusable base URL, or a bad option.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        protocol: WireProtocol = "proto",
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        use_get: bool = False,
        http_client: httpx.AsyncClient | None = None,
        interceptors: Iterable[Interceptor] = (),
        default_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        read_max_bytes: int | None = DEFAULT_READ_MAX_BYTES,
        sleep: AsyncSleep | None = None,
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            protocol=protocol,
            timeout=timeout,
            max_retries=max_retries,
            use_get=use_get,
            default_headers=default_headers,
            allow_insecure_http=allow_insecure_http,
            read_max_bytes=read_max_bytes,
        )
        self._sleep: AsyncSleep = asyncio.sleep if sleep is None else sleep
        self._owned_transport: pyqwest.HTTPTransport | None = None
        if http_client is None:
            self._owned_transport = _transport.default_async_transport(self._base_url)
            # Streaming the body through Python to bound it doubles the CPU of an async call;
            # connectrpc checks read_max_bytes once the body is read instead.
            transport: pyqwest.Transport = self._owned_transport
        else:
            from ._httpx import HTTPXAsyncTransport

            transport = HTTPXAsyncTransport(http_client, read_max_bytes)
        self._http = pyqwest.Client(transport)
        self._interceptors = tuple(interceptors)
        self._stubs: dict[str, user_connect.UserServiceClient] = {}
        self._stub = self._stub_at(self._base_url)
        self.users = AsyncUsers(self._call)
        """The ``users`` resource: ``client.users.pats``."""

    def _stub_at(self, base_url: str) -> user_connect.UserServiceClient:
        stub = self._stubs.get(base_url)
        if stub is None:
            stub = _transport.async_stub(
                base_url,
                codec=self._codec,
                http_client=self._http,
                interceptors=self._interceptors,
                read_max_bytes=self._read_max_bytes,
            )
            self._stubs[base_url] = stub
        return stub

    async def _call(
        self,
        op: _transport.Operation,
        request: Any,
        timeout: float | None,
        max_retries: int | None,
    ) -> tuple[Any, ResponseMetadata]:
        call = self._start(op, timeout, max_retries)
        stub, use_get, redact = self._stub, self._use_get_for(op), self._token.redact
        while True:
            mapped = map_connect_errors(redact)
            try:
                with mapped:
                    message = await self._send(
                        stub, op, request, call.deadline.timeout_ms(), use_get=use_get
                    )
                return message, mapped.metadata
            except APIError as exc:
                base = call.redirect(exc)
                if base is not None:
                    stub = self._stub_at(base)
                    continue
                await self._sleep(call.delay(exc))

    async def _send(
        self,
        stub: user_connect.UserServiceClient,
        op: _transport.Operation,
        request: Any,
        timeout_ms: int | None,
        *,
        use_get: bool,
    ) -> Any:
        if timeout_ms is None or timeout_ms <= 0:  # connectrpc fails a spent budget itself
            return await stub.execute_unary(
                request=request,
                method=op.info,
                headers=self._headers,
                timeout_ms=timeout_ms,
                use_get=use_get,
            )
        # connectrpc's async client bounds a call with asyncio.wait_for (a Task and a timer
        # per call); asyncio.timeout bounds the same await at a fraction of the cost. The
        # header is what connectrpc sends for timeout_ms:
        # https://connectrpc.com/docs/protocol/#unary-request
        headers = {**self._headers, "connect-timeout-ms": str(timeout_ms)}
        scope = asyncio.timeout(timeout_ms / 1000)
        try:
            async with scope:
                return await stub.execute_unary(
                    request=request, method=op.info, headers=headers, use_get=use_get
                )
        except (ConnectError, TimeoutError) as exc:
            if scope.expired():  # connectrpc reports the cancellation as CANCELED
                raise ConnectError(Code.DEADLINE_EXCEEDED, "Request timed out") from exc
            raise

    async def aclose(self) -> None:
        """Close the client and the connections it opened (not a caller's ``httpx.AsyncClient``)."""
        for stub in self._stubs.values():
            await stub.close()
        if self._owned_transport is not None:
            await self._owned_transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
