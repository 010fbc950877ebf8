"""Access requests: a person asks for a dataset, a steward allows or denies."""
