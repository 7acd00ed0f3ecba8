"""Fraud and account-takeover defence: profiles, features, the model, decisions, recovery."""
