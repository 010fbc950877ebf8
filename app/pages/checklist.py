"""The start page as a checklist: each person's next steps, their state and a link each.

Read-only: it asks the domains' services what is true for the person now and says
what to do next; every step it links to is a page that does it.
"""

from dataclasses import dataclass
from uuid import UUID

from flask import current_app, url_for

from app.access.models import AccessRequest
from app.access.requests import services as access_requests
from app.access.requests.schemas import AccessRequestQuery, RequestStatus
from app.ivas import services as ivas
from app.ivas.models import IvaState
from app.pages.factor import factor_step

#: Address states as the person reads them, most advanced first.
ADDRESS_STATES = (
    ("verified", {IvaState.VERIFIED}),
    ("enter code", {IvaState.CODE_TRANSMITTED}),
    ("waiting for code", {IvaState.CODE_REQUESTED, IvaState.CODE_CREATED}),
    ("not yet asked", {IvaState.UNVERIFIED}),
)


@dataclass(frozen=True)
class Step:
    """One line of the checklist: what, its state, what to do about it."""

    key: str
    title: str
    state: str
    detail: str
    done: bool
    link: str | None = None
    link_label: str | None = None


def address_summary(user_id: UUID) -> str:
    """ "none", or the most advanced state among the person's verification addresses."""
    states = {IvaState(iva.state) for iva in ivas.list_for(user_id)}
    for name, group in ADDRESS_STATES:
        if states & group:
            return name
    return "none"


def steps_for(person) -> list[Step]:
    settings = current_app.extensions["settings"]
    steps = []
    if settings.require_second_factor:
        steps.append(_second_factor_step(person))
    steps.append(_address_step(person, settings.require_iva_for_download))
    steps.append(_requests_step(person))
    return steps


def _second_factor_step(person) -> Step:
    step = factor_step("/")
    title = "Second factor"
    if step is None:
        return Step("second-factor", title, "passed", "Passed in this session.", True)
    if step.enrolled:
        detail = "Set up; enter a code from your app to create work packages in this session."
        return Step("second-factor", title, "enter code", detail, False, step.url, step.label)
    detail = (
        "Work packages and API tokens need a code from an app on your phone as well as "
        "your sign-in. It takes two minutes."
    )
    return Step("second-factor", title, "not set up", detail, False, step.url, step.label)


def _address_step(person, required: bool) -> Step:
    state = address_summary(person.id)
    link = url_for("second_factor.ivas")
    title = "Verification address"
    why = "Download access is bound to a verified address (a phone, fax or postal address)."
    if not required and state == "none":
        return Step(
            "address",
            title,
            "optional",
            "No address yet; downloads do not need one here.",
            True,
            link,
            "Add an address",
        )
    texts = {
        "none": (f"{why} Add one; a data steward then sends you a code.", "Add an address"),
        "not yet asked": (
            "Added. Ask for verification, and a data steward sends you a code.",
            "Request verification",
        ),
        "waiting for code": ("A data steward will send you a code through it.", "See the address"),
        "enter code": ("A code is on its way to you: enter it.", "Enter the code"),
        "verified": ("Verified: downloads bound to it work.", "Your addresses"),
    }
    detail, label = texts[state]
    return Step("address", title, state, detail, state == "verified", link, label)


def _requests_step(person) -> Step:
    mine, _ = access_requests.listing(AccessRequestQuery(user_id=person.id, limit=100))
    catalog = url_for("portal.catalog")
    my_access = url_for("portal.my_access")
    title = "Access to a dataset"
    if not mine:
        detail = "Find a dataset in the catalog and request access from its page."
        return Step("access", title, "none yet", detail, False, catalog, "Browse the catalog")
    # A request waiting for the person's address comes first; else the newest one.
    latest = next((item for item in mine if waits_for_address(item, person.id)), mine[-1])
    target = latest.dataset_accession or "an upload box"
    if latest.status == RequestStatus.PENDING:
        if waits_for_address(latest, person.id):
            detail = (
                f"Your request for {target} waits for your verification address: a data "
                "steward asked you to add one."
            )
            return Step(
                "access",
                title,
                "waiting for your address",
                detail,
                False,
                url_for("second_factor.ivas"),
                "Add an address",
            )
        detail = f"Your request for {target} waits for a data steward's decision."
        return Step("access", title, "waiting", detail, False, my_access, "My access")
    if latest.status == RequestStatus.DENIED:
        note = f" The steward wrote: “{latest.decision_note}”" if latest.decision_note else ""
        detail = f"Your request for {target} was denied.{note}"
        return Step("access", title, "denied", detail, False, my_access, "My access")
    detail = f"Your request for {target} was allowed."
    return Step(
        "access",
        title,
        "allowed",
        detail,
        True,
        url_for("portal.work_packages"),
        "Create a work package",
    )


def waits_for_address(request: AccessRequest, user_id: UUID) -> bool:
    """A pending download request a steward asked an address for, while the person has none."""
    return (
        request.status == RequestStatus.PENDING
        and request.address_asked_at is not None
        and not ivas.list_for(user_id)
    )
