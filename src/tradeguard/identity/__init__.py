"""Identity: people, their credentials and factors, sessions, tokens and devices."""
