"""Rate limiting: limits per address, user and API key, adaptive throttling, load shedding.

Requests are limited by route class; a client whose requests are mostly refused gets
tighter limits; under overload low-priority routes are shed first. The gateway applies
them (``tradeguard.gateway.rate_limits``).
"""
