"""The portal's pages, driven with the test client as a person uses them.

Sign-in is written into the session (tests/support/web_sessions.py); the browser suite
signs in through the real provider. Everything else is real: PostgreSQL, the
domain services, the JSON API the tokens are used with.
"""

import base64
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from nacl.public import PrivateKey, SealedBox
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from app.access.models import AccessGrant, AccessRequest
from app.accounts.models import RefreshToken
from app.authz.application_keys import Application
from app.feeds.models import EventStatus, InboxEvent
from app.jobs import maintenance
from app.jobs.models import MaintenanceChange
from app.work_packages.models import WorkPackage
from tests.support.factories import create_dataset, create_upload_box, grant, verified_iva
from tests.support.people import make_person
from tests.support.secrets_seen import remember
from tests.support.web_sessions import (
    TOKEN_LINE,
    browser_client,
    only_h1,
    read_page,
    sign_in,
    submit,
)


@pytest.fixture
def client(app, db):
    return browser_client(app)


@pytest.fixture
def researcher(db, client):
    person = make_person(name="Ada Lovelace", email="ada@example.org")
    sign_in(client, person)
    return person


@pytest.fixture
def admin_client(app, db):
    admin = make_person(name="Grace Hopper", email="grace@example.org", role="admin")
    other = browser_client(app)
    sign_in(other, admin)
    other.person = admin
    return other


def key_file(public: bytes) -> str:
    encoded = base64.b64encode(public).decode()
    return f"-----BEGIN CRYPT4GH PUBLIC KEY-----\n{encoded}\n-----END CRYPT4GH PUBLIC KEY-----\n"


