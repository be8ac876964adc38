"""What a per-address rate limit counts."""

from __future__ import annotations

import pytest

from relais.core.ratelimit import address_bucket


@pytest.mark.parametrize(
    ("ip", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:9", "2001:db8:1:2::/64"),  # one spelling for every form
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 seen through an IPv6 socket
        ("unknown", "unknown"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64_and_ipv4_by_its_address(ip: str, bucket: str) -> None:
    assert address_bucket(ip) == bucket


def test_two_ipv6_networks_are_two_buckets() -> None:
    assert address_bucket("2001:db8:1:2::1") != address_bucket("2001:db8:1:3::1")
