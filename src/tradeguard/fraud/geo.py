"""Where an address is: its network (a /24 or /48 prefix) and its country.

Countries come from a GeoIP database in MaxMind's format (``fraud_geoip_database``: a
GeoLite2 or GeoIP2 Country or City file, read through ``geoip2``) when one is configured,
then from a table of CIDR blocks (``fraud_geo_networks`` setting: lines of ``CIDR=CC``),
longest prefix first, for what the database does not know. An address in neither has the
country ``--`` (unknown); loopback and private addresses are ``ZZ`` (this installation's
own networks). The network prefix stands in for the autonomous system: two sign-ins from
one /24 are from the same place for the features that count new networks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geoip2.database
import geoip2.errors
from maxminddb.errors import InvalidDatabaseError

from tradeguard.core.errors import ConfigurationError

UNKNOWN_COUNTRY = "--"
LOCAL_COUNTRY = "ZZ"
IPV4_PREFIX = 24
IPV6_PREFIX = 48

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
CountryOf = Callable[[str], str | None]
"""A database lookup: an address's ISO country code, or None when it has none."""


def maxmind_countries(path: Path) -> CountryOf:
    """Countries from a MaxMind-format Country or City database (the file is read once)."""
    try:
        reader = geoip2.database.Reader(str(path))
    except (OSError, InvalidDatabaseError) as exc:
        raise ConfigurationError(f"fraud_geoip_database {path} cannot be read: {exc}") from None
    country_of = reader.city if "City" in reader.metadata().database_type else reader.country

    def lookup(ip: str) -> str | None:
        try:
            return country_of(ip).country.iso_code
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return None

    return lookup


@dataclass(frozen=True, slots=True)
class Network:
    """An address's network prefix and country."""

    prefix: str
    country: str


class GeoLocator:
    """Finds the country of an address in a table of CIDR blocks."""

    def __init__(
        self, blocks: Iterable[tuple[str, str]] = (), database: CountryOf | None = None
    ) -> None:
        parsed = [(ipaddress.ip_network(cidr, strict=False), cc.upper()) for cidr, cc in blocks]
        self.blocks: list[tuple[IpNetwork, str]] = sorted(
            parsed, key=lambda item: item[0].prefixlen, reverse=True
        )
        self.database = database

    @classmethod
    def configured(cls, lines: Iterable[str], database: Path | None) -> GeoLocator:
        """The table of ``lines`` behind the MaxMind database at ``database``, if one is set."""
        locator = cls.parse(lines)
        if database is not None:
            locator.database = maxmind_countries(database)
        return locator

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

    def _country(self, address: IpAddress) -> str:
        found = None if self.database is None else self.database(str(address))
        if found:
            return found.upper()
        for block, country in self.blocks:
            if address.version == block.version and address in block:
                return country
        if address.is_private or address.is_loopback:
            return LOCAL_COUNTRY
        return UNKNOWN_COUNTRY
