"""HTTP plumbing shared by every domain: middleware, problems, metrics, health, docs."""
