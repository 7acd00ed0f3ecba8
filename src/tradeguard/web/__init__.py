"""What routes declare and reach: permissions (``routing``), services (``provide``), docs."""
