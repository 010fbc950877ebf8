"""The navigation bar: what each person may use, and nothing else.

Entries name endpoints; an entry whose blueprint is not registered is left out,
so features can land one at a time.
"""

from dataclasses import dataclass

from flask import current_app, request, url_for

from app.web.session import current_person, person_role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    #: Roles that see the entry; empty means every signed-in, active person.
    roles: frozenset = frozenset()


RESEARCHER, STEWARD, ADMIN = "researcher", "steward", "admin"

NAV_ITEMS = (
    NavItem("Catalog", "portal.catalog"),
    NavItem("My access", "portal.my_access"),
    NavItem("Work packages", "portal.work_packages"),
    NavItem("Requests", "portal.steward_requests", frozenset({STEWARD, ADMIN})),
    NavItem("Grants", "portal.steward_grants", frozenset({STEWARD, ADMIN})),
    NavItem("Datasets & boxes", "portal.steward_catalog", frozenset({STEWARD, ADMIN})),
    NavItem("Verification", "second_factor.steward_ivas", frozenset({STEWARD, ADMIN})),
    NavItem("Dead events", "portal.dead_events", frozenset({STEWARD, ADMIN})),
    NavItem("People", "admin.users", frozenset({ADMIN})),
    NavItem("Operations", "portal.admin_operations", frozenset({ADMIN})),
    NavItem("Keys", "portal.admin_keys", frozenset({ADMIN})),
    NavItem("Addresses", "second_factor.ivas"),
    NavItem("Profile", "portal.profile"),
)


def navigation_for() -> list[dict]:
    person = current_person(active_only=True)
    if person is None:
        return []
    role = person_role(person)
    items = []
    for item in NAV_ITEMS:
        if item.endpoint not in current_app.view_functions:
            continue
        if item.roles and role not in item.roles:
            continue
        href = url_for(item.endpoint)
        items.append({"label": item.label, "href": href, "current": request.path == href})
    return items
