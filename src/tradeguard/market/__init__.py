"""Market data feeds, the consolidated quote, volatility bands and Rule 606 reports."""
