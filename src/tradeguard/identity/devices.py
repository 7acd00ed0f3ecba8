"""Devices: a hashed fingerprint per browser or app, a registry per user, new-device notices.

The fingerprint combines what the client reports (platform, screen, time zone, a
random id it keeps) with what the server sees (user agent, accept-language and the
network the address is in: /24 for IPv4, /48 for IPv6), canonicalised and hashed: no
attribute is stored in clear. Every sign-in needs the second factor; a sign-in from a
device not seen before also sends an email with links to approve or report it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from ipaddress import ip_address, ip_network

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.core.ids import new_id
from tradeguard.core.labels import printable_only
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import AuthSession, Device, User
from tradeguard.identity.notices import activity_lines, address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import AuthReason, invalid, not_found
from tradeguard.identity.secrets import random_token, token_digest
from tradeguard.identity.sessions import RevokeReason
from tradeguard.identity.user_agents import UNKNOWN_DEVICE

LINK_TTL_NS = 7 * 86_400 * NS_PER_SECOND
MAX_LABEL = 128


def network_of(ip: str | None) -> str:
    """The network an address belongs to, as far as device recognition is concerned."""
    if ip is None:
        return "unknown"
    try:
        address = ip_address(ip)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48  # noqa: PLR2004 - IPv4
    return str(ip_network(f"{address}/{prefix}", strict=False))


def fingerprint(origin: Origin) -> bytes:
    """The SHA-256 of the canonical device attributes of ``origin``."""
    attributes = {
        "client": dict(sorted(origin.device_hints.items())),
        "user_agent": origin.user_agent,
        "accept_language": origin.accept_language,
        "network": network_of(origin.ip),
    }
    return hashlib.sha256(json.dumps(attributes, sort_keys=True).encode()).digest()


def label_of(origin: Origin) -> str:
    """What a device is stored as: the client's own name for it, else its user agent.

    People see it as ``device_name(label)`` ("Chrome 131 on macOS").
    """
    label = printable_only(origin.device_label) or UNKNOWN_DEVICE
    return " ".join(label.split())[:MAX_LABEL] or UNKNOWN_DEVICE


@dataclass(frozen=True, slots=True)
class Sighting:
    """A device seen at sign-in, and whether it is new to this user."""

    device: Device
    new: bool


class Devices:
    """The device registry of users."""

    def __init__(self, identity: Identity) -> None:
        self._id = identity

    def observe(self, db: Session, user: User, origin: Origin) -> Sighting:
        """Find or register the device of this sign-in."""
        now = self._id.clock.now_ns()
        digest = fingerprint(origin)
        device = db.scalar(
            select(Device).where(Device.user_id == user.id, Device.fingerprint == digest)
        )
        if device is not None and device.revoked_at_ns is None:
            device.last_seen_ns = now
            return Sighting(device, new=False)
        if device is None:
            device = Device(id=str(new_id(self._id.clock)), user_id=user.id, fingerprint=digest)
            db.add(device)
        device.label, device.first_seen_ns, device.last_seen_ns = label_of(origin), now, now
        device.approved_at_ns = device.revoked_at_ns = device.reported_at_ns = None
        db.flush()
        return Sighting(device, new=True)

    def announce(self, db: Session, user: User, device: Device, origin: Origin) -> None:
        """Email the owner about a sign-in from a new device, with approve/report links."""
        token = random_token(32)
        now = self._id.clock.now_ns()
        device.link_digest = token_digest(token)
        device.link_expires_at_ns = now + LINK_TTL_NS
        self._id.events.record(
            db,
            "auth.device.new",
            origin,
            user_id=user.id,
            device_id=device.id,
            data={"label": device.label},
        )
        self._id.notices.security(
            db,
            address_of(user),
            "new_device",
            "New sign-in to your account",
            "Your account was signed in to from a new device.\n\n"
            f"{activity_lines(device.label, origin.ip, now)}\n\n"
            f"If this was you, approve it: {self._device_link('approve', token)}\n"
            f"If not, report it (it is signed out at once): {self._device_link('report', token)}",
        )

    def _device_link(self, action: str, token: str) -> str:
        return self._id.notices.link(f"/devices/{action}?token={token}")

    def resolve_link(self, db: Session, token: str, *, report: bool, origin: Origin) -> Device:
        """Approve (or report and revoke) the device an emailed link names; single use."""
        device = db.scalar(select(Device).where(Device.link_digest == token_digest(token)))
        if device is None or (device.link_expires_at_ns or 0) <= self._id.clock.now_ns():
            raise invalid(AuthReason.DEVICE_LINK_INVALID, "the link is not valid or has expired")
        device.link_digest = device.link_expires_at_ns = None
        now = self._id.clock.now_ns()
        if report:
            device.reported_at_ns = now
            self._revoke(db, device, origin, "auth.device.reported")
        else:
            device.approved_at_ns = now
            self._id.events.record(
                db, "auth.device.approved", origin, user_id=device.user_id, device_id=device.id
            )
        return device

    def find(self, db: Session, device_id: str | None) -> Device | None:
        """The device ``device_id``, if any."""
        return db.get(Device, device_id) if device_id else None

    def listed(self, db: Session, user_id: str) -> list[Device]:
        """The user's devices that are not revoked, most recently seen first."""
        query = (
            select(Device)
            .where(Device.user_id == user_id, Device.revoked_at_ns.is_(None))
            .order_by(Device.last_seen_ns.desc())
        )
        return list(db.scalars(query))

    def revoke(self, db: Session, user_id: str, device_id: str, origin: Origin) -> None:
        """Forget one of the user's devices and end its sessions; 404 if not theirs."""
        device = db.get(Device, device_id)
        if device is None or device.user_id != user_id or device.revoked_at_ns is not None:
            raise not_found("device")
        self._revoke(db, device, origin, "auth.device.revoked")

    def _revoke(self, db: Session, device: Device, origin: Origin, event: str) -> None:
        device.revoked_at_ns = self._id.clock.now_ns()
        sessions = db.scalars(
            select(AuthSession).where(
                AuthSession.device_id == device.id, AuthSession.revoked_at_ns.is_(None)
            )
        )
        for row in sessions:
            self._id.sessions.revoke(db, row, RevokeReason.DEVICE_REVOKED, origin)
        self._id.events.record(db, event, origin, user_id=device.user_id, device_id=device.id)
