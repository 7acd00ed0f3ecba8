"""Storage: engine, declarative base, sessions and migrations."""
