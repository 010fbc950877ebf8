"""A person cannot make the service message others without end: repeating an action
sends one operator message per subject and window, and beyond a per-person limit
the action is refused with a 429 and a sentence (page and API)."""

from app.ivas import services as ivas
from tests.support.factories import create_dataset
from tests.support.people import make_person
from tests.support.web_sessions import browser_client, read_page, sign_in, submit
from tests.test_ivas import add_iva, person_with_token, rpc

CLICKS = 20
IVA_LIMIT = 3  # IVA_CODE_REQUESTS_PER_DAY's default (GHGA's)


def messages_about(webhook, subject: str) -> list[str]:
    return [text for text in webhook.texts if subject in text]


def test_twenty_code_requests_on_the_page_send_one_message_then_429(told_app, receivers):
    webhook, _ = receivers
    with told_app.app_context():
        person = make_person()
        client = browser_client(told_app)
        sign_in(client, person)
        submit(
            client, "/verification-addresses", "/verification-addresses",
            {"type": "phone", "value": "+49 6221 5420"},
        )  # fmt: skip
        (iva,) = ivas.list_for(person.id)
        click = f"/verification-addresses/{iva.id}/request-code"
        clicks = [submit(client, "/verification-addresses", click) for _ in range(CLICKS)]

    assert [c.status_code for c in clicks] == [302] * IVA_LIMIT + [429] * (CLICKS - IVA_LIMIT)
    refused = read_page(clicks[-1])
    assert refused.contains("You have asked for verification codes too often")
    assert "Try again later" in refused.text
    assert len(messages_about(webhook, str(iva.id))) == 1


def test_twenty_code_requests_over_the_api_send_one_message_then_429(told_app, receivers):
    webhook, _ = receivers
    client = told_app.test_client()
    with told_app.app_context():
        person = person_with_token(told_app, email="ivy@example.org")
        iva_id = add_iva(client, person)
        answers = [rpc(client, iva_id, "request-code", person.headers()) for _ in range(CLICKS)]

    assert [a.status_code for a in answers] == [204] * IVA_LIMIT + [429] * (CLICKS - IVA_LIMIT)
    assert answers[-1].json["code"] == "too_many_requests"
    assert "too often" in answers[-1].json["detail"]
    assert 86000 < int(answers[-1].headers["Retry-After"]) <= 86400  # a day after the first
    assert len(messages_about(webhook, iva_id)) == 1


def test_repeated_access_requests_tell_the_stewards_once_and_stop_at_the_limit(told_app, receivers):
    webhook, _ = receivers
    client = told_app.test_client()
    with told_app.app_context():
        create_dataset("DS1")
        person = person_with_token(told_app, email="rae@example.org")
        answers = [
            client.post("/access-requests", json={"dataset_id": "DS1"}, headers=person.headers())
            for _ in range(21)
        ]

    assert [a.status_code for a in answers] == [201] * 20 + [429]
    assert "too many access requests" in answers[-1].json["detail"]
    assert len(messages_about(webhook, "rae@example.org")) == 1
