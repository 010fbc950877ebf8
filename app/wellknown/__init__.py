"""Public values clients and storage services need: keys and URLs."""
