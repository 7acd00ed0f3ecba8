"""How a route reaches a service: by its type, from the application's registry.

``create_app`` builds one ``tradeguard.registry.Registry`` and installs it here; a route
asks for what it needs with ``Annotated[DeskPort, provided(DeskPort)]``. This module
is the only reader of the application's state, so a route's collaborators can always be
followed from its signature to the registry.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol, TypeVar

from fastapi import Depends, FastAPI
from starlette.requests import HTTPConnection

T = TypeVar("T")
PROVIDED_KIND = "provided_kind"


class ServiceLookup(Protocol):
    """A registry of services keyed by the type each is declared as."""

    def find(self, kind: type[T]) -> T:
        """The service registered as ``kind``."""
        ...


def install_registry(app: FastAPI, registry: ServiceLookup) -> None:
    """Make ``registry`` the one source of ``app``'s services."""
    app.state.registry = registry


def registry_of(connection: HTTPConnection) -> ServiceLookup:
    """The registry of the application serving ``connection``."""
    registry: ServiceLookup = connection.app.state.registry
    return registry


def registry_of_app(app: FastAPI) -> ServiceLookup:
    """The registry installed on ``app`` (for a process that serves it without HTTP)."""
    registry: ServiceLookup = app.state.registry
    return registry


@cache
def provided(kind: type[Any]) -> Any:  # noqa: ANN401 - a FastAPI Depends
    """A dependency whose value is the registered service of type ``kind``.

    A coroutine, though it only looks in a dictionary: FastAPI runs a plain function
    dependency on a worker thread, a hand-over per service per request.
    """

    async def provide(connection: HTTPConnection) -> Any:  # noqa: ANN401 - the service of ``kind``
        return registry_of(connection).find(kind)

    provide.__name__ = f"provide_{kind.__name__}"
    setattr(provide, PROVIDED_KIND, kind)
    return Depends(provide)


def provided_kind(call: object) -> type[Any] | None:
    """The type a dependency provides, if it is a ``provided()`` one."""
    kind: type[Any] | None = getattr(call, PROVIDED_KIND, None)
    return kind
