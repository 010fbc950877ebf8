"""What people and applications do with access, written once for every channel (ADR 23).

The JSON API, the steward's and researcher's pages and `invoke` call these; each
action checks the right, changes state through the services, writes the audit
record, commits, and only then tells whoever must hear of it.
"""

from uuid import UUID

from flask import current_app

from app.access import notices, services
from app.access.models import AccessGrant, AccessRequest
from app.access.requests import services as requests
from app.access.requests.schemas import AccessRequestCreation, Decision
from app.access.schemas import GrantRequest
from app.accounts.audit import record_event
from app.accounts.models import User
from app.authz import Actor, Permission
from app.credentials.internal_tokens import AuthUser
from app.errors import Forbidden
from app.extensions import db
from app.notifications.throttle import refuse_too_often
from app.unit_of_work import after_commit, commit

OWN_REQUEST = (
    "You cannot decide your own access request: another data steward, an admin, "
    "or an application key with DATA_STEWARD decides it."
)


def make_request(actor: Actor, requester: AuthUser, creation: AccessRequestCreation):
    """A pending request of `requester`, who is the person acting; the stewards hear of
    it (once per target and REPEAT_NOTICE_MINUTES), and a person has a limit (ADR 22)."""
    if not actor.is_person(requester.id):
        raise Forbidden("A person asks for access for themself only", code="other_user")
    limit = current_app.extensions["settings"].access_request_limit
    refuse_too_often(
        requester.id,
        "access_request",
        limit,
        f"You have made too many access requests (at most {limit}); the data stewards "
        "have the ones you sent. Try again later.",
    )
    request = requests.create(requester, creation)
    after_commit(notices.request_created, request)
    commit()
    return request


def allow_request(actor: Actor, request_id: UUID, decision: Decision) -> AccessRequest:
    """Allow a pending request: the grant is made and the requester is told."""
    _may_decide(actor, request_id)
    request = requests.allow(request_id, decision, actor.label)
    return _decided(actor, request, "allowed")


def deny_request(actor: Actor, request_id: UUID, decision: Decision) -> AccessRequest:
    """Deny a pending request; the requester is told (with the steward's note)."""
    _may_decide(actor, request_id)
    request = requests.deny(request_id, decision, actor.label)
    return _decided(actor, request, "denied")


def ask_for_address(actor: Actor, request_id: UUID) -> AccessRequest:
    """Ask the requester of a pending download request to add a verification address:
    their start page says so (and an e-mail, when SMTP is set)."""
    _may_decide(actor, request_id)
    request = requests.ask_for_address(request_id)
    _record(actor, request.user_id, "verification_address_asked", _target(request))
    after_commit(notices.ask_for_address, request)
    commit()
    return request


def _may_decide(actor: Actor, request_id: UUID) -> None:
    actor.require(Permission.DATA_STEWARD)
    # Four eyes, before anything else is looked at: a steward (or admin) granting
    # themself access would need no one else.
    actor.refuse_own(requests.requester_of(request_id), OWN_REQUEST, code="own_access_request")


def _decided(actor: Actor, request: AccessRequest, outcome: str) -> AccessRequest:
    _record(actor, request.user_id, f"access_request_{outcome}", _target(request))
    after_commit(notices.tell_requester, request, outcome)
    commit()
    return request


def create_grant(actor: Actor, grant_request: GrantRequest) -> AccessGrant:
    actor.require(Permission.DATA_STEWARD)
    grant = services.create_grant(grant_request, granted_by=actor.label)
    _record(actor, grant.user_id, "grant_created", _target(grant))
    commit()
    return grant


def revoke_grant(actor: Actor, grant_id: UUID) -> AccessGrant:
    """Revoke the grant (again: the first revocation time stays); its work packages
    stop answering at their next use."""
    actor.require(Permission.DATA_STEWARD)
    grant = services.revoke_grant(grant_id)
    _record(actor, grant.user_id, "grant_revoked", _target(grant))
    commit()
    return grant


def _target(item: AccessRequest | AccessGrant) -> str:
    target = item.dataset_accession or f"upload box {item.upload_box_id}"
    return f"{item.kind} access to {target}"


def _record(actor: Actor, user_id: UUID, action: str, detail: str) -> None:
    """In the accounts' audit list, under the person whose access changed.

    Someone with no account here (a grant made ahead of a first sign-in, an
    external identity) has no list: the request's `decided_by` and the grant's
    `granted_by` are then the record.
    """
    if db.session.get(User, user_id) is not None:
        record_event(user_id, action, actor.label, actor.channel, detail)
