"""Imports every model module so ``Base.metadata`` knows all tables (migrations, tests)."""

from tradeguard.crypto import models as crypto_models
from tradeguard.db import installation

__all__ = ["crypto_models", "installation"]
