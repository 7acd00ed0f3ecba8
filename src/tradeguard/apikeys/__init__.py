"""API keys: per-user keys with a scope, HMAC-SHA256 request signing and replay protection."""
