"""Trading core: order entry (``orders``), controls, matching, the order feed, reference data."""
