"""Enqueueing notifications after the commit; a broker that is down only costs the message."""

import logging

from flask import current_app

log = logging.getLogger(__name__)


def notify_operators(text: str) -> None:
    if current_app.extensions["settings"].notify_webhook_url is None:
        return
    _enqueue("notifications.webhook", text)


def email_user(recipient: str, subject: str, body: str) -> None:
    if current_app.extensions["settings"].smtp_host is None:
        log.info("no SMTP_HOST configured; e-mail %r not sent", subject)
        return
    _enqueue("notifications.email", recipient, subject, body)


def _enqueue(task_name: str, *arguments) -> None:
    task = current_app.extensions["celery"].tasks[task_name]
    try:
        task.apply_async(arguments, retry=False)
    except Exception as error:  # never fail the caller for a notification
        log.warning("notification %s not sent: %s", task_name, type(error).__name__)
