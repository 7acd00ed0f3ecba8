"""Anti-money-laundering: transaction monitors, currency and suspicious activity reports."""
