"""Telling people: a Slack-compatible webhook for operators, e-mail for users.

Messages are sent by Celery tasks after the request's commit, with retries, so a
slow or failing receiver never slows or fails the request.
"""
