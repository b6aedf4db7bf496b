"""Durable queues: work that must survive a dependency outage or a restart."""
