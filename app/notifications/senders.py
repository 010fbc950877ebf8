"""Delivering one message; errors propagate so the task can retry."""

import smtplib
from email.message import EmailMessage

import requests

TIMEOUT_SECONDS = 10


def post_webhook(url: str, text: str, blocks: list[dict] | None = None) -> None:
    body = {"text": text} | ({"blocks": blocks} if blocks else {})
    response = requests.post(url, json=body, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()


def post_json(url: str, body: dict) -> None:
    response = requests.post(url, json=body, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()


def send_email(settings, recipient: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message)
