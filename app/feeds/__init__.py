"""Change feeds: an inbox of events from other systems, applied in order per key."""
