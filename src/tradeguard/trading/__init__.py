"""Trading core: instruments, accounts, orders and the in-memory matching engine."""
