"""Kafka: the consumer that stores GHGA's event topics in the feeds inbox (ADR 15)."""
