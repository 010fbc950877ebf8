"""GHGA's limits on verification addresses (issue 28, ADR 25), on the API and the pages:
at most 5 addresses per person, 3 code requests in any 24 hours, 10 wrong codes, codes
valid 7 days (410), phone numbers stored in E.164."""

from datetime import timedelta

from sqlalchemy import select, update

from app.accounts.models import AccountEvent
from app.database import utc_now
from app.ivas import services as ivas
from app.ivas.models import Iva
from tests.support.factories import ApplicationKeyFactory
from tests.support.people import make_person
from tests.support.web_sessions import browser_client, read_page, sign_in, submit
from tests.test_ivas import add_iva, create_code, person_with_token, rpc, state

MINE = "/verification-addresses"
PLACES = [f"Room {n}, Im Neuenheimer Feld 280" for n in range(6)]


def steward_key() -> dict:
    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}


def code_sent(client, person, iva_id, steward) -> str:
    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
    code = create_code(client, iva_id, steward)
    assert rpc(client, iva_id, "code-transmitted", steward).status_code == 204
    return code


def code_made_days_ago(iva_id, days: float) -> None:
    """The steward created the code that is out `days` ago."""
    from app.extensions import db

    db.session.execute(
        update(Iva).where(Iva.id == iva_id).values(code_created_at=utc_now() - timedelta(days))
    )
    db.session.commit()


# At most five addresses per person


def test_a_sixth_address_is_refused_until_one_is_deleted_api(app, client, db):
    person = person_with_token(app)
    made = [add_iva(client, person, "postal_address", place) for place in PLACES[:5]]

    sixth = client.post(
        f"/users/{person.id}/ivas",
        json={"type": "postal_address", "value": PLACES[5]},
        headers=person.headers(),
    )
    assert (sixth.status_code, sixth.json["code"]) == (409, "iva_limit_reached")
    assert "the most allowed (5). Delete one" in sixth.json["detail"]
    assert len(ivas.list_for(person.id)) == 5

    gone = client.delete(f"/users/{person.id}/ivas/{made[0]}", headers=person.headers())
    assert gone.status_code == 204
    add_iva(client, person, "postal_address", PLACES[5])


def test_a_sixth_address_is_refused_on_the_page_with_the_form_kept(app, db):
    person = make_person()
    browser = browser_client(app)
    sign_in(browser, person)
    for place in PLACES[:5]:
        added = submit(browser, MINE, MINE, {"type": "postal_address", "value": place})
        assert added.status_code == 302

    refused = submit(browser, MINE, MINE, {"type": "postal_address", "value": PLACES[5]})
    assert refused.status_code == 409
    page = read_page(refused)
    assert page.contains("the most allowed (5). Delete one you no longer use")
    assert page.inputs["value"] == PLACES[5]
    assert len(ivas.list_for(person.id)) == 5


# Three code requests in any 24 hours


def test_the_fourth_code_request_in_a_day_is_429_whatever_the_address(app, client, db):
    person = person_with_token(app)
    first, second = (add_iva(client, person, "postal_address", p) for p in PLACES[:2])
    for iva_id in (first, first, second):
        assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204

    fourth = rpc(client, second, "request-code", person.headers())
    assert (fourth.status_code, fourth.json["code"]) == (429, "too_many_requests")
    assert "at most 3 in 24 hours" in fourth.json["detail"]
    assert 86000 < int(fourth.headers["Retry-After"]) <= 86400

    # Deleting the address and adding it again does not start a new count.
    client.delete(f"/users/{person.id}/ivas/{second}", headers=person.headers())
    again = add_iva(client, person, "postal_address", PLACES[1])
    assert rpc(client, again, "request-code", person.headers()).status_code == 429
    assert state(client, person, again) == "unverified"