def count(db, model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


# --- signed out -------------------------------------------------------------------


def test_signed_out_home_says_what_the_service_is(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "work package" in only_h1(response)
    assert read_page(response).contains("ghga-connector")


# --- researcher -------------------------------------------------------------------


def test_catalog_is_searchable_and_paged(client, researcher):
    for number in range(25):
        create_dataset(f"DS{number:02d}", files=1)

    first = read_page(client.get("/catalog"))
    assert first.title == "Catalog · Work Package Service"
    assert first.contains("25 datasets") and first.contains("Page 1 of 2")
    assert "DS24" not in first.text
    assert "DS24" in read_page(client.get("/catalog?page=2")).text

    found = read_page(client.get("/catalog?q=ds07"))
    assert found.contains("1 dataset matching “ds07”") and "DS08" not in found.text
    assert read_page(client.get("/catalog?q=%25")).contains("No dataset matches")


def test_bad_page_number_is_a_readable_400(client, researcher):
    response = client.get("/catalog?page=zero")
    assert response.status_code == 400
    assert read_page(response).contains("must be a whole number")


def test_dataset_page_pages_its_files_and_shows_the_access_state(client, researcher):
    create_dataset("BIG", files=60)
    page = read_page(client.get("/catalog/BIG"))
    assert "GHGAFBIG0049" in page.text and "GHGAFBIG0050" not in page.text
    assert page.contains("Your access none") and page.contains("Request access")
    assert "GHGAFBIG0059" in read_page(client.get("/catalog/BIG?page=2")).text
    assert client.get("/catalog/NOPE").status_code == 404


def test_request_access_reaches_the_steward_who_allows_it(db, client, researcher, admin_client):
    create_dataset("DS1")
    response = submit(
        client,
        "/catalog/DS1",
        "/catalog/DS1/request-access",
        {"note": "For my thesis", "valid_from": "", "valid_until": "2031-01-01"},
        follow_redirects=True,
    )
    assert response.request.path == "/my-access"
    mine = read_page(response)
    assert mine.contains("Your request for DS1 was sent") and mine.contains("DS1 pending")
    assert read_page(client.get("/catalog/DS1")).contains("request pending")

    steward_view = read_page(admin_client.get("/steward/access-requests"))
    assert steward_view.contains("ada@example.org → DS1") and "For my thesis" in steward_view.text
    assert steward_view.contains(
        "ada@example.org has none yet, so this request cannot be allowed now"
    )
    steward_html = admin_client.get("/steward/access-requests").get_data(as_text=True)
    assert '<button type="submit" disabled' in steward_html  # Allow waits for an address
    (pending,) = db.session.scalars(select(AccessRequest)).all()
    decision = {f"{pending.id}-valid_until": "2030-06-30", f"{pending.id}-note": "Enjoy"}
    unbound = submit(
        admin_client,
        "/steward/access-requests",
        f"/steward/access-requests/{pending.id}/allow",
        decision,
    )
    assert unbound.status_code == 422
    assert read_page(unbound).contains(
        "Choose one of the requester's verification addresses for download access."
    )

    # The steward asks the requester for an address; the requester's start page says so.
    asked = submit(
        admin_client,
        "/steward/access-requests",
        f"/steward/access-requests/{pending.id}/ask-for-address",
        follow_redirects=True,
    )
    assert read_page(asked).contains("ada@example.org was asked to add a verification address")
    assert read_page(asked).contains("You asked them to add one on")
    home = read_page(client.get("/"))
    assert home.contains("Your request for DS1 waits for your verification address")
    assert read_page(client.get("/my-access")).contains("waiting for your verification address")

    iva = verified_iva(researcher.id, "postal_address", "Parks Road, Oxford")
    steward_view = read_page(admin_client.get("/steward/access-requests"))
    assert steward_view.contains("Postal address: Parks Road, Oxford (verified)")
    allowed = submit(
        admin_client,
        "/steward/access-requests",
        f"/steward/access-requests/{pending.id}/allow",
        decision | {f"{pending.id}-iva_id": str(iva.id)},
        follow_redirects=True,
    )
    assert read_page(allowed).contains("Allowed: ada@example.org now has download access to DS1")
    db.session.rollback()
    (created,) = db.session.scalars(select(AccessGrant)).all()
    assert created.iva_id == iva.id
    assert created.valid_until == datetime(2030, 6, 30, tzinfo=UTC)
    assert created.granted_by == f"user:{admin_client.person.id}"
    grants_page = read_page(admin_client.get("/steward/grants"))
    assert grants_page.contains("Grace Hopper (grace@example.org)")  # not user:<uuid>

    mine = read_page(client.get("/my-access"))
    assert mine.contains("DS1 download active") and mine.contains("Enjoy")
    assert read_page(client.get("/catalog/DS1")).contains("granted until 2030-06-30")


def test_a_request_with_the_end_before_the_start_is_refused_on_the_page(db, client, researcher):
    create_dataset("DS1")
    response = submit(
        client,
        "/catalog/DS1",
        "/catalog/DS1/request-access",
        {"valid_from": "2030-01-02", "valid_until": "2030-01-01"},
    )
    assert response.status_code == 422
    assert read_page(response).contains("The end must be after the start.")
    assert count(db, AccessRequest) == 0


def test_a_grant_ending_in_the_past_is_refused_on_the_page(
    db, client, researcher, admin_client, steward_key
):
    create_dataset("DS1")
    submit(client, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "please"})
    (pending,) = db.session.scalars(select(AccessRequest)).all()
    iva = verified_iva(researcher.id)
    response = submit(
        admin_client,
        "/steward/access-requests",
        f"/steward/access-requests/{pending.id}/allow",
        {f"{pending.id}-valid_until": "2020-01-01", f"{pending.id}-iva_id": str(iva.id)},
    )
    assert response.status_code == 422
    assert read_page(response).contains("Must be after the start of access (")
    assert count(db, AccessGrant) == 0

    # The JSON API refuses the same decision with a 422 naming the field.
    refused = client.post(
        f"/access-requests/{pending.id}/allow",
        json={"valid_until": "2020-01-01T00:00:00Z", "iva_id": str(iva.id)},
        headers=steward_key,
    )
    assert refused.status_code == 422
    assert refused.json["detail"][0]["loc"] == ["body", "valid_until"]
    db.session.rollback()
    assert db.session.get(AccessRequest, pending.id).status == "pending"


def test_steward_denies_with_a_note(db, client, researcher, admin_client):
    create_dataset("DS1")
    submit(client, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "please"})
    (pending,) = db.session.scalars(select(AccessRequest)).all()
    submit(
        admin_client,
        "/steward/access-requests",
        f"/steward/access-requests/{pending.id}/deny",
        {"note": "Ask your PI to apply"},
    )
    assert read_page(client.get("/my-access")).contains("DS1 denied")
    assert "Ask your PI to apply" in read_page(client.get("/my-access")).text
    again = submit(admin_client, "/profile", f"/steward/access-requests/{pending.id}/deny")
    assert again.status_code == 409
    assert read_page(again).contains("already denied")


