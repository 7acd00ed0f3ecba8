"""Response models of the health endpoints."""

from __future__ import annotations

from pydantic import BaseModel


class Liveness(BaseModel):
    """The process is up and serving."""

    status: str


class Check(BaseModel):
    """One readiness check with what it saw."""

    ok: bool
    detail: str


class Readiness(BaseModel):
    """All readiness checks passed; warnings do not make the service unready."""

    status: str
    checks: dict[str, Check]
    warnings: list[str]
