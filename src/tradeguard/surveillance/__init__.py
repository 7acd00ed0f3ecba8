"""Market surveillance: wash trading, spoofing, layering, pump and dump, front-running."""