def test_download_work_package_shows_the_connector_line_once(db, app, client, researcher):
    create_dataset("DS1", files=3)
    grant(researcher.id, dataset="DS1")
    keys = PrivateKey.generate()

    form_page = read_page(client.get("/my-work-packages?dataset=DS1"))
    assert form_page.contains("Create download work package")
    response = submit(
        client,
        "/my-work-packages",
        "/my-work-packages/download",
        {
            "dataset_id": "DS1",
            "file_ids": "GHGAFDS10001, GHGAFDS10002",
            "user_public_crypt4gh_key": key_file(bytes(keys.public_key)),
        },
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = read_page(response)
    line = page.ids["connector-token"]
    package_id, sealed = TOKEN_LINE.match(line).groups()
    wpat = remember(SealedBox(keys).decrypt(base64.b64decode(sealed)).decode())
    assert "ghga-connector download --output-dir" in page.ids["connector-command"]
    details = client.get(
        f"/work-packages/{package_id}", headers={"Authorization": f"Bearer {wpat}"}
    )
    assert details.status_code == 200
    assert sorted(details.json["files"]) == ["GHGAFDS10001", "GHGAFDS10002"]

    listed = read_page(client.get("/my-work-packages"))
    assert package_id in listed.text and sealed not in listed.text


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "-----BEGIN CRYPT4GH PRIVATE KEY-----\nYWJj\n-----END CRYPT4GH PRIVATE KEY-----",
            "This looks like a private key; send the public key only.",
        ),
        ("not a key!", "The key is not valid base64."),
        (base64.b64encode(b"short").decode(), "The key must be 32 bytes, not 5."),
    ],
)
def test_bad_keys_get_a_clear_message_and_create_nothing(db, client, researcher, key, message):
    create_dataset("DS1")
    grant(researcher.id, dataset="DS1")
    response = submit(
        client,
        "/my-work-packages",
        "/my-work-packages/download",
        {"dataset_id": "DS1", "user_public_crypt4gh_key": key},
    )
    assert response.status_code == 422
    page = read_page(response)
    assert page.contains(message)
    assert "connector-token" not in page.ids
    assert key not in response.get_data(as_text=True)  # a refused key is not echoed
    assert count(db, WorkPackage) == 0


def test_datasets_without_a_grant_cannot_be_chosen(db, client, researcher):
    create_dataset("DS1")
    create_dataset("DS2")
    grant(researcher.id, dataset="DS1")
    response = submit(
        client,
        "/my-work-packages",
        "/my-work-packages/download",
        {"dataset_id": "DS2", "user_public_crypt4gh_key": key_file(bytes(32))},
    )
    assert response.status_code == 422
    assert read_page(response).contains("Not a valid choice")
    assert count(db, WorkPackage) == 0


def test_files_the_dataset_does_not_list_give_a_message(db, client, researcher):
    create_dataset("DS1")
    grant(researcher.id, dataset="DS1")
    response = submit(
        client,
        "/my-work-packages",
        "/my-work-packages/download",
        {
            "dataset_id": "DS1",
            "file_ids": "GHGAFOTHER",
            "user_public_crypt4gh_key": key_file(bytes(PrivateKey.generate().public_key)),
        },
    )
    assert response.status_code == 403
    assert read_page(response).contains(
        "No existing files have been specified: GHGAFOTHER is not a file of DS1."
    )
    assert count(db, WorkPackage) == 0


