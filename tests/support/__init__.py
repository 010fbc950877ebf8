"""Test helpers: factories, people, receivers, live services and the fixtures some hold."""
