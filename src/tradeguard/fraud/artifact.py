"""The model file: a forest with its metadata, signed at training and checked at load.

A model document names its format, version, feature list, training data digest and
metrics, and holds the trees' arrays. Its signature is HMAC-SHA256 over the file's
bytes under the installation's model key; a file whose signature does not verify, or
whose feature list is not the running code's, is refused (``ModelRejectedError``).

The registry is a directory: ``<version>.json`` with ``<version>.json.sig`` per model,
and the files ``champion`` and ``challenger`` naming the versions in use.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradeguard.fraud.drift import FeatureBins, bins_of
from tradeguard.fraud.model import Forest, ModelFormatError, Tree

FORMAT = "tradeguard-fraud-model/1"
CHAMPION, CHALLENGER = "champion", "challenger"
SIGNATURE_SUFFIX = ".sig"


class ModelRejectedError(Exception):
    """A model file that is missing, unsigned, tampered with or for other features."""


@dataclass(frozen=True, slots=True)
class FraudModel:
    """A loaded model: the forest, its version and what it was trained on."""

    version: str
    forest: Forest
    features: tuple[str, ...]
    metadata: Mapping[str, Any]
    bins: tuple[FeatureBins, ...] | None = None
    """Each feature's bins and training shares, for drift (None: trained without them)."""


def model_document(
    version: str, trees: Sequence[Tree], features: Sequence[str], metadata: Mapping[str, Any]
) -> bytes:
    """The canonical bytes of a model file."""
    document = {
        "format": FORMAT,
        "version": version,
        "features": list(features),
        "metadata": dict(metadata),
        "trees": [tree.to_json() for tree in trees],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(content: bytes, key: bytes) -> str:
    """The hex HMAC-SHA256 of ``content`` under ``key``."""
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def parse_model(content: bytes, expected_features: Sequence[str]) -> FraudModel:
    """The model in ``content``; refused if malformed or for another feature list."""
    try:
        document = json.loads(content)
        if document.get("format") != FORMAT:
            raise ModelRejectedError("not a fraud model file")
        features = tuple(str(name) for name in document["features"])
        trees = [Tree.from_json(tree, len(features)) for tree in document["trees"]]
        version, metadata = str(document["version"]), dict(document["metadata"])
    except (ValueError, KeyError, TypeError, AttributeError, ModelFormatError) as exc:
        raise ModelRejectedError(f"the model file is malformed ({exc})") from None
    if features != tuple(expected_features):
        raise ModelRejectedError("the model was trained on another feature list")
    bins = bins_of(metadata, features)
    forest = Forest(trees, len(features))
    return FraudModel(version, forest, features, metadata, None if bins is None else tuple(bins))


class ModelRegistry:
    """Model files in a directory: store signed, load checked, name champion and challenger."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self.key = key

    def store(self, version: str, content: bytes) -> Path:
        """Write the model and its signature; the path of the model file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{version}.json"
        path.write_bytes(content)
        Path(f"{path}{SIGNATURE_SUFFIX}").write_text(signature(content, self.key), encoding="ascii")
        return path

    def load(self, version: str, expected_features: Sequence[str]) -> FraudModel:
        """The model of ``version``, its signature checked first."""
        path = self.directory / f"{_safe(version)}.json"
        try:
            content = path.read_bytes()
            signed = Path(f"{path}{SIGNATURE_SUFFIX}").read_text(encoding="ascii").strip()
        except OSError as exc:
            raise ModelRejectedError(f"model {version} cannot be read ({exc.strerror})") from None
        if not hmac.compare_digest(signed, signature(content, self.key)):
            raise ModelRejectedError(f"model {version}'s signature does not match its content")
        return parse_model(content, expected_features)

    def named(self, role: str) -> str | None:
        """The version named ``champion`` or ``challenger``, or None."""
        try:
            return (self.directory / role).read_text(encoding="ascii").strip() or None
        except OSError:
            return None

    def name(self, role: str, version: str | None) -> None:
        """Make ``version`` the ``role`` (None clears it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / role).write_text(version or "", encoding="ascii")

    def versions(self) -> list[str]:
        """The stored versions, oldest first."""
        return sorted(path.stem for path in self.directory.glob("*.json"))


def _safe(version: str) -> str:
    if not version or any(ch in version for ch in "/\\.") or len(version) > 64:  # noqa: PLR2004
        raise ModelRejectedError("not a model version")
    return version
