# Generated from src/ona_pats/_async/_httpx.py by scripts/make_sync.py: edit that file.
"""The httpx adapter: pyqwest's transport protocol over a caller's ``httpx.Client``.

It only sends and streams: redirects, the body limit and typed failures are
``_transport``'s, which wraps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyqwest

from ona_pats._httpx import Mapped, headers_of, mapped, timeout_of

if TYPE_CHECKING:
    import httpx

    from ona_pats._httpx import HTTPXResponse


class HTTPXSyncTransport:
    """A pyqwest transport that sends through an ``httpx.Client``.

    Args:
        client: the caller's client; the caller closes it.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def execute_sync(self, request: pyqwest.SyncRequest) -> pyqwest.SyncResponse:
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
            content = b"".join([chunk for chunk in content])
        timeout = timeout_of(request.headers)
        built = self._client.build_request(
            request.method,
            request.url,
            headers=list(request.headers.items()),
            content=content,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        with Mapped():
            response = self._client.send(built, stream=True, follow_redirects=False)
        return pyqwest.SyncResponse(
            status=response.status_code, headers=headers_of(response), content=_stream(response)
        )


def _stream(response: HTTPXResponse) -> Iterator[bytes]:
    import httpx

    try:
        for chunk in response.iter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise mapped(exc) from exc
    finally:
        response.close()
