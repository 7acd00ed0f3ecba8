"""FIX 4.4 over TLS: the message codec, the session layer, the initiator."""
