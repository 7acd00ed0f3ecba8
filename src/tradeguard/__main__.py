"""Allow ``python -m tradeguard``."""

from tradeguard.cli.main import main

main()
