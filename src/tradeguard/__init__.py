"""TradeGuard: security, risk and compliance core for stock-trading platforms."""

__version__ = "0.1.0"
