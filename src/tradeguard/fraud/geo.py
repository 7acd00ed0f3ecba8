"""Where an address is: its network (a /24 or /48 prefix) and its country.

Countries come from a table of CIDR blocks (``fraud_geo_networks`` setting: lines of
``CIDR=CC``, or a file of them), longest prefix first. An address in no block has the
country ``--`` (unknown); loopback and private addresses are ``ZZ`` (this installation's
own networks). The network prefix stands in for the autonomous system: two sign-ins from
one /24 are from the same place for the features that count new networks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

UNKNOWN_COUNTRY = "--"
LOCAL_COUNTRY = "ZZ"
IPV4_PREFIX = 24
IPV6_PREFIX = 48

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Network:
    """An address's network prefix and country."""

    prefix: str
    country: str


class GeoLocator:
    """Finds the country of an address in a table of CIDR blocks."""

    def __init__(self, blocks: Iterable[tuple[str, str]] = ()) -> None:
        parsed = [(ipaddress.ip_network(cidr, strict=False), cc.upper()) for cidr, cc in blocks]
        self.blocks: list[tuple[IpNetwork, str]] = sorted(
            parsed, key=lambda item: item[0].prefixlen, reverse=True
        )

    @classmethod
    def parse(cls, lines: Iterable[str]) -> GeoLocator:
        """A locator from ``CIDR=CC`` lines (blank lines and ``#`` comments skipped)."""
        blocks = []
        for line in lines:
            text = line.split("#", 1)[0].strip()
            if text:
                cidr, _, country = text.partition("=")
                blocks.append((cidr.strip(), country.strip()))
        return cls(blocks)

    def locate(self, ip: str | None) -> Network | None:
        """The network and country of ``ip``; None for no or an unreadable address."""
        try:
            address = ipaddress.ip_address(ip or "")
        except ValueError:
            return None
        prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX  # noqa: PLR2004
        network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        return Network(str(network), self._country(address))

    def _country(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        for block, country in self.blocks:
            if address.version == block.version and address in block:
                return country
        if address.is_private or address.is_loopback:
            return LOCAL_COUNTRY
        return UNKNOWN_COUNTRY
