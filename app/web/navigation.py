"""The navigation bar: what each person may use, and nothing else.

Entries name endpoints; a page that needs a permission declares it with
`app.authz.pages.page_requires`, and an entry shows when the person's role holds it
(the one table in app/authz/permissions.py).
"""

from dataclasses import dataclass

from flask import request, url_for

from app.authz.pages import opens_for, web_actor
from app.authz.sessions import current_person


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str


NAV_ITEMS = (
    NavItem("Catalog", "portal.catalog"),
    NavItem("My access", "portal.my_access"),
    NavItem("Work packages", "portal.work_packages"),
    NavItem("Requests", "portal.steward_requests"),
    NavItem("Grants", "portal.steward_grants"),
    NavItem("Datasets & boxes", "portal.steward_catalog"),
    NavItem("Verification", "second_factor.steward_ivas"),
    NavItem("Dead events", "portal.dead_events"),
    NavItem("People", "admin.users"),
    NavItem("Operations", "portal.admin_operations"),
    NavItem("Keys", "portal.admin_keys"),
    NavItem("Addresses", "second_factor.ivas"),
    NavItem("Profile", "portal.profile"),
)


def navigation_for() -> list[dict]:
    person = current_person(active_only=True)
    if person is None:
        return []
    actor = web_actor(person)
    items = []
    for item in NAV_ITEMS:
        if not opens_for(actor, item.endpoint):
            continue
        href = url_for(item.endpoint)
        items.append({"label": item.label, "href": href, "current": request.path == href})
    return items
