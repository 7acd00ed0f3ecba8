"""Detector tests: a fresh hand-written stream per test."""

from __future__ import annotations

import pytest

from unit.surveillance.stream import Stream


@pytest.fixture
def stream() -> Stream:
    return Stream()
