"""The canonical URL of an article: which URL to trust, and the one normal form of a URL.

The rules (docs/normalise.md says the same for users):

1. The page's declared URL (``declared_url``: ``<link rel=canonical>``, else ``og:url``, else
   ``twitter:url``; one that is no absolute address, or names the site's home page for a page
   that is not the home page, is passed over) is used when it is on the registrable domain
   the page was fetched from (``m.bbc.co.uk`` may name
   ``www.bbc.co.uk``), or when both domains are in one of the configured site groups
   (``NORMALISE_SITE_GROUPS``: a publisher's sites that syndicate to each other). Otherwise
   one site could claim another's URL, so the final fetched URL is used, and the copy is left
   to near-duplicate detection to link.
2. That URL is normalised with courlan: lower-case scheme and host, punycode decoded, default
   port and fragment dropped, query parameters sorted, courlan's list of trackers removed; the
   path's dot segments resolved (``/a/../b`` is ``/b``); then
   the configured tracking parameters (``NORMALISE_TRACKING_PARAMETERS``, ``*`` as a wildcard)
   are removed with w3lib.
3. AMP and mobile variants become the page they stand for: a Google AMP cache URL becomes
   the publisher's URL; an ``amp.``, ``m.`` or ``mobile.`` host becomes ``www.``; an ``/amp``
   path segment at either end and a ``.amp`` before the extension go; so do the ``amp`` and
   ``outputType=amp`` query parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import courlan
from courlan.urlutils import get_tldinfo
from lxml.html import HtmlElement
from w3lib.url import url_query_cleaner

import settings

# Query parameters that ask for the AMP version of a page.
_AMP_PARAMETERS = {"amp": None, "outputtype": "amp", "_amp": None}
_AMP_CACHE = re.compile(r"^/[cv]/(?:s/)?(?P<rest>[^/]+/.*)$")
# What a declared URL must start with to be taken for one: absolute, scheme-relative, a path.
_ADDRESS = ("http://", "https://", "//", "/")
_VARIANT_HOST = re.compile(r"^(?:amp|m|mobile)\.(?=[^.]+\.)")
# "/amp/story", "/story/amp/" (WordPress, keeping its slash), "/story/amp", "/story.amp.html".
_AMP_PATH = re.compile(r"^/amp(?=/)|(?<=/)amp/$|/amp$|\.amp(?=\.html?$|$)")


@dataclass(frozen=True)
class UrlRules:
    """What the canonical URL depends on besides the page: built from the settings."""

    # Lower case, * as a wildcard; by default NORMALISE_TRACKING_PARAMETERS's default.
    tracking_parameters: tuple[str, ...] = field(
        default_factory=lambda: tuple(settings.NORMALISE_TRACKING_PARAMETERS)
    )
    site_groups: tuple[frozenset[str], ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> UrlRules:
        """The rules of the settings module (or a Scrapy ``Settings``)."""
        get = settings.get if hasattr(settings, "get") else lambda name: getattr(settings, name)
        groups = (
            frozenset(domain.lower() for domain in group.split())
            for group in get("NORMALISE_SITE_GROUPS")
        )
        return cls(
            tracking_parameters=tuple(p.lower() for p in get("NORMALISE_TRACKING_PARAMETERS")),
            site_groups=tuple(group for group in groups if len(group) > 1),
        )


def declared_url(tree: HtmlElement, fetched: str) -> str | None:
    """The URL the page names as its own, or None: its ``<link rel=canonical>``, else its
    ``og:url``, else its ``twitter:url``, the first on the registrable domain it was fetched
    from, else the first on another.

    The canonical link comes first: it is the declaration search engines act on, while
    ``og:url`` is written for social previews and goes wrong more often. On the 1,686 corpus
    pages, ``og:url`` named the site's home page on 9 pages that are not it (the canonical link
    on 4), and where the two differed otherwise, ``og:url`` was the one with an older slug, a
    short form, ``http://``, a staging host or another product's address. A declaration that is
    not an absolute address (a path is resolved against ``fetched``) is passed over, and so is
    the home page named by a page that is not the home page: a site whose every page declares
    its home page would otherwise have each article stored over the one before.
    """
    usable = [url for url in _declarations(tree, fetched) if _can_stand_for(url, fetched)]
    return next((url for url in usable if same_site(url, fetched)), usable[0] if usable else None)


def _declarations(tree: HtmlElement, fetched: str) -> list[str]:
    """The page's canonical link, ``og:url`` and ``twitter:url``, in that order, as written
    (a path or a scheme-relative address resolved against ``fetched``)."""
    canonical: list[str] = []
    meta: dict[str, str] = {}
    for element in tree.iter("link", "meta"):
        if element.tag == "link":
            if not canonical and "canonical" in (element.get("rel") or "").lower().split():
                canonical.append(element.get("href") or "")
            continue
        name = (element.get("property") or element.get("name") or "").lower()
        if name in ("og:url", "twitter:url"):
            meta.setdefault(name, element.get("content") or "")
    found = [*canonical, meta.get("og:url", ""), meta.get("twitter:url", "")]
    return [
        urljoin(fetched, url) if url.startswith("/") else url
        for url in map(str.strip, found)
        if url.lower().startswith(_ADDRESS)
    ]


def _can_stand_for(url: str, fetched: str) -> bool:
    """Whether a declared ``url`` can be the page's: an http(s) address with a host, and not
    the site's home page unless the page fetched is that."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    # A page fetched at the root path is the home page whatever its query (a tracking
    # parameter, most often); a declared URL with a query is not the home page.
    home = parts.path in ("", "/") and not parts.query
    return not home or urlsplit(fetched).path in ("", "/")


