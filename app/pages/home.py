"""`/`: what the service is, or the signed-in person's next steps."""

from flask import render_template

from app.access.policy import access_policy
from app.access.requests import services as access_requests
from app.access.requests.schemas import AccessRequestQuery, RequestStatus
from app.accounts.models import UserStatus
from app.accounts.schemas import UserQuery
from app.accounts.services import list_users
from app.authz import Permission
from app.authz.pages import web_actor
from app.authz.sessions import current_person
from app.feeds.models import EventStatus
from app.feeds.schemas import EventQuery
from app.feeds.services import list_events
from app.ivas import services as ivas
from app.ivas.models import IvaState
from app.jobs import maintenance
from app.pages import bp
from app.pages.checklist import steps_for
from app.second_factor import notices as second_factor_notices
from app.work_packages.services import accessible_boxes, accessible_datasets, active_packages


@bp.get("/")
def home():
    person = current_person()
    if person is None or person.status != UserStatus.ACTIVE:
        return render_template("portal/home_public.html", person=person)
    actor = web_actor(person)
    mine = AccessRequestQuery(user_id=person.id, status=RequestStatus.PENDING, limit=1)
    context = {
        "person": person,
        # What waits for the person, by what their role holds (the one table).
        "stewarding": actor.entitled_to(Permission.DATA_STEWARD),
        "administering": actor.entitled_to(Permission.ADMIN),
        "datasets": accessible_datasets(person.id),
        "boxes": accessible_boxes(person.id),
        "packages": active_packages(person.id),
        "my_pending": access_requests.listing(mine)[1],
        "external_access": not access_policy().local,
        "second_factor_change": second_factor_notices.recent_change(person.id),
        "steps": steps_for(person),
    }
    if context["stewarding"]:
        waiting = AccessRequestQuery(status=RequestStatus.PENDING, limit=1)
        context["requests_waiting"] = access_requests.listing(waiting)[1]
        context["codes_to_create"] = len(ivas.listing({IvaState.CODE_REQUESTED}))
        context["codes_to_send"] = len(ivas.listing({IvaState.CODE_CREATED}))
    if context["administering"]:
        context["accounts_waiting"] = list_users(UserQuery(status=UserStatus.PENDING, limit=1))[1]
        context["dead_events"] = list_events(EventQuery(status=EventStatus.DEAD, limit=1))[1]
        context["maintenance"] = maintenance.current()
    return render_template("portal/home.html", **context)
