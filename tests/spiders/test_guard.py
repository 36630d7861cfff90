"""The private-network guard: allow lists, forbidden addresses, URL checks, and the middleware."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from spiders.guard import (
    AllowList,
    BlockedRequest,
    PrivateNetworkGuard,
    check_url,
    is_forbidden_address,
)
from workers.errors import ConfigurationError
from workers.records import Reason

NOTHING = AllowList()

# --- AllowList ---------------------------------------------------------------------------------


def test_an_empty_allow_list_allows_nothing() -> None:
    allow = AllowList.parse([])

    assert allow == NOTHING
    assert not allow.allows("127.0.0.1", 80)
    assert not allow.allows("localhost", None)


def test_allow_list_entries_are_parsed_into_hosts_and_ports() -> None:
    allow = AllowList.parse([" LocalHost ", "127.0.0.1:8000", "[::1]:8080", "[fe80::1]", ""])

    assert allow.entries == {
        ("localhost", None),
        ("127.0.0.1", 8000),
        ("::1", 8080),
        ("fe80::1", None),
    }
    assert not allow.everything


def test_a_host_without_a_port_is_allowed_on_every_port() -> None:
    allow = AllowList.parse(["localhost"])

    assert allow.allows("localhost", 80)
    assert allow.allows("LOCALHOST", 8001)
    assert allow.allows("localhost", None)
    assert not allow.allows("127.0.0.1", 80)  # a name does not allow the address it resolves to


def test_a_host_with_a_port_is_allowed_on_that_port_only() -> None:
    allow = AllowList.parse(["127.0.0.1:8000", "[::1]:8080"])

    assert allow.allows("127.0.0.1", 8000)
    assert not allow.allows("127.0.0.1", 8001)
    assert not allow.allows("127.0.0.1", 80)
    assert allow.allows("::1", 8080)
    assert not allow.allows("::1", 8000)


def test_a_star_allows_everything() -> None:
    allow = AllowList.parse(["127.0.0.1:8000", "*"])

    assert allow.everything
    assert allow.allows("10.0.0.1", 22)
    assert allow.allows("anything.internal", None)


def test_a_bare_ipv6_address_can_be_allowed() -> None:
    allow = AllowList.parse(["::1"])

    assert allow.allows("::1", 8080)


def test_a_malformed_entry_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="localhost:abc"):
        AllowList.parse(["localhost:abc"])


# --- Forbidden addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "127.255.0.9",
        "10.1.2.3",  # private
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",  # link-local: cloud metadata services live here
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",  # multicast
        "::ffff:127.0.0.1",  # IPv4-mapped: the IPv4 address decides
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(address) is True


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:93.184.216.34"],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_forbidden_address(address) is False


def test_a_name_is_not_an_address() -> None:
    with pytest.raises(ValueError):
        is_forbidden_address("localhost")


# --- check_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("ftp://ftp.example.com/pub/", "ftp"),
        ("data:text/html,<p>hello</p>", "data"),
        ("gopher://127.0.0.1:6379/_INFO", "gopher"),
    ],
)
def test_a_scheme_other_than_http_is_refused_even_when_all_is_allowed(
    url: str, scheme: str
) -> None:
    for allow in (NOTHING, AllowList.parse(["*"])):
        with pytest.raises(BlockedRequest) as raised:
            check_url(url, allow)

        assert raised.value.reason is Reason.BAD_SCHEME
        assert repr(scheme) in raised.value.detail


def test_a_url_without_a_host_is_refused() -> None:
    with pytest.raises(BlockedRequest) as raised:
        check_url("http:///path", NOTHING)

    assert raised.value.reason is Reason.BAD_SCHEME
    assert raised.value.detail == "URL has no host"


def test_a_loopback_address_is_refused() -> None:
    with pytest.raises(BlockedRequest) as raised:
        check_url("http://127.0.0.1:8000/", NOTHING)

    assert raised.value.reason is Reason.PRIVATE_ADDRESS
    assert raised.value.detail == "127.0.0.1 is not a public address"
    assert str(raised.value) == raised.value.detail


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.1:8000", "*"])
def test_an_allowed_loopback_address_passes_without_resolution(entry: str) -> None:
    assert check_url("http://127.0.0.1:8000/article", AllowList.parse([entry])) is None


def test_an_address_allowed_on_one_port_is_refused_on_another() -> None:
    allow = AllowList.parse(["127.0.0.1:8000"])

    with pytest.raises(BlockedRequest) as raised:
        check_url("http://127.0.0.1:8001/", allow)

    assert raised.value.reason is Reason.PRIVATE_ADDRESS


def test_the_default_port_of_the_scheme_is_the_one_the_allow_list_sees() -> None:
    assert check_url("http://127.0.0.1/", AllowList.parse(["127.0.0.1:80"])) is None
    assert check_url("https://127.0.0.1/", AllowList.parse(["127.0.0.1:443"])) is None
    with pytest.raises(BlockedRequest):
        check_url("https://127.0.0.1/", AllowList.parse(["127.0.0.1:80"]))


@pytest.mark.parametrize(
    ("url", "pending"),
    [
        ("http://news.example/a", ("news.example", 80)),
        ("https://News.Example/a?b=c", ("news.example", 443)),
        ("http://news.example:8080/", ("news.example", 8080)),
        ("https://localhost/", ("localhost", 443)),
    ],
)
def test_a_host_name_is_returned_for_resolution(url: str, pending: tuple[str, int]) -> None:
    assert check_url(url, NOTHING) == pending


def test_a_public_address_passes_without_resolution() -> None:
    assert check_url("http://93.184.216.34/", NOTHING) is None
    assert check_url("https://[2606:4700::1111]/", NOTHING) is None


def test_an_ipv6_literal_is_checked_as_an_address() -> None:
    with pytest.raises(BlockedRequest) as raised:
        check_url("http://[::1]:8080/", NOTHING)

    assert raised.value.reason is Reason.PRIVATE_ADDRESS
    assert raised.value.detail == "::1 is not a public address"
    assert check_url("http://[::1]:8080/", AllowList.parse(["[::1]:8080"])) is None
    with pytest.raises(BlockedRequest):
        check_url("http://[::1]:8080/", AllowList.parse(["[::1]:8081"]))


def test_an_ipv4_mapped_literal_is_refused() -> None:
    with pytest.raises(BlockedRequest) as raised:
        check_url("http://[::ffff:127.0.0.1]/", NOTHING)

    assert raised.value.reason is Reason.PRIVATE_ADDRESS


# --- The middleware ------------------------------------------------------------------------------


def loopback_addresses(host: str) -> set[str]:
    """What this machine's resolver makes of ``host``, as the guard will see it."""
    return {str(info[4][0]) for info in socket.getaddrinfo(host, 9, type=socket.SOCK_STREAM)}


