"""What a DRS client may do: describe objects and get their access URLs (one action each).

Who asks is an `Actor` from the GA4GH door (app/authz/passports.py): a person with a
bearer token, whose grants decide, or a Passport holder, whose visas decide. Either
way the bytes are sealed to the account's own Crypt4GH key.
"""

import time
from datetime import timedelta

from flask import current_app

from app.access.policy import access_policy
from app.accounts.models import User
from app.audit_log import record
from app.authz import Actor
from app.database import utc_now
from app.drs import services
from app.drs.dispatch import enqueue_envelope
from app.drs.models import DrsEnvelope
from app.drs.schemas import (
    STREAM_ACCESS_ID,
    AccessMethod,
    AccessUrl,
    Authorizations,
    BulkAccessUrl,
    BulkAccessUrls,
    BulkObjectAccessId,
    BulkObjects,
    BulkSummary,
    Checksum,
    ContentsObject,
    DrsObject,
    Unresolved,
)
from app.drs.services import Blob, Bundle, StreamStillPreparing
from app.errors import DomainError, Forbidden
from app.extensions import db
from app.unit_of_work import after_commit, commit

#: A pending envelope older than this is queued again (its task may have been lost).
REQUEUE_AFTER = timedelta(seconds=60)


class NoDownloadRight(Forbidden):
    """Nothing you hold opens this object."""

    code = "drs_access_denied"


def describe(actor: Actor, object_id: str) -> DrsObject:
    """The object as the actor would fetch it; 202 while their stream is being prepared."""
    found = services.find_object(object_id)
    _opening(actor, found.datasets)
    blobs = found.blobs if isinstance(found, Bundle) else (found,)
    envelopes = _envelopes(actor, blobs)
    if isinstance(found, Bundle):
        return _bundle(found, envelopes)
    return _blob(found, envelopes[0])


def access_url(actor: Actor, object_id: str, access_id: str) -> AccessUrl:
    """A short-lived URL of the actor's stream; audited with what opened it."""
    services.require_access_id(access_id)
    found = services.find_object(object_id)
    if isinstance(found, Bundle):
        raise services.AccessIdNotFound("A bundle has no bytes; fetch its contents")
    opened_by = _opening(actor, found.datasets)
    (envelope,) = _envelopes(actor, (found,))
    record(
        actor,
        "drs_access_url_issued",
        f"object={object_id} file_id={envelope.file_id} opened_by={opened_by}",
    )
    commit()
    return AccessUrl(url=services.stream_url(envelope))


def authorizations(object_id: str) -> Authorizations:
    services.find_object(object_id)
    settings = current_app.extensions["settings"]
    issuers = [issuer.iss for issuer in settings.passport_trusted_issuers]
    bearer_issuer = (
        settings.oidc_issuer
        if settings.auth_mode == "external" and settings.oidc_issuer
        else str(settings.public_base_url).rstrip("/")
    )
    return Authorizations(
        drs_object_id=object_id,
        supported_types=["BearerAuth", "PassportAuth"] if issuers else ["BearerAuth"],
        passport_auth_issuers=issuers,
        bearer_auth_issuers=[bearer_issuer],
    )


def describe_many(actor: Actor, object_ids: list[str]) -> BulkObjects:
    resolved, unresolved = [], {}
    for object_id in dict.fromkeys(object_ids):
        try:
            resolved.append(describe(actor, object_id))
        except DomainError as error:
            unresolved.setdefault(error.status, []).append(object_id)
    return BulkObjects(
        summary=_summary(len(object_ids), len(resolved)),
        unresolved_drs_objects=_unresolved(unresolved),
        resolved_drs_object=resolved,
    )


