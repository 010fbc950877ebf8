"""Secrets the test run has made, so that the logs can be searched for them at the end."""

SECRETS: set[str] = set()


def remember(secret: str) -> str:
    if secret and len(secret) >= 16:
        SECRETS.add(secret)
    return secret