def test_requests_older_than_a_day_no_longer_count(app, client, db):
    person = person_with_token(app)
    iva_id = add_iva(client, person, "postal_address", PLACES[0])
    for _ in range(3):
        assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 429

    # The oldest request is now a day and a minute old: one more is allowed, not two.
    oldest = db.session.scalars(
        select(AccountEvent)
        .where(AccountEvent.user_id == person.id, AccountEvent.action == "iva_code_requested")
        .order_by(AccountEvent.created_at)
    ).first()
    oldest.created_at = utc_now() - timedelta(days=1, minutes=1)
    db.session.commit()
    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 429


def test_the_fourth_code_request_on_the_page_says_so(app, db):
    person = make_person()
    browser = browser_client(app)
    sign_in(browser, person)
    submit(browser, MINE, MINE, {"type": "postal_address", "value": PLACES[0]})
    (iva,) = ivas.list_for(person.id)
    asks = [submit(browser, MINE, f"{MINE}/{iva.id}/request-code") for _ in range(4)]

    assert [a.status_code for a in asks] == [302, 302, 302, 429]
    assert read_page(asks[-1]).contains("at most 3 in 24 hours")


# Ten wrong codes


def test_the_tenth_wrong_code_on_the_page_resets_the_address(told_app, receivers):
    with told_app.app_context():
        person = make_person()
        browser = browser_client(told_app)
        sign_in(browser, person)
        submit(browser, MINE, MINE, {"type": "postal_address", "value": PLACES[0]})
        (iva,) = ivas.list_for(person.id)
        steward = steward_key()
        client = told_app.test_client()
        submit(browser, MINE, f"{MINE}/{iva.id}/request-code")
        create_code(client, str(iva.id), steward)
        assert rpc(client, str(iva.id), "code-transmitted", steward).status_code == 204

        for attempt in range(1, 10):
            submit(browser, MINE, f"{MINE}/{iva.id}/verify", {"code": "NOPE"})
            left = 10 - attempt
            shown = read_page(browser.get(MINE))
            assert shown.contains(f"{left} attempt{'s' if left > 1 else ''} left")
        submit(browser, MINE, f"{MINE}/{iva.id}/verify", {"code": "NOPE"})
        after = read_page(browser.get(MINE))
        assert after.contains("Too many wrong codes")
        assert ivas.get(iva.id).state == "unverified"


# Codes valid for seven days


def test_an_expired_code_is_410_and_a_new_one_can_be_requested_api(app, client, db):
    person = person_with_token(app)
    steward = steward_key()
    iva_id = add_iva(client, person, "postal_address", PLACES[0])
    code = code_sent(client, person, iva_id, steward)
    code_made_days_ago(iva_id, 7.01)

    expired = rpc(client, iva_id, "verify-code", person.headers(), verification_code=code)
    assert (expired.status_code, expired.json["code"]) == (410, "iva_code_expired")
    assert "Request a new code" in expired.json["detail"]
    assert state(client, person, iva_id) == "unverified"
    again = rpc(client, iva_id, "verify-code", person.headers(), verification_code=code)
    assert again.status_code == 409  # the code died with the address's reset

    fresh = code_sent(client, person, iva_id, steward)
    code_made_days_ago(iva_id, 6.9)  # a code just inside its seven days still works
    right = rpc(client, iva_id, "verify-code", person.headers(), verification_code=fresh)
    assert right.status_code == 204
    assert state(client, person, iva_id) == "verified"


def test_an_expired_code_on_the_page_says_so_and_offers_a_new_request(app, client, db):
    person = make_person()
    browser = browser_client(app)
    sign_in(browser, person)
    submit(browser, MINE, MINE, {"type": "postal_address", "value": PLACES[0]})
    (iva,) = ivas.list_for(person.id)
    steward = steward_key()
    submit(browser, MINE, f"{MINE}/{iva.id}/request-code")
    code = create_code(client, str(iva.id), steward)
    assert rpc(client, str(iva.id), "code-transmitted", steward).status_code == 204
    code_made_days_ago(iva.id, 8)

    entered = submit(browser, MINE, f"{MINE}/{iva.id}/verify", {"code": code})
    assert entered.status_code == 303
    page = read_page(browser.get(MINE))
    assert page.contains("This code has expired: codes work for 7 days")
    assert page.contains("Request a new code")
    assert page.contains("Request verification")  # the button for the way forward