def access_urls(actor: Actor, wanted: list[BulkObjectAccessId]) -> BulkAccessUrls:
    resolved, unresolved = [], {}
    for item in wanted:
        for access_id in item.bulk_access_ids:
            try:
                url = access_url(actor, item.bulk_object_id, access_id)
            except DomainError as error:
                unresolved.setdefault(error.status, []).append(item.bulk_object_id)
                continue
            resolved.append(
                BulkAccessUrl(
                    drs_object_id=item.bulk_object_id, drs_access_id=access_id, url=url.url
                )
            )
    return BulkAccessUrls(
        summary=_summary(len(wanted), len({r.drs_object_id for r in resolved})),
        unresolved_drs_objects=_unresolved(unresolved),
        resolved_drs_object_access_urls=resolved,
    )


def _summary(requested: int, resolved: int) -> BulkSummary:
    return BulkSummary(requested=requested, resolved=resolved, unresolved=requested - resolved)


def _unresolved(by_status: dict[int, list[str]]) -> list[Unresolved]:
    return [Unresolved(error_code=status, object_ids=ids) for status, ids in by_status.items()]


def _opening(actor: Actor, datasets: tuple[str, ...]) -> str:
    """What opens one of `datasets` for the actor (for the audit record), or 403."""
    if actor.passport:
        visa = actor.visa_for(datasets, time.time())
        if visa is None:
            why = f" ({'; '.join(actor.refused_visas)})" if actor.refused_visas else ""
            raise NoDownloadRight(
                f"No visa in the Passport opens {' or '.join(datasets) or 'this object'}{why}"
            )
        return visa.description
    policy = access_policy()
    for dataset in datasets:
        if policy.download_access_until(actor.user_id, dataset) is not None:
            return f"grant dataset={dataset}"
    if any(policy.download_waits_for_iva(actor.user_id, dataset) for dataset in datasets):
        raise NoDownloadRight(
            "Your grant waits for its verification address to be verified",
            code="iva_not_verified",
        )
    raise NoDownloadRight(
        f"You have no current download grant for {' or '.join(datasets) or 'this object'}"
    )


def _envelopes(actor: Actor, blobs) -> list[DrsEnvelope]:
    """The actor's ready envelope of each blob; made and queued when missing (then 202)."""
    account = db.session.get(User, actor.user_id)
    key = services.recipient_key(account)
    envelopes, waiting = [], False
    for blob in blobs:
        envelope, new = services.envelope_of(actor.user_id, blob, key)
        envelopes.append(envelope)
        if envelope.ready_at is None:
            waiting = True
            if new or envelope.created_at < utc_now() - REQUEUE_AFTER:
                after_commit(enqueue_envelope, envelope.id)
    if waiting:
        commit()
        raise StreamStillPreparing()
    return envelopes


def _blob(blob: Blob, envelope: DrsEnvelope) -> DrsObject:
    file = blob.file
    return DrsObject(
        id=blob.accession,
        name=f"{blob.accession}{file.extension}.c4gh",
        self_uri=services.drs_uri(blob.accession),
        size=envelope.size,
        created_time=services.created_time(blob),
        checksums=[Checksum(checksum=envelope.sha256, type="sha-256")],
        description=file.description or "",
        aliases=list(blob.datasets),
        access_methods=[AccessMethod(access_id=STREAM_ACCESS_ID)],
    )


def _bundle(bundle: Bundle, envelopes: list[DrsEnvelope]) -> DrsObject:
    dataset = bundle.dataset
    return DrsObject(
        id=dataset.accession,
        name=dataset.accession,
        self_uri=services.drs_uri(dataset.accession),
        size=sum(envelope.size for envelope in envelopes),
        created_time=min(
            (services.created_time(blob) for blob in bundle.blobs), default=dataset.updated_at
        ),
        updated_time=dataset.updated_at,
        mime_type="application/json",
        checksums=[
            Checksum(
                checksum=services.bundle_checksum([e.sha256 for e in envelopes]), type="sha-256"
            )
        ],
        description=dataset.description or dataset.title,
        aliases=[dataset.title],
        contents=[
            ContentsObject(
                name=f"{blob.accession}{blob.file.extension}.c4gh",
                id=blob.accession,
                drs_uri=[services.drs_uri(blob.accession)],
            )
            for blob in bundle.blobs
        ],
    )
