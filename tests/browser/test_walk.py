"""The whole journey in a real browser, ending with the real ghga-connector.

An admin approves a new person; everyone sets up their second factor (TOTP);
the researcher asks for access and adds a verification address (IVA); a
steward creates a code, sends it and marks it sent; the researcher enters it; the
steward allows the request bound to that address; the researcher creates a
download work package on the page with a Crypt4GH key, and ghga-connector 4.0.1
downloads and decrypts the file with the `id:token` line taken from the page.
"""

import os
import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from playwright.sync_api import expect

from app.catalog import services as catalog
from app.transfer.services import import_plaintext
from tests.browser.conftest import (
    ADMIN_EMAIL,
    enrol_second_factor,
    path_of,
    shoot,
    sign_in_through_provider,
)
from tests.support.connector import Connector, ensure_connector
from tests.support.factories import create_dataset
from tests.support.secrets_seen import remember

pytestmark = pytest.mark.connector

CONTENT = os.urandom(300_000) + b"the end\n"


@pytest.fixture
def stored_dataset(db):
    """A dataset with one file whose content the service stores (encrypted)."""
    create_dataset("GHGAD00000000001", files=1, mapped=False)
    file_id = uuid4()
    catalog.put_accession_map("GHGAFGHGAD000000000010000", file_id)
    import_plaintext(file_id, iter([CONTENT]))
    db.session.commit()
    return "GHGAD00000000001"


def accept_on_people_page(admin, email: str, role: str | None = None) -> None:
    admin.goto("/admin/users")
    row = admin.locator("table.people tr", has_text=email)
    row.get_by_role("button", name="Accept").click()
    expect(admin.locator("table.people tr", has_text=email)).to_contain_text("active")
    if role:
        row = admin.locator("table.people tr", has_text=email)
        row.locator("select[name=role]").select_option(role)
        row.get_by_role("button", name="Change role").click()
        expect(
            admin.locator("table.people tr", has_text=email).locator("select[name=role]")
        ).to_have_value(role)


