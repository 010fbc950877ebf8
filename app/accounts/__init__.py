"""Accounts: signup, admin approval, refresh and access tokens (standalone mode)."""
