"""Fixtures for the notify tests: TLS material and a captured log stream."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from notify_doubles import TlsFiles, make_tls_files

from tradeguard import logs


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("notify-tls"))


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    logs.configure_logging(level="DEBUG", stream=buffer)
    yield buffer
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs._TradeGuardHandler)]:
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(capture=False)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
