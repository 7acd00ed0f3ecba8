"""Order routing to venues: the best-execution policy, FIX sessions, records, quality."""
