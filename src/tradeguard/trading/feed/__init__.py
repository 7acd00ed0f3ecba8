"""The order feed: the hub of per-user events and the WebSocket route."""
