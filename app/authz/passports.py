"""The GA4GH door (DRS, ADR 28 and 29): a person's bearer token, or their Passports.

A bearer token is a person's internal token made after the second factor, of an
active account; the person's grants then decide. A request carrying Passports is a
*Passport holder*: each Passport must verify (app/credentials/passports.py) and its
`iss` + `sub` must be linked to one active account here (as provider identities are
linked), which is whose Crypt4GH key the bytes are sealed to; its visas, not the
account's grants, decide which datasets open (no IVA check: the DAC that signed the
visa answers for the person).
"""

from flask import current_app, request

from app.authz.accounts import find_account, find_account_by_identity, refuse_if_cut_off
from app.authz.actor import Actor, VisaGrant
from app.authz.levels import refuse_without_second_factor
from app.credentials.bearer import bearer_credential
from app.credentials.internal_tokens import verify_internal_token
from app.credentials.keys import token_keys
from app.credentials.passports import (
    KeySets,
    PassportRefused,
    dataset_of,
    trusted_pairs,
    verify_passport,
)
from app.errors import Forbidden, Unauthorized

KEY_SETS = "passport_key_sets"


class PassportSubjectUnknown(Forbidden):
    """The Passport's subject is linked to no active account here."""

    code = "passport_subject_unknown"


def drs_actor(passports: list[str] | None = None) -> Actor:
    """Who asks a DRS route: a Passport holder when `passports` are given, else the
    person of the bearer token. 401 without either; 403 for a token made before the
    second factor or an account that is not active."""
    if passports:
        return passport_actor(passports)
    if "Authorization" not in request.headers:
        raise Unauthorized(
            "This needs a bearer token made after your second factor, or GA4GH Passports "
            "in a POST body",
            code="not_authenticated",
        )
    user = verify_internal_token(bearer_credential(), token_keys())
    account = find_account(user.id)
    if account is None or not account.is_active:
        raise Forbidden("This needs an active account", code="account_not_active")
    refuse_if_cut_off(account, user.iat)
    refuse_without_second_factor(user)
    return Actor.person(account.id, account.role, "api")


def passport_actor(passports: list[str]) -> Actor:
    settings = current_app.extensions["settings"]
    trusted = trusted_pairs(settings.passport_trusted_issuers)
    if not trusted:
        raise PassportRefused("This service trusts no Passport issuer")
    keys: KeySets = current_app.extensions[KEY_SETS]
    datasets_url = f"{str(settings.public_base_url).rstrip('/')}/datasets"
    visas: list[VisaGrant] = []
    refused: list[str] = []
    account_id = None
    for token in passports:
        passport = verify_passport(token, trusted, keys)
        account = find_account_by_identity(passport.issuer, passport.subject)
        if account is None or not account.is_active:
            raise PassportSubjectUnknown(
                f"The Passport's subject {passport.subject!r} of {passport.issuer} is linked to "
                "no active account here; sign in once with that identity to link it"
            )
        if account_id is not None and account.id != account_id:
            raise Forbidden("The Passports are of different people", code="passports_mixed")
        account_id = account.id
        refused += passport.refused
        for visa in passport.visas:
            dataset = dataset_of(visa.value, datasets_url, settings.passport_dataset_aliases)
            if dataset is None:
                refused.append(f"a visa's value {visa.value!r} names no dataset here")
                continue
            visas.append(VisaGrant(dataset, min(visa.expires, passport.expires), visa.describe()))
    return Actor.passport_holder(account_id, tuple(visas), tuple(refused))
