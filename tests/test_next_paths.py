"""Every page that takes `next=` sends a person only to a path on this site (one rule:
app/identity/next_path.safe_next), and a hostile `next=` is never a 500."""

from urllib.parse import quote

import pytest

from tests.support.people import make_person
from tests.support.second_factor_steps import csrf_token, enrol, next_step_code, signed_in

# As a browser would send them: a tab or CR/LF (which browsers drop from a URL, so
# `/<tab>/evil.example` is `//evil.example`), backslashes (read as `/`), a scheme.
HOSTILE_NEXT = [
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "%0d%0aSet-Cookie:%20x=1",
    quote("\\evil.example"),
    quote("/\\evil.example"),
    quote("https://evil.example/", safe=""),
]


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_the_second_factor_page_never_sends_a_person_elsewhere(client, db, hostile):
    person = make_person()
    signed_in(client, person)
    secret, _ = enrol(client)
    signed_in(client, person)  # a new session: the second factor is asked again

    page = client.get(f"/second-factor/verify?next={hostile}")
    passed = pass_second_factor_to(client, secret, f"/second-factor/verify?next={hostile}")

    assert page.status_code == 200
    assert "evil" not in page.get_data(as_text=True)
    assert (passed.status_code, passed.headers["Location"]) == (302, "/")


def pass_second_factor_to(client, secret: str, path: str):
    token = csrf_token(client, "/second-factor/verify")
    return client.post(path, data={"csrf_token": token, "code": next_step_code(secret)})


def test_a_path_on_this_site_is_kept_after_the_second_factor(client, db):
    person = make_person()
    signed_in(client, person)
    secret, _ = enrol(client)
    signed_in(client, person)

    passed = pass_second_factor_to(client, secret, "/second-factor/verify?next=/catalog%3Fq%3D1")

    assert passed.headers["Location"] == "/catalog?q=1"


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_the_development_sign_in_page_keeps_only_a_local_next(
    identity_app, db, instance_path, hostile
):
    client = identity_app(instance_path, None).test_client()

    to_page = client.get(f"/login?next={hostile}")
    page = client.get(f"/login/development?next={hostile}")

    assert to_page.status_code == 302
    assert to_page.headers["Location"] == "/login/development?next=/"
    assert page.status_code == 200
    assert "evil" not in page.get_data(as_text=True)
