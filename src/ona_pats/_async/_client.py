"""The client: its transport and stub, ``.users``, and the call loop with its retries.

Every decision of a call (deadline, whether and how long to wait before retrying) is
``_client._Call``'s; this loop only sends, sleeps and maps errors (``_exceptions``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Self

import pyqwest
from connectrpc.interceptor import Interceptor

from ona_pats import _results, _stubs, _transport
from ona_pats._aliases import AsyncSleep, WireProtocol
from ona_pats._client import BaseClient
from ona_pats._config import DEFAULT_MAX_RETRIES, DEFAULT_READ_MAX_BYTES, DEFAULT_TIMEOUT
from ona_pats._exceptions import APIError, map_connect_errors
from ona_pats._httpx import HTTPXReader
from ona_pats._stubs import Operation, Req, Res

from ._resources import AsyncUsers
from ._transport import AsyncTransport

if TYPE_CHECKING:
    import httpx


class AsyncClient(BaseClient):
    """The client of Ona's personal access token API.

    ```python
    async with AsyncClient() as client:  # token from ONA_API_KEY or GITPOD_API_KEY
        async for pat in client.users.pats.list(page_size=50):
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
        http_client: an ``httpx.AsyncClient`` to send through instead of the default pyqwest
            transport; you close it.
        interceptors: connectrpc interceptors.
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
            reader=None if http_client is None else HTTPXReader(),
        )
        self._sleep: AsyncSleep = asyncio.sleep if sleep is None else sleep
        self._owned_transport: pyqwest.HTTPTransport | None = None
        inner: pyqwest.Transport
        if http_client is None:
            self._owned_transport = pyqwest.HTTPTransport(**self._transport_options())
            inner = self._owned_transport
        else:
            from ona_pats._async._httpx import HTTPXAsyncTransport

            inner = HTTPXAsyncTransport(http_client)
        transport = AsyncTransport(inner, read_max_bytes, self._reader)
        # Requests are sent uncompressed (they are small); the body limit is the transport's.
        self._stub = _stubs.AsyncStub(
            self._base_url,
            codec=self._codec,
            send_compression=None,
            interceptors=tuple(interceptors),
            http_client=_transport.AsyncHTTPClient(transport),
        )
        self.users = AsyncUsers(self._call)
        """The ``users`` resource: ``client.users.pats``."""

    async def _call(
        self,
        op: Operation[Req, Res],
        request: Req,
        timeout: float | None,
        max_retries: int | None,
        not_after: float | None = None,
        /,
    ) -> tuple[Res, _transport.ResponseInfo]:
        call = self._start(op.level, timeout, max_retries, not_after)
        stub, headers, use_get = self._stub, self._headers, self._use_get_for(op.level)
        redact = self._token.redact
        while True:
            mapped = map_connect_errors(redact)
            try:
                with mapped:
                    timeout_ms = call.deadline.timeout_ms()
                    message = await _stubs.asend(op, stub, request, headers, timeout_ms, use_get)
                _results.note(mapped.metadata)
                return message, mapped.metadata
            except APIError as exc:
                await self._sleep(call.delay(exc))

    async def aclose(self) -> None:
        """Close the client and the connections it opened (not a caller's ``httpx.AsyncClient``)."""
        await self._stub.close()
        if self._owned_transport is not None:
            await self._owned_transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
