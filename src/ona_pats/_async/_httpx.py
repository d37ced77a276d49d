"""The httpx adapter: pyqwest's transport protocol over a caller's ``httpx.AsyncClient``.

It only sends and streams: redirects, the body limit and typed failures are
``_transport``'s, which wraps it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pyqwest

from ona_pats._httpx import Mapped, headers_of, mapped, timeout_of

if TYPE_CHECKING:
    import httpx

    from ona_pats._httpx import HTTPXResponse


class HTTPXAsyncTransport:
    """A pyqwest transport that sends through an ``httpx.AsyncClient``.

    Args:
        client: the caller's client; the caller closes it.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def execute(self, request: pyqwest.Request) -> pyqwest.Response:
        """Send one request; the response streams its body.

        Raises:
            ConnectionError: no connection could be established.
            TimeoutError: httpx timed out.
            pyqwest.ReadError, pyqwest.WriteError, pyqwest.RemoteProtocolError: the other
                httpx transport errors.
        """
        import httpx

        content = request.content
        if not isinstance(content, bytes):
            content = b"".join([chunk async for chunk in content])
        timeout = timeout_of(request.headers)
        built = self._client.build_request(
            request.method,
            request.url,
            headers=list(request.headers.items()),
            content=content,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        with Mapped():
            response = await self._client.send(built, stream=True, follow_redirects=False)
        return pyqwest.Response(
            status=response.status_code, headers=headers_of(response), content=_astream(response)
        )


async def _astream(response: HTTPXResponse) -> AsyncIterator[bytes]:
    import httpx

    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise mapped(exc) from exc
    finally:
        await response.aclose()