# Phone numbers in E.164


def test_phone_numbers_are_stored_in_e164_and_malformed_ones_are_422_api(app, client, db):
    person = person_with_token(app)
    add_iva(client, person, "phone", "+49 (0)6221 54-20")
    add_iva(client, person, "fax", "06221 5421")  # GHGA normalises phone numbers only
    listed = client.get(f"/users/{person.id}/ivas", headers=person.headers()).json
    assert [(i["type"], i["value"]) for i in listed] == [
        ("phone", "+4962215420"),
        ("fax", "06221 5421"),
    ]

    for malformed in ("06221 5420", "+49 6221 7", "call me"):
        refused = client.post(
            f"/users/{person.id}/ivas",
            json={"type": "phone", "value": malformed},
            headers=person.headers(),
        )
        assert (refused.status_code, refused.json["code"]) == (422, "invalid_phone_number")
        assert "country code" in refused.json["detail"]
    assert len(ivas.list_for(person.id)) == 2


def test_a_malformed_phone_number_on_the_page_is_a_form_error(app, db):
    person = make_person()
    browser = browser_client(app)
    sign_in(browser, person)

    refused = submit(browser, MINE, MINE, {"type": "phone", "value": "06221 5420"})
    assert refused.status_code == 422
    page = read_page(refused)
    assert page.contains("write it with its country code, for example +49 6221 5420")
    assert page.inputs["value"] == "06221 5420"
    assert ivas.list_for(person.id) == []

    added = submit(browser, MINE, MINE, {"type": "phone", "value": "+49 6221 5420"})
    assert added.status_code == 302
    assert read_page(browser.get(MINE)).contains("+4962215420")


# Addresses stored before


def test_the_migration_normalises_stored_phone_numbers_it_can_read(tmp_path):
    from sqlalchemy import create_engine, text

    from tests.test_migrations import _flask_db

    _flask_db(tmp_path, "upgrade", "slack_interactions_1")
    engine = create_engine(f"sqlite:///{tmp_path / 'wps.sqlite'}")
    person = "0f0e0d0c0b0a09080706050403020100"
    stored = {
        "00000000000000000000000000000001": ("phone", "+49 6221 54-20", "code_transmitted"),
        "00000000000000000000000000000002": ("phone", "06221 5420", "unverified"),
        "00000000000000000000000000000003": ("fax", "+49 6221 5421", "unverified"),
    }
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (id, name, email, email_key, email_verified, status, "
                "role, created_at) VALUES (:id, 'Bo', 'bo@uni.example', "
                "'bo@uni.example', 1, 'active', 'researcher', '2026-01-01 00:00:00')"
            ),
            {"id": person},
        )
        for iva_id, (type_, value, state_) in stored.items():
            connection.execute(
                text(
                    "INSERT INTO iva (id, user_id, type, value, state, code_hash, attempts, "
                    "created_at, changed_at) VALUES (:id, :user, :type, :value, :state, "
                    ":hash, 0, '2026-01-01 00:00:00', '2026-01-02 00:00:00')"
                ),
                {
                    "id": iva_id, "user": person, "type": type_, "value": value,
                    "state": state_, "hash": "ab" * 32 if state_ == "code_transmitted" else None,
                },
            )  # fmt: skip

    _flask_db(tmp_path, "upgrade")

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, value, code_created_at FROM iva ORDER BY id")
        ).all()
    assert [(value, created is not None) for _, value, created in rows] == [
        ("+4962215420", True),  # read and normalised; its code counts from the last change
        ("06221 5420", False),  # no country code: kept as typed for the steward to read
        ("+49 6221 5421", False),  # a fax number is not a phone IVA
    ]
