"""Bearer auth: the header, redaction, and where the token may be sent.

The token goes over TLS, or over plain HTTP only to a loopback host (a local server or a
test) unless the caller opts in. Redirects are followed by the client only within the same
origin (scheme, host and port), so the token never reaches another host.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urljoin, urlsplit

from ._exceptions import ConfigurationError

_MIN_REDACTED = 6
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BearerToken:
    """An API token that never shows itself in ``repr()`` or ``str()``."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
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
    """Whether ``host`` (a name or an IP literal) is this machine."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> None:
    """Refuse a base URL the token must not be sent to.

    Raises:
        ConfigurationError: not http(s), no host, or plain ``http://`` to a host that is not
            loopback without ``allow_insecure_http=True``.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing to send the API token over plain http to {parts.hostname}: use https, "
            "or pass allow_insecure_http=True if the network is trusted"
        )


def origin(url: str) -> tuple[str, str, int]:
    """The (scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def redirect_base(base_url: str, method_path: str, location: str) -> str | None:
    """Where to resend a call that was answered with a 307/308 redirect to ``location``.

    Args:
        base_url: the base URL the call was sent to.
        method_path: the path the stub appends, ``/gitpod.v1.UserService/GetPersonalAccessToken``.
        location: the ``Location`` header, absolute or relative.

    Returns:
        The new base URL, or ``None`` when the target is another origin (the token must
        not follow) or does not end with the method's path.
    """
    target = urljoin(f"{base_url}{method_path}", location)
    if origin(target) != origin(base_url):
        return None
    path = urlsplit(target)._replace(query="", fragment="").geturl()
    if not path.endswith(method_path):
        return None
    return path[: -len(method_path)]
