"""Builds the API key parts of an application: shared state, directory, verifier, service."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from tradeguard.access.check_log import AccessCheckLog
from tradeguard.apikeys.directory import KeyDirectory
from tradeguard.apikeys.replay import KeyStateStore, key_state_store
from tradeguard.apikeys.service import ApiKeyService
from tradeguard.apikeys.verifier import RequestVerifier
from tradeguard.identity.notices import Notices
from tradeguard.services import Services


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """The key service (owners and staff) and the per-request verifier."""

    service: ApiKeyService
    verifier: RequestVerifier


def build_api_keys(
    services: Services,
    notices: Notices,
    checks: AccessCheckLog,
    shared: redis.Redis | None,
    store: KeyStateStore | None = None,
) -> ApiKeys:
    """API keys over the application's services; nonces and revocations in ``shared``.

    ``store``, when given, keeps them instead (the desk process, for workers without Redis).
    """
    settings = services.settings
    store = store or key_state_store(shared, settings.redis_key_prefix, services.clock)
    directory = KeyDirectory(services.sessions)
    verifier = RequestVerifier(
        directory,
        store,
        services.clock,
        settings.api_signature_window_seconds,
        checks.append_event,
    )
    service = ApiKeyService(
        settings, services.clock, services.audit, notices=notices, directory=directory, store=store
    )
    return ApiKeys(service, verifier)
