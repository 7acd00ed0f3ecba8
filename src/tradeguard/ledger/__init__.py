"""The double-entry cash journal: every movement of cash as balanced entries."""
