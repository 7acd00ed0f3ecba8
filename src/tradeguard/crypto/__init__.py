"""Cryptography: the master key, and later the keyring, field encryption and signing keys."""
