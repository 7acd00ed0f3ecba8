"""Money movement of the main service: bank links, deposits and withdrawals."""
