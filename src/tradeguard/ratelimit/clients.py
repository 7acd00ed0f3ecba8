"""Whose requests are counted: an address (IPv6 by its /64), a user or an API key."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from tradeguard.audit.records import Actor

SYSTEM_COMPONENT = "ratelimit"
UNKNOWN_ADDRESS = "unknown"
IPV6_PREFIX = 64
"""IPv6 clients are counted per /64: one subscriber usually holds a whole /64."""


class LimitScope(StrEnum):
    """Whose requests a limit counts."""

    IP = "ip"
    USER = "user"
    API_KEY = "api_key"


@dataclass(slots=True)  # not frozen: a few are built per request, and frozen ones cost 3x
class Client:
    """Whose requests are counted: an address, a user or an API key, seen from ``ip``."""

    scope: LimitScope
    id: str
    ip: str | None

    def actor(self) -> Actor:
        """The audit actor: the user or key itself, the service for a bare address."""
        if self.scope is LimitScope.USER:
            return Actor("user", self.id, ip=self.ip)
        if self.scope is LimitScope.API_KEY:
            return Actor("apikey", self.id, ip=self.ip)
        return Actor("system", SYSTEM_COMPONENT, ip=self.ip)

    @property
    def subject(self) -> str:
        """The audit subject, e.g. ``ip:203.0.113.7`` or ``user:<id>``."""
        return self.scope + ":" + self.id


def address_key(ip: str | None) -> str:
    """How an address is counted: IPv4 as is, IPv6 by its /64 network."""
    if not ip:
        return UNKNOWN_ADDRESS
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
