"""``Client`` and ``AsyncClient``: options, lifecycle, ``.users``, and the call loop.

Both clients share every decision (:class:`_Call`: deadline, retries) and differ only by
``await`` and which sleep they call. Redirects, body limits and connection failures are the
transport's (``_transport``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import pyqwest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.interceptor import Interceptor, InterceptorSync
from connectrpc.method import IdempotencyLevel

from . import _stubs, _transport
from ._aliases import AsyncSleep, SyncSleep, WireProtocol
from ._auth import BearerToken, check_base_url
from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_MAX_BYTES,
    DEFAULT_TIMEOUT,
    resolve_base_url,
    resolve_token,
)
from ._exceptions import APIError, ConfigurationError, map_connect_errors
from ._resources import AsyncUsers, Users
from ._retries import Deadline, RetryPolicy, check_timeout, retry_delay
from ._version import __version__

if TYPE_CHECKING:
    import httpx

    from ._schema import user_connect

_NO_SIDE_EFFECTS = IdempotencyLevel.NO_SIDE_EFFECTS


class _Call:
    """The decisions of one call across its attempts: deadline and retries (sans-I/O)."""

    __slots__ = ("attempt", "deadline", "op", "policy")

    def __init__(
        self,
        op: _stubs.Operation,
        timeout: float | None,
        policy: RetryPolicy,
        not_after: float | None,
    ) -> None:
        self.op = op
        self.deadline = Deadline(timeout, not_after)
        self.policy = policy
        self.attempt = 0

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


def _httpx_reader() -> _transport.URLReader:
    from ._httpx import HTTPXReader

    return HTTPXReader()


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
        reader: _transport.URLReader | None,
    ) -> None:
        self._token = BearerToken(resolve_token(token))
        self._base_url = check_base_url(
            resolve_base_url(base_url), allow_insecure_http=allow_insecure_http, reader=reader
        )
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        check_timeout(timeout)
        self._protocol: WireProtocol = protocol
        self._codec = _stubs.codec_for(protocol)
        self._timeout = timeout
        self._policy = RetryPolicy(max_retries=max_retries)
        self._use_get = use_get
        self._reader = reader
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
        self,
        op: _stubs.Operation,
        timeout: float | None,
        max_retries: int | None,
        not_after: float | None,
    ) -> _Call:
        policy = self._policy
        if max_retries is not None and max_retries != policy.max_retries:
            policy = RetryPolicy(max_retries=max_retries)
        budget = self._timeout if timeout is None else check_timeout(timeout)
        return _Call(op, budget, policy, not_after)

    def _transport_options(self) -> dict[str, Any]:
        try:
            return _transport.transport_options(self._base_url)
        except OSError as exc:
            raise ConfigurationError(f"SSL_CERT_FILE cannot be read: {exc}") from exc

    def _use_get_for(self, op: _stubs.Operation) -> bool:
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
            reader=None if http_client is None else _httpx_reader(),
        )
        self._sleep: SyncSleep = time.sleep if sleep is None else sleep
        self._owned_transport: pyqwest.SyncHTTPTransport | None = None
        inner: pyqwest.SyncTransport
        if http_client is None:
            self._owned_transport = pyqwest.SyncHTTPTransport(**self._transport_options())
            inner = self._owned_transport
        else:
            from ._httpx import HTTPXSyncTransport

            inner = HTTPXSyncTransport(http_client)
        transport = _transport.SyncTransport(inner, read_max_bytes, self._reader)
        self._stub = _stubs.sync_stub(
            self._base_url,
            codec=self._codec,
            http_client=pyqwest.SyncClient(transport),
            interceptors=tuple(interceptors),
        )
        self.users = Users(self._call)
        """The ``users`` resource: ``client.users.pats``."""

    def _call(
        self,
        op: _stubs.Operation,
        request: Any,
        timeout: float | None,
        max_retries: int | None,
        not_after: float | None = None,
    ) -> tuple[Any, _transport.ResponseInfo]:
        call = self._start(op, timeout, max_retries, not_after)
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
                self._sleep(call.delay(exc))

    def close(self) -> None:
        """Close the client and the connections it opened (not a caller's ``httpx.Client``)."""
        self._stub.close()
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
        read_max_bytes: the largest response body accepted (``None``: no limit): a declared
            length over it fails before reading, any other body stops at it.
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
            reader=None if http_client is None else _httpx_reader(),
        )
        self._sleep: AsyncSleep = asyncio.sleep if sleep is None else sleep
        self._owned_transport: pyqwest.HTTPTransport | None = None
        inner: pyqwest.Transport
        if http_client is None:
            self._owned_transport = pyqwest.HTTPTransport(**self._transport_options())
            inner = self._owned_transport
        else:
            from ._httpx import HTTPXAsyncTransport

            inner = HTTPXAsyncTransport(http_client)
        transport = _transport.AsyncTransport(inner, read_max_bytes, self._reader)
        self._stub = _stubs.async_stub(
            self._base_url,
            codec=self._codec,
            http_client=_transport.AsyncHTTPClient(transport),
            interceptors=tuple(interceptors),
        )
        self.users = AsyncUsers(self._call)
        """The ``users`` resource: ``client.users.pats``."""

    async def _call(
        self,
        op: _stubs.Operation,
        request: Any,
        timeout: float | None,
        max_retries: int | None,
        not_after: float | None = None,
    ) -> tuple[Any, _transport.ResponseInfo]:
        call = self._start(op, timeout, max_retries, not_after)
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
                await self._sleep(call.delay(exc))

    async def _send(
        self,
        stub: user_connect.UserServiceClient,
        op: _stubs.Operation,
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
        await self._stub.close()
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
