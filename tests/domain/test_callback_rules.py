"""Callback rules: which URLs and addresses a callback may use (server-side request forgery),
the HMAC signature of a callback, and a task's status from its callback's delivery."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from scomm.domain.callbacks import (
    CallbackRefused,
    TaskStatus,
    address_refused,
    check_url,
    normal_host,
    signature,
    signature_holds,
    task_status,
)

ALLOWED = ("callback.example", "127.0.0.1", "::1")


def test_an_allowed_http_or_https_url_is_split_into_its_target() -> None:
    target = check_url("https://Callback.Example./osia/cb?x=1", ALLOWED)
    assert (target.scheme, target.host, target.port, target.path) == (
        "https", "callback.example", 443, "/osia/cb?x=1",
    )  # fmt: skip
    assert check_url("http://127.0.0.1:8080", ALLOWED).path == "/"
    assert check_url("http://[::1]:81/x", ALLOWED).host == "::1"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://callback.example/x", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://callback.example/", "http or https"),
        ("callback.example/x", "http or https"),
        ("https://user:pw@callback.example/", "user information"),
        ("https://callback.example@evil.example/", "user information"),
        ("https://evil.example/", "allow-list"),
        ("https://callback.example.evil.example/", "allow-list"),
        ("http://127.0.0.2/", "allow-list"),
        ("http://2130706433/", "allow-list"),  # 127.0.0.1 as a number: not a listed host
        ("https://callback.example:99999/", "port"),
        ("https://callback.example/ x", "spaces"),
        ("https:///path", "names its host"),
        ("http://[::1/x", "cannot be read"),
    ],
)
def test_a_url_that_may_not_be_used_is_refused(url: str, why: str) -> None:
    with pytest.raises(CallbackRefused, match=why):
        check_url(url, ALLOWED)


def test_host_names_are_kept_in_one_form_and_junk_is_no_host() -> None:
    assert normal_host("API.Example.COM.") == "api.example.com"
    assert normal_host("[0:0::1]") == "::1"
    for junk in ("", "a b", "exa_mple.com", "-x.example", "x" * 64 + ".example"):
        with pytest.raises(CallbackRefused):
            normal_host(junk)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254", "100.64.0.1",
     "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "0.0.0.0", "::"],
)  # fmt: skip
def test_private_loopback_and_link_local_addresses_are_refused(address: str) -> None:
    assert address_refused(address, private_allowed=False) is not None


def test_public_addresses_pass_and_a_private_host_needs_its_flag() -> None:
    for public in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert address_refused(public, private_allowed=False) is None
    assert address_refused("127.0.0.1", private_allowed=True) is None
    assert address_refused("10.0.0.7", private_allowed=True) is None
    # never an unspecified or multicast address, whatever the flag says
    for never in ("0.0.0.0", "224.0.0.1", "ff02::1"):
        assert address_refused(never, private_allowed=True) is not None


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    secret, timestamp, body = "s3cret", 1796634000, b'{"tcn": "X"}'
    expected = hmac.new(b"s3cret", b'1796634000.{"tcn": "X"}', hashlib.sha256).hexdigest()
    assert signature(secret, timestamp, body) == f"v1={expected}"
    header = signature(secret, timestamp, body)
    assert signature_holds(secret, timestamp, body, header)
    assert not signature_holds(secret, timestamp, b'{"tcn": "Y"}', header)  # tampered body
    assert not signature_holds(secret, timestamp + 1, body, header)  # another timestamp
    assert not signature_holds("other", timestamp, body, header)  # another key


def test_the_task_status_follows_the_response_and_its_callback() -> None:
    assert task_status(False, None) is TaskStatus.PENDING
    assert task_status(True, None) is TaskStatus.COMPLETED  # no callback: done once answered
    assert task_status(True, ("pending", 0, None)) is TaskStatus.RESPONSE_SCHEDULED
    assert task_status(True, ("pending", 1, None)) is TaskStatus.RESPONSE_SCHEDULED  # in flight
    assert task_status(True, ("pending", 2, "HTTP 500")) is TaskStatus.RESPONSE_RETRY
    replayed = ("pending", 0, "HTTP 500")
    assert task_status(True, replayed) is TaskStatus.RESPONSE_SCHEDULED
    assert task_status(True, ("dead", 5, "HTTP 500")) is TaskStatus.RESPONSE_ERROR
    assert task_status(True, ("delivered", 3, "HTTP 500")) is TaskStatus.COMPLETED
