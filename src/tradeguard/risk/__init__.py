"""Pre-trade risk: pure checks over an in-memory risk context, run by the risk engine."""
