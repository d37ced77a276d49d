"""Bearer auth: the header, redaction, and where the token may be sent.

The token goes over TLS, or over plain HTTP only to a loopback host (a local server or a
test) unless the caller opts in. Redirects are followed by the transport only within the same
origin (``_transport``), so the token never reaches another host.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError
from ._transport import URLReader, canonical_url, origin_of

_MIN_REDACTED = 6


class RequestHeaders(dict[str, str]):
    """Request headers whose repr never shows the ``authorization`` value: they are locals of
    the call path's frames, which tracebacks with locals and debuggers print."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {k: "<redacted>" if k == "authorization" else v for k, v in self.items()}
        return f"RequestHeaders({shown!r})"


class BearerToken:
    """An API token that never shows itself in ``repr()`` or ``str()``."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        for position, char in enumerate(secret):
            if not "!" <= char <= "~":
                # Never echo the token, nor the character (it may be most of a short token).
                raise ConfigurationError(
                    f"the API token has a character that cannot be sent in an HTTP header "
                    f"(whitespace, a control or a non-ASCII character) at position {position}; "
                    "check where the token comes from"
                )
        self._secret = secret

    @property
    def secret(self) -> str:
        """The token itself."""
        return self._secret

    def header(self) -> str:
        """The ``Authorization`` header value."""
        return f"Bearer {self._secret}"

    def redact(self, text: str) -> str:
        """Return ``text`` with every occurrence of the token replaced by ``<redacted>``."""
        if len(self._secret) < _MIN_REDACTED:
            # Such "tokens" are test placeholders; replacing them would garble every message.
            return text
        return text.replace(self._secret, "<redacted>")

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    __str__ = __repr__


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine whatever DNS says: ``localhost`` or a loopback literal.

    Other names (``localhost.localdomain``, ``*.localhost``) are resolved through the system's
    resolver, which may answer with a remote address, so they are not trusted.
    """
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(
    base_url: str, *, allow_insecure_http: bool, reader: URLReader | None = None
) -> str:
    """Refuse a base URL the token must not be sent to; return it as the transport reads it.

    The origin is decided on the URL as the transport serializes it (``canonical_url``), and
    that serialization is what the client then sends to, so the host checked is the host
    connected to.

    Args:
        base_url: the configured base URL.
        allow_insecure_http: allow plain ``http://`` to a host that is not loopback.
        reader: a second transport flavour that must read the same origin (httpx), if any.

    Returns:
        The canonical base URL, without a trailing slash.

    Raises:
        ConfigurationError: not an http(s) URL with a host; user info, a query or a fragment;
            characters URL parsers read differently; a flavour that reads another origin; or
            plain ``http://`` to a host that is not loopback without ``allow_insecure_http``.
    """
    try:
        canonical = canonical_url(base_url)
        origin = origin_of(canonical)
        if reader is not None and reader.origin(canonical) != origin:
            raise ValueError(f"httpx reads it as {reader.origin(canonical)}, not {origin}")
        if urlsplit(canonical).query or "#" in canonical:
            raise ValueError("it has a query or a fragment")
    except ValueError as exc:
        raise ConfigurationError(f"unusable base_url {base_url!r}: {exc}") from None
    if origin.scheme == "http" and not allow_insecure_http and not is_loopback(origin.host):
        raise ConfigurationError(
            f"refusing to send the API token over plain http to {origin.host}: use https, "
            "or pass allow_insecure_http=True if the network is trusted"
        )
    return canonical.rstrip("/")
