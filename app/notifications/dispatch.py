"""Enqueueing notifications after the commit; a broker that is down only costs the message."""

import logging
from urllib.parse import urlsplit

from flask import current_app

from app.dispatch import enqueue

log = logging.getLogger(__name__)


def notify_operators(text: str, blocks: list[dict] | None = None) -> None:
    """Post to the operators' webhook; `blocks` (Slack Block Kit) when given, `text` always."""
    if current_app.extensions["settings"].notify_webhook_url is None:
        return
    enqueue("notifications.webhook", text, blocks)


def answer_slack(response_url: str, message: dict) -> None:
    """Replace or follow up a Slack message through the `response_url` Slack gave.

    Only an https URL on a host of SLACK_RESPONSE_URL_HOSTS is followed: the server
    would otherwise post wherever a payload pointed it. The URL's path is a
    credential (it can post to the channel), so a refusal logs the host only.
    """
    hosts = current_app.extensions["settings"].slack_response_url_hosts
    try:
        parts = urlsplit(response_url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme != "https" or host not in hosts or parts.username:
        log.warning(
            "Slack response_url not followed: %s://%s is not https on a host of "
            "SLACK_RESPONSE_URL_HOSTS",
            parts.scheme if parts else "?",
            host,
        )
        return
    enqueue("notifications.slack_response", response_url, message)


def email_user(recipient: str, subject: str, body: str) -> None:
    if current_app.extensions["settings"].smtp_host is None:
        log.info("no SMTP_HOST configured; e-mail %r not sent", subject)
        return
    enqueue("notifications.email", recipient, subject, body)
