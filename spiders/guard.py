"""Keep the crawler off the network it runs in: no loopback, private or reserved addresses.

A feed can name any URL, and a page can redirect anywhere, so every request (the first and
each redirect) is checked before it is sent: its scheme must be http or https, and its host
must not resolve to a loopback, private, link-local, shared, multicast or reserved address.
The address the response actually came from is checked again, against DNS rebinding. Hosts
named in ``ALLOW_PRIVATE`` (``HOST`` or ``HOST:PORT``, ``*`` for all) are let through.

``RedirectGuard`` looks at each redirect before Scrapy follows it, so that the two redirects
Scrapy drops without a word leave a reason: one to a scheme other than http(s)
(``bad_scheme``), and one back to a URL of its own chain, which the duplicate filter would
swallow (``redirect_loop``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from w3lib.url import canonicalize_url, safe_url_string

from workers.errors import ConfigurationError
from workers.records import Reason

_CACHE_LIMIT = 10_000


class BlockedRequest(IgnoreRequest):
    """A request the guard refused; ``reason`` is recorded with the page."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class AllowList:
    """Hosts (optionally with a port) that may be private; ``everything`` for ``*``."""

    entries: frozenset[tuple[str, int | None]] = frozenset()
    everything: bool = False

    @classmethod
    def parse(cls, values: list[str]) -> AllowList:
        """From ``HOST``, ``HOST:PORT``, ``[IPV6]:PORT`` or ``*`` entries."""
        entries = set()
        for value in values:
            value = value.strip()
            if value == "*":
                return cls(everything=True)
            if value:
                entries.add(_allow_entry(value))
        return cls(entries=frozenset(entries))

    def allows(self, host: str, port: int | None) -> bool:
        """True when ``host:port`` was named (a host named without a port allows every port)."""
        host = host.lower()
        return self.everything or (host, None) in self.entries or (host, port) in self.entries


def _allow_entry(value: str) -> tuple[str, int | None]:
    """``(host, port)`` of one ALLOW_PRIVATE entry; a bare IPv6 address has no port."""
    try:
        return str(ipaddress.ip_address(value)).lower(), None
    except ValueError:
        pass
    try:
        parts = urlsplit("//" + value)
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise ConfigurationError(f"ALLOW_PRIVATE entry {value!r}: {error}") from error
    if not host:
        raise ConfigurationError(f"ALLOW_PRIVATE entry {value!r} names no host")
    return host.lower(), port


# NAT64 (RFC 6052) addresses carry an IPv4 address in their last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_forbidden_address(address: str) -> bool:
    """True for any address that is not a public unicast one.

    IPv6 forms that carry an IPv4 address (mapped, compatible, 6to4, NAT64) are judged by
    the IPv4 address they carry.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or 1 < int(ip) < 2**32):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return not ip.is_global or ip.is_multicast


def check_url(url: str, allow: AllowList) -> tuple[str, int] | None:
    """Raise BlockedRequest for a URL the guard refuses outright.

    Returns the host and port still to be resolved and checked, or None when the URL is
    allowed without looking further.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedRequest(Reason.BAD_SCHEME, f"scheme {parts.scheme!r} is not http or https")
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not host:
        raise BlockedRequest(Reason.BAD_SCHEME, "URL has no host")
    if allow.allows(host, port):
        return None
    try:
        forbidden = is_forbidden_address(host)
    except ValueError:
        return host, port  # a name, to be resolved
    if forbidden:
        raise BlockedRequest(Reason.PRIVATE_ADDRESS, f"{host} is not a public address")
    return None


class PrivateNetworkGuard:
    """Downloader middleware that refuses requests to private networks (see module docs)."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow
        self._resolved: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateNetworkGuard:
        """Built from the ``ALLOW_PRIVATE`` setting."""
        return cls(AllowList.parse(crawler.settings.getlist("ALLOW_PRIVATE")))

    async def process_request(self, request: Request) -> None:
        """Refuse the request unless its URL passes the checks."""
        pending = check_url(request.url, self.allow)
        if pending is None:
            return
        for address in await self._resolve(*pending):
            if is_forbidden_address(address):
                raise BlockedRequest(
                    Reason.PRIVATE_ADDRESS, f"{pending[0]} resolves to {address}, not public"
                )

    def process_response(self, request: Request, response: Response) -> Response:
        """Refuse a response that came from a forbidden address after all."""
        address = getattr(response, "ip_address", None)
        parts = urlsplit(response.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if (
            address is not None
            and not self.allow.allows(parts.hostname or "", port)
            and is_forbidden_address(str(address))
        ):
            raise BlockedRequest(Reason.PRIVATE_ADDRESS, f"answered from {address}")
        return response

    async def _resolve(self, host: str, port: int) -> list[str]:
        key = (host, port)
        if key not in self._resolved:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except OSError:
                return []  # the download fails on its own and is recorded as such
            if len(self._resolved) > _CACHE_LIMIT:
                self._resolved.clear()
            self._resolved[key] = sorted({str(info[4][0]) for info in infos})
        return self._resolved[key]


_REDIRECTS = {301, 302, 303, 307, 308}


class RedirectGuard:
    """Downloader middleware that records the redirects Scrapy would drop silently.

    It sits after Scrapy's RedirectMiddleware in the response chain's order (a higher
    number), so it sees each 3xx response before it is followed.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        """Refuse a redirect to a scheme not fetched, or back to a URL already passed."""
        location = response.headers.get(b"Location")
        if response.status not in _REDIRECTS or not location or request.meta.get("dont_redirect"):
            return response
        if location.startswith(b"//"):
            location = urlsplit(request.url).scheme.encode() + b":" + location
        target = urljoin(request.url, safe_url_string(location))
        scheme = urlsplit(target).scheme
        if scheme not in ("http", "https"):
            raise BlockedRequest(Reason.BAD_SCHEME, f"redirect to the scheme {scheme!r}")
        refuse_loop(target, [*request.meta.get("redirect_urls", []), request.url])
        return response


def refuse_loop(target: str, chain: list[str], kind: str = "redirect") -> None:
    """Refuse (``redirect_loop``) a ``kind`` of redirect to ``target`` when it is one of the
    URLs the request already passed (``chain``), compared canonicalised: Scrapy's duplicate
    filter would drop it without a word."""
    if canonicalize_url(target) in {canonicalize_url(url) for url in chain}:
        raise BlockedRequest(Reason.REDIRECT_LOOP, f"{kind} back to {target} after {len(chain)}")
