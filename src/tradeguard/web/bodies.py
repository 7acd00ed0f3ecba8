"""``Body``: the base of every JSON request body the API takes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class Body(BaseModel):
    """A request body: unknown fields are refused, and so is a NUL character anywhere in it.

    PostgreSQL cannot store a NUL, and SQLite would keep what PostgreSQL refuses.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        if _holds_nul(data):
            raise ValueError("a value holds a NUL character, which cannot be stored")
        return data


def _holds_nul(value: object) -> bool:
    """Whether a string anywhere in ``value`` (parsed JSON) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