def canonical_url(declared: str | None, fetched: str, rules: UrlRules | None = None) -> str:
    """The URL the article is known by: the declared canonical URL where trusted, else the
    fetched one; in its normal form, AMP and mobile variants mapped to the page itself."""
    rules = rules or UrlRules()
    chosen = fetched
    if declared and declared.startswith(("http://", "https://")) and fetched:  # noqa: SIM102
        if same_site(declared, fetched, rules.site_groups):
            chosen = declared
    return normalise_url(chosen, rules)


def same_site(first: str, second: str, site_groups: tuple[frozenset[str], ...] = ()) -> bool:
    """Whether two URLs are on one registrable domain, or on domains of one site group.

    A host without a registrable domain (an IP address, ``localhost``) is only the same site
    as itself.
    """
    one, other = _site(first), _site(second)
    if one == other:
        return bool(one)
    return any(one in group and other in group for group in site_groups)


def _site(url: str) -> str:
    _, domain = get_tldinfo(url)
    return domain or (urlsplit(url).hostname or "")


def normalise_url(url: str, rules: UrlRules | None = None) -> str:
    """``url`` in its normal form (rules 2 and 3 above); an unparseable URL is returned as is."""
    rules = rules or UrlRules()
    try:
        normal = courlan.normalize_url(url)
    except ValueError:
        return url
    normal = _without_amp_cache(normal)
    parts = urlsplit(normal)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    dropped = [name for name, _ in pairs if _is_tracking(name, rules.tracking_parameters)]
    dropped += [name for name, value in pairs if _is_amp_parameter(name, value)]
    if dropped:
        parts = urlsplit(url_query_cleaner(normal, dropped, remove=True, unique=False))
    host = _VARIANT_HOST.sub("www.", parts.netloc)
    path = parts.path
    if "/." in path:  # "/a/../b" is "/b" (RFC 3986, 5.2.4), as servers and browsers read it
        path = urlsplit(urljoin("http://host/", path)).path
    path = _AMP_PATH.sub("", path) or "/"
    return urlunsplit((parts.scheme, host, path, parts.query, ""))


def _is_tracking(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name.lower(), pattern) for pattern in patterns)


def _is_amp_parameter(name: str, value: str) -> bool:
    key = name.lower()
    return key in _AMP_PARAMETERS and _AMP_PARAMETERS[key] in (None, value.lower())


def _without_amp_cache(url: str) -> str:
    """The publisher's URL of a Google AMP cache URL (``…cdn.ampproject.org/c/s/host/path``)."""
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith(".cdn.ampproject.org"):
        return url
    match = _AMP_CACHE.match(parts.path)
    if not match:
        return url
    scheme = "https" if parts.path.startswith(("/c/s/", "/v/s/")) else "http"
    query = f"?{parts.query}" if parts.query else ""
    return courlan.normalize_url(f"{scheme}://{match.group('rest')}{query}")
