"""Entry point for `celery -A workers.main worker` and `celery -A workers.main beat`."""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
# Beat may run as two replicas: only the one holding the lock sends (workers/beat.py).
celery.conf.beat_scheduler = "workers.beat:LockedScheduler"
