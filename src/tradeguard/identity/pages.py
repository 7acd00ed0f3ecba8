"""Server-rendered pages of identity: sign up, sign in, security settings."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
