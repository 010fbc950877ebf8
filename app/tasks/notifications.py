"""Notifications, retried with backoff when the receiver is unreachable."""

from celery import shared_task
from flask import current_app

from app.notifications.senders import post_json, post_webhook, send_email

RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "max_retries": 6,
    "soft_time_limit": 30,
    "time_limit": 60,
}


@shared_task(name="notifications.webhook", **RETRY)
def webhook(text: str, blocks: list[dict] | None = None) -> None:
    url = current_app.extensions["settings"].notify_webhook_url
    if url is not None:
        post_webhook(str(url), text, blocks)


@shared_task(name="notifications.slack_response", **RETRY)
def slack_response(response_url: str, message: dict) -> None:
    # Slack's response_url is valid for 30 minutes and five uses; retries stay inside.
    post_json(response_url, message)


@shared_task(name="notifications.email", **RETRY)
def email(recipient: str, subject: str, body: str) -> None:
    send_email(current_app.extensions["settings"], recipient, subject, body)
