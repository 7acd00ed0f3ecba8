"""The ``tradeguard`` command line, one module per area."""