def test_from_sign_in_to_decrypted_file(browse, portal, stored_dataset, screenshots, tmp_path):
    connector = Connector(ensure_connector(), tmp_path, f"{portal.base_url}/.well-known")
    connector.make_keys()
    visitor, _ = browse()
    visitor.goto("/")
    shoot(visitor, screenshots, "home-signed-out")

    admin, admin_watch = browse()
    sign_in_through_provider(admin, portal, "root", ADMIN_EMAIL, "Grace Hopper")
    steward, steward_watch = browse()
    sign_in_through_provider(steward, portal, "sam", "sam@uni.example", "Sam Steward")
    researcher, researcher_watch = browse()
    sign_in_through_provider(researcher, portal, "ada", "ada@uni.example", "Ada Lovelace")
    expect(researcher.locator("h1")).to_have_count(1)
    assert "/account/status" in researcher.url  # pending until an admin accepts
    for watch in (admin_watch, steward_watch, researcher_watch):
        watch.take()  # the provider's pages are not ours to judge

    admin.goto("/admin/users")  # admin pages need the second factor first
    assert path_of(admin.url) == "/second-factor/setup?next=/admin/users"  # set up, then back
    enrol_second_factor(admin)
    accept_on_people_page(admin, "sam@uni.example", role="steward")
    accept_on_people_page(admin, "ada@uni.example")
    shoot(admin, screenshots, "admin-people")
    enrol_second_factor(steward)
    enrol_second_factor(researcher, screenshots)

    # The researcher adds a phone number and asks for it to be verified.
    researcher.goto("/")
    researcher.get_by_role("link", name="Addresses").first.click()
    researcher.get_by_label("Kind").select_option("phone")
    researcher.get_by_label("Number, address or meeting place").fill("+49 6221 555 0100")
    researcher.get_by_role("button", name="Add").click()
    researcher.get_by_role("button", name="Request verification").click()
    expect(researcher.locator(".flash")).to_contain_text("A data steward will send you a code")

    # The steward creates the code (shown once), "phones" it, and marks it sent.
    steward.goto("/")
    steward.get_by_role("link", name="Verification").first.click()
    row = steward.locator("tr", has_text="+4962215550100")
    shoot(steward, screenshots, "steward-verification-addresses")
    row.get_by_role("button", name="Create code").click()
    code = remember(steward.locator("#verification-code").inner_text().strip())
    shoot(steward, screenshots, "steward-verification-code")
    steward.get_by_role("button", name="Mark as sent").click()
    expect(steward.locator(".flash")).to_contain_text("Marked as sent")

    # The researcher enters the code they were told on the phone.
    researcher.reload()
    researcher.get_by_label("Code you received").fill(code)
    shoot(researcher, screenshots, "verification-addresses")
    researcher.get_by_role("button", name="Verify").click()
    expect(researcher.locator(".flash")).to_contain_text("Your phone number is verified")

    # The researcher finds the dataset and asks for access.
    researcher.goto("/")
    researcher.get_by_role("link", name="Catalog").first.click()
    researcher.fill("#q", "GHGAD0000")
    researcher.get_by_role("button", name="Search").click()
    shoot(researcher, screenshots, "catalog-search")
    researcher.get_by_role("link", name=stored_dataset).click()
    researcher.fill("textarea[name=note]", "For the cohort comparison in my thesis")
    shoot(researcher, screenshots, "dataset")
    researcher.get_by_role("button", name="Request access").click()
    expect(researcher.locator(".flash")).to_contain_text("was sent to the data stewards")

    # The steward allows it, for a period.
    steward.goto("/steward/access-requests")
    request_card = steward.locator("article", has_text="ada@uni.example")
    expect(request_card).to_contain_text("For the cohort comparison")
    until = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    request_card.get_by_label("Until").fill(until)
    expect(request_card.get_by_label(re.compile(r"Phone number: \+4962215550100"))).to_be_checked()
    shoot(steward, screenshots, "steward-requests")
    request_card.get_by_role("button", name="Allow").click()
    expect(steward.locator(".flash")).to_contain_text("now has download access")

    # The researcher makes the work package with their Crypt4GH public key.
    researcher.goto("/my-access")
    expect(researcher.locator("table").first).to_contain_text("active")
    shoot(researcher, screenshots, "my-access")
    researcher.get_by_role("link", name="Work packages").first.click()
    researcher.get_by_label(re.compile(stored_dataset)).check()
    researcher.fill("textarea[name=user_public_crypt4gh_key]", connector.private_key.read_text())
    researcher.get_by_role("button", name="Create download work package").click()
    expect(researcher.locator(".form-errors, .error-message").first).to_contain_text("private key")
    researcher.fill("textarea[name=user_public_crypt4gh_key]", connector.public_key.read_text())
    shoot(researcher, screenshots, "work-packages")
    researcher.get_by_role("button", name="Create download work package").click()
    line = researcher.locator("#connector-token").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}:[A-Za-z0-9+/=]+", line), line
    remember(line.split(":")[1])
    expect(researcher.locator("#connector-command")).to_contain_text("ghga-connector download")
    researcher.get_by_role("button", name="Copy work package line").click()
    expect(researcher.locator("[data-copy-status]")).to_have_text("Copied.")
    assert researcher.evaluate("navigator.clipboard.readText()") == line
    shoot(researcher, screenshots, "work-package-created")

    downloaded = connector.download(line, tmp_path / "out")
    assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
    decrypted = connector.decrypt(tmp_path / "out", tmp_path / "plain")
    assert decrypted.returncode == 0, decrypted.stdout + decrypted.stderr
    assert (tmp_path / "plain" / "GHGAFGHGAD000000000010000.bam").read_bytes() == CONTENT

    for watch in (admin_watch, steward_watch, researcher_watch):
        assert watch.take() == []