def test_a_name_resolving_to_loopback_is_refused() -> None:
    guard = PrivateNetworkGuard(NOTHING)

    with pytest.raises(BlockedRequest) as raised:
        asyncio.run(guard.process_request(Request("http://localhost:9/")))

    assert raised.value.reason is Reason.PRIVATE_ADDRESS
    prefix = "localhost resolves to "
    assert raised.value.detail.startswith(prefix)
    address = raised.value.detail[len(prefix) :].removesuffix(", not public")
    assert address in loopback_addresses("localhost")
    assert ipaddress.ip_address(address).is_loopback


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.1"])
def test_a_disguised_loopback_address_is_refused_after_resolution(host: str) -> None:
    # Not addresses to ipaddress, but the resolver reads them as 127.0.0.1.
    assert check_url(f"http://{host}:9/", NOTHING) == (host, 9)
    guard = PrivateNetworkGuard(NOTHING)
    assert asyncio.run(guard._resolve(host, 9)) == ["127.0.0.1"]

    with pytest.raises(BlockedRequest) as raised:
        asyncio.run(guard.process_request(Request(f"http://{host}:9/")))

    assert raised.value.reason is Reason.PRIVATE_ADDRESS
    # w3lib 2.6 reads such a host as the address it stands for, as browsers do (the WHATWG
    # URL standard), so Scrapy's request already names 127.0.0.1; before, the host stayed as
    # written and the guard had it resolved. Refused either way.
    assert raised.value.detail in (
        f"{host} resolves to 127.0.0.1, not public",
        "127.0.0.1 is not a public address",
    )


@pytest.mark.parametrize("entry", ["localhost", "localhost:9", "*"])
def test_an_allowed_name_passes(entry: str) -> None:
    guard = PrivateNetworkGuard(AllowList.parse([entry]))

    assert asyncio.run(guard.process_request(Request("http://localhost:9/"))) is None


def test_an_allowed_name_on_another_port_is_refused() -> None:
    guard = PrivateNetworkGuard(AllowList.parse(["localhost:8000"]))

    with pytest.raises(BlockedRequest) as raised:
        asyncio.run(guard.process_request(Request("http://localhost:9/")))

    assert raised.value.reason is Reason.PRIVATE_ADDRESS


def test_a_bad_scheme_is_refused_by_the_middleware() -> None:
    guard = PrivateNetworkGuard(AllowList.parse(["*"]))

    with pytest.raises(BlockedRequest) as raised:
        asyncio.run(guard.process_request(Request("ftp://localhost/file")))

    assert raised.value.reason is Reason.BAD_SCHEME


def test_a_response_from_a_private_address_is_refused() -> None:
    guard = PrivateNetworkGuard(NOTHING)
    request = Request("http://news.example/a")
    response = Response(
        "http://news.example/a", request=request, ip_address=ipaddress.ip_address("10.0.0.7")
    )

    with pytest.raises(BlockedRequest) as raised:
        guard.process_response(request, response)

    assert raised.value.reason is Reason.PRIVATE_ADDRESS
    assert raised.value.detail == "answered from 10.0.0.7"


@pytest.mark.parametrize(
    ("allow", "address"),
    [
        (NOTHING, "93.184.216.34"),
        (NOTHING, None),  # the download handler did not say
        (AllowList.parse(["news.example"]), "10.0.0.7"),
        (AllowList.parse(["news.example:80"]), "10.0.0.7"),
    ],
)
def test_a_response_from_a_public_or_allowed_address_passes(
    allow: AllowList, address: str | None
) -> None:
    guard = PrivateNetworkGuard(allow)
    request = Request("http://news.example/a")
    ip = ipaddress.ip_address(address) if address else None
    response = Response("http://news.example/a", request=request, ip_address=ip)

    assert guard.process_response(request, response) is response


def test_the_guard_reads_its_allow_list_from_the_crawler_settings() -> None:
    crawler = get_crawler(settings_dict={"ALLOW_PRIVATE": ["127.0.0.1:8000", "localhost"]})

    guard = PrivateNetworkGuard.from_crawler(crawler)

    assert guard.allow == AllowList.parse(["127.0.0.1:8000", "localhost"])
    assert guard.allow.entries == {("127.0.0.1", 8000), ("localhost", None)}
