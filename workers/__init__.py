"""Celery workers: the app binding, the tasks and the beat schedule."""
