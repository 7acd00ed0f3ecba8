"""Order entry: the desk (single writer), booking, recovery, the account's own views and routes."""
