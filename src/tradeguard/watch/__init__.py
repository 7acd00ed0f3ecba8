"""The watcher runtime: a durable cursor over the audit trail, the NATS relay, partitions."""
