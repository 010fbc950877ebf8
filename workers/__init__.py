"""The worker processes: Celery (main.py: worker and beat) and the Kafka consumer.

They import the app; the app never imports them (the tasks are app.tasks).
"""
