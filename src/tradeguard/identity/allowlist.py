"""Per-account IP allowlists: CIDR networks a user may sign in and send requests from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from tradeguard.identity.problems import unprocessable

MAX_NETWORKS = 32
Network = IPv4Network | IPv6Network


def normalize_allowlist(cidrs: Sequence[str]) -> list[str]:
    """Validated, de-duplicated CIDR strings; 422 VALIDATION_FAILED on a malformed entry."""
    if len(cidrs) > MAX_NETWORKS:
        raise unprocessable(f"at most {MAX_NETWORKS} networks")
    networks: list[str] = []
    for cidr in cidrs:
        try:
            network = str(ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise unprocessable(f"not a network: {cidr[:64]!r}") from None
        if network not in networks:
            networks.append(network)
    return networks


def parse_allowlist(stored: str | None) -> tuple[Network, ...]:
    """The stored allowlist (JSON list of CIDRs) as networks; empty when none is set."""
    if not stored:
        return ()
    return tuple(ip_network(cidr) for cidr in json.loads(stored))


def allowed(allowlist: tuple[Network, ...], ip: str | None) -> bool:
    """Whether ``ip`` may be used: any address when the list is empty, else one inside it."""
    if not allowlist:
        return True
    if ip is None:
        return False
    try:
        address = ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in allowlist)