def test_upload_work_package_for_a_granted_box(db, client, researcher):
    box = create_upload_box(title="Cohort submissions")
    grant(researcher.id, box=box.id)
    keys = PrivateKey.generate()
    response = submit(
        client,
        "/my-work-packages",
        "/my-work-packages/upload",
        {
            "research_data_upload_box_id": str(box.id),
            "user_public_crypt4gh_key": base64.b64encode(bytes(keys.public_key)).decode(),
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = read_page(response)
    assert "ghga-connector batch-upload --tsv" in page.ids["connector-command"]
    package_id, sealed = TOKEN_LINE.match(page.ids["connector-token"]).groups()
    remember(SealedBox(keys).decrypt(base64.b64decode(sealed)).decode())
    db.session.rollback()
    assert db.session.get(WorkPackage, package_id).research_data_upload_box_id == box.id


# --- profile and API tokens -----------------------------------------------------------


def test_profile_makes_an_api_token_that_trades_and_can_be_revoked(db, client, researcher):
    profile = read_page(client.get("/profile"))
    assert profile.contains("E-mail ada@example.org") and profile.contains("Role researcher")
    assert profile.contains("You have no live API token")

    response = submit(client, "/profile", "/profile/api-tokens")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = remember(read_page(response).ids["api-token"])
    traded = client.post("/token/refresh", json={"refresh_token": token})
    assert traded.status_code == 200
    remember(traded.json["access_token"])
    remember(traded.json["refresh_token"])

    (live,) = db.session.scalars(select(RefreshToken).where(RefreshToken.used_at.is_(None))).all()
    assert token not in client.get("/profile").get_data(as_text=True)
    submit(client, "/profile", f"/profile/api-tokens/{live.family_id}/revoke")
    refused = client.post("/token/refresh", json={"refresh_token": traded.json["refresh_token"]})
    assert refused.status_code == 401
    assert read_page(client.get("/profile")).contains("You have no live API token")


def test_nobody_revokes_someone_elses_api_token(db, client, researcher, admin_client):
    submit(admin_client, "/profile", "/profile/api-tokens")
    (theirs,) = db.session.scalars(select(RefreshToken)).all()
    response = submit(client, "/profile", f"/profile/api-tokens/{theirs.family_id}/revoke")
    assert response.status_code == 404
    db.session.rollback()
    assert db.session.get(RefreshToken, theirs.id).revoked_at is None


def test_admin_reissues_a_persons_api_token(db, client, researcher, admin_client):
    old = remember(read_page(submit(client, "/profile", "/profile/api-tokens")).ids["api-token"])
    response = submit(
        admin_client, "/admin/keys", "/admin/api-tokens", {"account": "ADA@example.org"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = read_page(response)
    assert page.contains("New API token for ada@example.org")
    new = remember(page.ids["api-token"])
    assert client.post("/token/refresh", json={"refresh_token": old}).status_code == 401
    traded = client.post("/token/refresh", json={"refresh_token": new})
    assert traded.status_code == 200
    remember(traded.json["access_token"])
    remember(traded.json["refresh_token"])

    unknown = submit(admin_client, "/admin/keys", "/admin/api-tokens", {"account": "x@y.org"})
    assert unknown.status_code == 404
    assert read_page(unknown).contains("No account for x@y.org")


# --- steward ----------------------------------------------------------------------------


def test_steward_finds_grants_by_dataset_and_person_and_revokes(
    db, client, researcher, admin_client
):
    create_dataset("DS1")
    create_dataset("DS2")
    first = grant(researcher.id, dataset="DS1")
    grant(researcher.id, dataset="DS2")
    grant(admin_client.person.id, dataset="DS1")

    by_dataset = read_page(admin_client.get("/steward/grants?dataset=DS1"))
    assert by_dataset.contains("ada@example.org DS1") and by_dataset.contains(
        "grace@example.org DS1"
    )
    assert "DS2" not in by_dataset.text
    by_person = read_page(admin_client.get("/steward/grants?person=ada@example.org"))
    assert "grace@example.org" not in by_person.text and "DS2" in by_person.text
    assert admin_client.get("/steward/grants?person=nobody@example.org").status_code == 404

    submit(admin_client, "/steward/grants", f"/steward/grants/{first.id}/revoke")
    db.session.rollback()
    assert db.session.get(AccessGrant, first.id).revoked_at is not None
    assert read_page(client.get("/my-access")).contains("DS1 download revoked")


def test_steward_sees_datasets_and_upload_boxes(db, admin_client):
    create_dataset("DS1", files=4)
    box = create_upload_box(title="Cohort submissions")
    overview = read_page(admin_client.get("/steward/catalog"))
    assert overview.contains("DS1 Dataset DS1 download 4")
    assert overview.contains("Cohort submissions open none")
    box_page = admin_client.get(f"/steward/upload-boxes/{box.id}")
    assert only_h1(box_page) == "Upload box: Cohort submissions"
    assert read_page(box_page).contains("Nothing uploaded yet")
    assert admin_client.get("/steward/upload-boxes/not-a-uuid").status_code == 404


# --- admin --------------------------------------------------------------------------------


def test_admin_creates_an_application_key_once_and_revokes_it(db, client, admin_client):
    response = submit(
        admin_client,
        "/admin/keys",
        "/admin/applications",
        {"name": "metadata feed", "permissions": ["FEED_PUBLISHER", "DATA_STEWARD"]},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = remember(read_page(response).ids["application-key"])
    me = client.get("/applications/me", headers={"Workflow-API-Key": key})
    assert me.status_code == 200 and me.json["name"] == "metadata feed"

    twice = submit(
        admin_client,
        "/admin/keys",
        "/admin/applications",
        {"name": "metadata feed", "permissions": ["FEED_PUBLISHER"]},
    )
    assert twice.status_code == 409
    assert read_page(twice).contains("metadata feed already has a live key")
    assert count(db, Application) == 1

    listed = read_page(admin_client.get("/admin/keys"))
    assert listed.contains("metadata feed DATA_STEWARD, FEED_PUBLISHER") and key not in listed.text
    submit(admin_client, "/admin/keys", "/admin/applications/metadata feed/revoke")
    assert client.get("/applications/me", headers={"Workflow-API-Key": key}).status_code == 401


def test_application_key_needs_a_permission(db, admin_client):
    response = submit(admin_client, "/admin/keys", "/admin/applications", {"name": "empty"})
    assert response.status_code == 422
    assert read_page(response).contains("Choose at least one permission.")
    assert count(db, Application) == 0


def test_operations_preselect_the_current_state_so_save_changes_only_the_message(db, admin_client):
    page = admin_client.get("/admin/operations").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="resume"|value="resume"[^>]*checked', page)
    kept = submit(
        admin_client,
        "/admin/operations",
        "/admin/maintenance",
        {"paused": "resume", "msg": "Nothing changes"},  # what the form holds as shown
        follow_redirects=True,
    )
    assert read_page(kept).contains("Jobs run again")
    db.session.rollback()
    assert maintenance.current().paused is False


def test_admin_pauses_and_resumes_jobs(db, admin_client):
    paused = submit(
        admin_client,
        "/admin/operations",
        "/admin/maintenance",
        {"paused": "pause", "msg": "Storage migration"},
        follow_redirects=True,
    )
    assert read_page(paused).contains("Jobs are paused")
    assert read_page(paused).contains("Storage migration")
    db.session.rollback()
    assert maintenance.current().paused is True
    submit(
        admin_client, "/admin/operations", "/admin/maintenance", {"paused": "resume", "msg": "Done"}
    )
    db.session.rollback()
    assert maintenance.current().paused is False
    assert count(db, MaintenanceChange) == 2


def test_admin_replays_and_discards_dead_events(db, admin_client):
    for number in (1, 2):
        db.session.add(
            InboxEvent(
                event_id=f"evt-dead-{number}",
                topic="metadata-datasets",
                type="dataset_deleted",
                key=f"GONE{number}",
                payload={"accession": f"GONE{number}"},
                status=EventStatus.DEAD.value,
                attempts=5,
                last_error="boom",
                received_from="test",
            )
        )
    db.session.commit()
    page = read_page(admin_client.get("/admin/operations"))
    assert "evt-dead-1" in page.text and "evt-dead-2" in page.text

    submit(admin_client, "/admin/operations", "/admin/events/evt-dead-1/discard")
    submit(admin_client, "/admin/operations", "/admin/events/evt-dead-2/replay")
    db.session.rollback()
    states = dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())
    assert states["evt-dead-1"] == "discarded"
    assert states["evt-dead-2"] != "dead"  # replayed (and applied at once: eager workers)
    again = submit(admin_client, "/admin/operations", "/admin/events/evt-dead-1/replay")
    assert again.status_code == 409


# --- who may see what ---------------------------------------------------------------------

RESEARCHER_PAGES = ["/", "/catalog", "/my-access", "/my-work-packages", "/profile"]
STEWARD_PAGES = [
    "/steward/access-requests",
    "/steward/grants",
    "/steward/catalog",
    "/steward/events",
]
ADMIN_PAGES = ["/admin/operations", "/admin/keys"]


@pytest.mark.parametrize("path", RESEARCHER_PAGES[1:] + STEWARD_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path + "?page=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?" + urlencode({"next": path + "?page=1"})


def test_stewards_use_steward_pages_but_not_admin_pages(app, db):
    steward = browser_client(app)
    sign_in(steward, make_person(name="Sam Steward", role="steward"))
    for path in STEWARD_PAGES:
        assert steward.get(path).status_code == 200
    for path in ADMIN_PAGES:
        assert steward.get(path).status_code == 403
    links = read_page(steward.get("/")).links
    assert "/steward/grants" in links and "/admin/keys" not in links


@pytest.mark.parametrize("path", STEWARD_PAGES + ADMIN_PAGES)
def test_researchers_get_a_friendly_403(client, researcher, path):
    response = client.get(path)
    assert response.status_code == 403
    assert only_h1(response) == "Not allowed"
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("path", RESEARCHER_PAGES + STEWARD_PAGES + ADMIN_PAGES)
def test_every_page_has_a_title_one_h1_and_the_role_navigation(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    page = read_page(response)
    assert page.title.endswith("· Work Package Service") and len(page.h1) == 1
    assert "/admin/keys" in page.links and "/steward/grants" in page.links


def test_researcher_navigation_shows_no_steward_or_admin_entries(client, researcher):
    links = read_page(client.get("/")).links
    assert "/catalog" in links and "/profile" in links
    assert not [link for link in links if link.startswith(("/steward", "/admin"))]


def test_forms_without_the_csrf_token_change_nothing(db, client, researcher):
    response = client.post("/profile/api-tokens")
    assert response.status_code == 400
    assert read_page(response).contains("nothing was changed")
    assert count(db, RefreshToken) == 0


def test_pending_people_see_their_status_not_the_pages(db, client):
    waiting = make_person(
        name="Pat Pending", status=__import__("app").accounts.models.UserStatus.PENDING
    )
    sign_in(client, waiting)
    home = read_page(client.get("/"))
    assert home.contains("waiting for an administrator's approval")
    assert not [link for link in home.links if link in ("/catalog", "/profile")]


def test_a_form_with_a_nul_character_is_refused_on_the_page(db, client, researcher):
    create_dataset("DS1")
    response = submit(
        client, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "for my\x00thesis"}
    )
    assert response.status_code == 422
    assert read_page(response).contains("NUL character")
    assert count(db, AccessRequest) == 0
    assert client.get("/catalog?q=DS%001").status_code == 422


def test_pages_share_no_path_with_the_json_api(app):
    """An API path answering a page's method too would advertise it in `Allow` and
    contradict the OpenAPI document (hence /catalog and /my-work-packages)."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("portal."):
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            try:
                endpoint, _ = adapter.match(path, method)
            except HTTPException:
                continue
            assert endpoint.startswith("portal."), f"{method} {path} is {endpoint}"


def test_requesting_access_on_the_page_needs_the_second_factor(app, db):
    create_dataset("DS1")
    person = make_person(name="Ada Lovelace", email="ada@example.org")
    with_code = browser_client(app)
    sign_in(with_code, person)
    without = browser_client(app)
    sign_in(without, person, second_factor=False)
    # A form this session may see (its own addresses), for a valid CSRF token.
    token = read_page(without.get("/verification-addresses")).inputs["csrf_token"]

    asked = without.get("/catalog/DS1")
    refused = without.post(
        "/catalog/DS1/request-access",
        data={"csrf_token": token, "note": "please"},
    )
    made = submit(with_code, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "please"})

    assert asked.status_code == 302
    assert asked.headers["Location"] == "/second-factor/verify?next=/catalog/DS1"
    assert refused.status_code == 403
    assert read_page(refused).contains("second factor")
    assert made.status_code == 302
    assert count(db, AccessRequest) == 1
