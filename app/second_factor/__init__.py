"""The second factor (TOTP with recovery codes) and the two levels of a session."""
