"""AML fixtures: the watch fixtures (an audit trail and the alert store) for the AML watcher."""

from unit.watch.conftest import kit, store

__all__ = ["kit", "store"]
