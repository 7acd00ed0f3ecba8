"""The payment vault: a separate process that alone sees card numbers.

It keeps its own database, keys and settings; the main service reaches it only over
mutual TLS (``tradeguard.cards.client``), and browsers reach only its tokenization
endpoint, with a single-use intake ticket the main service asked for.
"""
