"""Accounts: signup, admin approval, refresh and access tokens (standalone mode)."""

from flask import Flask

from app.authz.accounts import register_account_reader, register_identity_reader


def init_accounts(app: Flask) -> None:
    """Let the doors (app/authz) read accounts without importing this room."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.extensions import db

    register_account_reader(app, lambda person_id: db.session.get(User, person_id))
    register_identity_reader(
        app,
        lambda issuer, subject: db.session.scalars(
            select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
        ).first(),
    )
