"""Jobs: background work operators care about, one active job per target, maintenance mode."""
