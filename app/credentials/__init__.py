"""Credentials: internal tokens, work package access tokens, work order tokens."""
