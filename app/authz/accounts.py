"""What the doors read of a person's account, through a reader the accounts room registers.

authz imports no domain room, so that every room can import it (ADR 23). At start-up
`init_accounts` (app/accounts) registers how to load an account by id; the doors
read of it only what `Account` names: the role, whether it is active or blocked,
and since when its credentials count (the cut-off, ADR 20).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from flask import current_app

from app.authz.errors import CredentialsReset

READER_KEY = "authz.account_reader"
IDENTITY_READER_KEY = "authz.identity_reader"


class Account(Protocol):
    id: UUID
    role: str | None
    credentials_valid_after: datetime | None

    @property
    def is_active(self) -> bool: ...

    @property
    def is_blocked(self) -> bool: ...


def register_account_reader(app, find: Callable[[UUID], Account | None]) -> None:
    app.extensions[READER_KEY] = find


def register_identity_reader(app, find: Callable[[str, str], Account | None]) -> None:
    app.extensions[IDENTITY_READER_KEY] = find


def find_account_by_identity(issuer: str, subject: str) -> Account | None:
    """The account linked to (issuer, subject), as provider identities are linked."""
    return current_app.extensions[IDENTITY_READER_KEY](issuer, subject)


def find_account(person_id: UUID) -> Account | None:
    return current_app.extensions[READER_KEY](person_id)


def issued_before_cut_off(account, issued_at: float | None) -> bool:
    """Whether a token or session made at `issued_at` (epoch seconds) was cut off.

    `account` is anything with `credentials_valid_after` (an account, or a row of it).
    Without a known time, a credential of a cut-off account counts as older.
    A token's `iat` is in whole seconds: one from the cut-off's own second is
    refused even if it was made just after (`wait_out_cut_off_second` in
    app/accounts/credentials.py keeps this service from making such tokens).
    """
    valid_after = account.credentials_valid_after
    if valid_after is None:
        return False
    return issued_at is None or issued_at < valid_after.timestamp()


def refuse_if_cut_off(account, issued_at: float | None) -> None:
    if issued_before_cut_off(account, issued_at):
        raise CredentialsReset()
