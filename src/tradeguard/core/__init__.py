"""Core primitives shared by every package: clock, ids, money, canonical JSON, errors."""
