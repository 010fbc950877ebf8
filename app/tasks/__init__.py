"""Celery tasks. Each catches everything at its edge, so a task always ends cleanly."""
