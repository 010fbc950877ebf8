"""Each person's journey from `/`, with the default settings, by clicking only.

The second factor and verification addresses are on (REQUIRE_SECOND_FACTOR and
REQUIRE_IVA_FOR_DOWNLOAD at their defaults). After the first `goto("/")` of each
browser, every step is a click on a visible link or button: an admin from the first
sign-in to accepting a person and making a steward; a researcher from the first
sign-in to the `id:token` line and the real ghga-connector 4.0.1 downloading and
decrypting the file with the exact lines the page shows, in a fresh folder; a steward
from the first sign-in to allowing that request once the address is verified.
"""

import os
import re
import subprocess

import pyotp
import pytest
from playwright.sync_api import expect

from app.catalog import services as catalog
from app.transfer.services import import_plaintext
from tests.browser.conftest import ADMIN_EMAIL, shoot
from tests.support.connector import Connector, ensure_connector
from tests.support.factories import create_dataset
from tests.support.second_factor_steps import next_step_code
from tests.support.secrets_seen import remember

pytestmark = pytest.mark.connector

DATASET = "GHGAD00000000077"
FILE = f"GHGAF{DATASET}0000"
CONTENT = os.urandom(200_000) + b"the end of the journey\n"
INSTALL_LINES = [
    "python3 -m venv connector-env",
    ". connector-env/bin/activate",
    "pip install ghga-connector==4.0.1",
]


@pytest.fixture
def dataset_with_bytes(db):
    """Two files: one with content stored here, one not uploaded yet."""
    from uuid import uuid4

    create_dataset(DATASET, files=2, mapped=False)
    file_id = uuid4()
    catalog.put_accession_map(FILE, file_id)
    import_plaintext(file_id, iter([CONTENT]))
    db.session.commit()


def sign_in_by_clicking(page, portal, sub: str, email: str, name: str) -> None:
    """From `/`: the header's Sign in button, the provider's page, and back."""
    portal.provider.person(sub, email=email, email_verified=True, name=name)
    page.goto("/")  # the one typed URL of each browser
    page.locator(".site-account").get_by_role("link", name="Sign in").click()
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: url.startswith(portal.base_url) and "/login" not in url)


def set_up_factor_on_the_way(page, reason_shown: bool = True) -> str:
    """On the set-up page the person was sent to: the key into an authenticator, the
    code back, the recovery codes kept; answers the key."""
    expect(page.locator("h1")).to_have_text("Set up your second factor")
    if reason_shown:
        expect(page.locator("#why-second-factor")).to_contain_text("controlled-access")
    key = remember(page.locator("#totp-secret").inner_text().strip())
    page.fill("#code", pyotp.TOTP(key).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    for code in page.locator("#recovery-codes code").all_inner_texts():
        remember(code)
    return key


def home(page) -> None:
    page.locator(".site-header .brand").click()
    expect(page.locator("#checklist")).to_be_visible()


def step(page, key: str):
    return page.locator(f"#step-{key}")


def test_every_role_reaches_its_goal_from_home_by_clicking(
    browse, portal, dataset_with_bytes, screenshots, tmp_path
):
    researcher, researcher_watch = browse()
    sign_in_by_clicking(researcher, portal, "rosa", "rosa@uni.example", "Rosa Franklin")
    expect(researcher.locator("h1")).to_have_text("Your account is pending approval")
    steward, steward_watch = browse()
    sign_in_by_clicking(steward, portal, "stan", "stan@uni.example", "Stan Steward")
    admin, admin_watch = browse()
    sign_in_by_clicking(admin, portal, "grace", ADMIN_EMAIL, "Grace Hopper")
    for watch in (admin_watch, steward_watch, researcher_watch):
        watch.take()  # the provider's pages are not ours to judge

    # Admin: first sign-in -> People (the factor on the way, and back) -> accept, make steward.
    expect(step(admin, "second-factor")).to_contain_text("not set up")
    shoot(admin, screenshots, "home-admin-first")
    admin.locator(".site-nav").get_by_role("link", name="People").click()
    shoot(admin, screenshots, "second-factor-setup-on-the-way")
    set_up_factor_on_the_way(admin)
    shoot(admin, screenshots, "second-factor-recovery-codes-next")
    admin.get_by_role("link", name="Continue where you were going").click()
    expect(admin.locator("h1")).to_have_text("People")
    row = admin.locator("table.people tr", has_text="rosa@uni.example")
    row.get_by_role("button", name="Accept").click()
    expect(admin.locator("table.people tr", has_text="rosa@uni.example")).to_contain_text("active")
    admin.locator("table.people tr", has_text="stan@uni.example").get_by_role(
        "button", name="Accept"
    ).click()
    row = admin.locator("table.people tr", has_text="stan@uni.example")
    row.locator("select[name=role]").select_option("steward")
    row.get_by_role("button", name="Change role").click()
    expect(
        admin.locator("table.people tr", has_text="stan@uni.example").locator("select[name=role]")
    ).to_have_value("steward")

    # Researcher: accepted -> home checklist -> second factor -> the dataset -> request.
    researcher.get_by_role("link", name="Check again").click()
    researcher.get_by_role("link", name="Continue").click()
    expect(step(researcher, "second-factor")).to_contain_text("not set up")
    expect(step(researcher, "address")).to_contain_text("none")
    shoot(researcher, screenshots, "home-checklist")
    step(researcher, "second-factor").get_by_role("link", name="Set up your second factor").click()
    researcher_key = set_up_factor_on_the_way(researcher, reason_shown=True)
    researcher.get_by_role("link", name="Continue to your next steps").click()
    expect(step(researcher, "second-factor")).to_contain_text("passed")
    step(researcher, "access").get_by_role("link", name="Browse the catalog").click()
    researcher.get_by_role("link", name=DATASET).click()
    files = researcher.locator("table").last
    expect(files.locator("tr", has_text=FILE)).to_contain_text("ready to download")
    expect(files.locator("tr", has_text=f"GHGAF{DATASET}0001")).to_contain_text("not uploaded yet")
    expect(researcher.locator("#address-needed")).to_contain_text("You have none yet")
    shoot(researcher, screenshots, "dataset-address-needed")
    researcher.fill("textarea[name=note]", "Replication of the 2025 cohort study")
    researcher.get_by_role("button", name="Request access").click()
    expect(researcher.locator(".flash")).to_contain_text("was sent to the data stewards")
    shoot(researcher, screenshots, "my-access-waiting")

    # Steward: home -> the queue -> factor on the way -> Allow waits; ask for an address.
    steward.get_by_role("link", name="Check again").click()
    steward.get_by_role("link", name="Continue").click()
    steward.locator("#queues").get_by_role("link", name="1 access request").click()
    set_up_factor_on_the_way(steward)
    steward.get_by_role("link", name="Continue where you were going").click()
    card = steward.locator("article", has_text="rosa@uni.example")
    expect(card).to_contain_text("has none yet, so this request cannot be allowed now")
    expect(card.get_by_role("button", name="Allow")).to_be_disabled()
    shoot(steward, screenshots, "steward-requests-no-address")
    card.get_by_role("button", name="Ask the requester to add an address").click()
    expect(steward.locator(".flash")).to_contain_text("was asked to add a verification address")

    # Researcher: home says the request waits for an address -> add one -> ask for a code.
    home(researcher)
    expect(step(researcher, "access")).to_contain_text("waiting for your address")
    shoot(researcher, screenshots, "home-waiting-for-address")
    step(researcher, "access").get_by_role("link", name="Add an address").click()
    researcher.get_by_label("Kind").select_option("phone")
    researcher.get_by_label("Number, address or meeting place").fill("+49 6221 555 0177")
    researcher.get_by_role("button", name="Add").click()
    researcher.get_by_role("button", name="Request verification").click()
    expect(researcher.locator(".flash")).to_contain_text("A data steward will send you a code")

    # Steward: home -> addresses waiting for a code -> create, "phone" it, mark sent.
    home(steward)
    steward.locator("#queues").get_by_role("link", name="1 verification address").click()
    row = steward.locator("tr", has_text="+4962215550177")
    row.get_by_role("button", name="Create code").click()
    code = remember(steward.locator("#verification-code").inner_text().strip())
    steward.get_by_role("button", name="Mark as sent").click()
    expect(steward.locator(".flash")).to_contain_text("Marked as sent")

    # Researcher: home -> enter the code.
    home(researcher)
    expect(step(researcher, "address")).to_contain_text("enter code")
    step(researcher, "address").get_by_role("link", name="Enter the code").click()
    researcher.get_by_label("Code you received").fill(code)
    researcher.get_by_role("button", name="Verify").click()
    expect(researcher.locator(".flash")).to_contain_text("Your phone number is verified")

    # Steward: home -> the request -> Allow, bound to the verified address.
    home(steward)
    steward.locator("#queues").get_by_role("link", name="1 access request").click()
    card = steward.locator("article", has_text="rosa@uni.example")
    expect(card.get_by_label(re.compile(r"Phone number: \+4962215550177"))).to_be_checked()
    card.get_by_role("button", name="Allow").click()
    expect(steward.locator(".flash")).to_contain_text("now has download access")

    # Researcher, in a new browser session (the factor not yet passed in it): home ->
    # work packages; the form sent before the factor keeps the key; the code; back; create.
    connector = Connector(ensure_connector(), tmp_path / "keys", f"{portal.base_url}/.well-known")
    connector.workdir.mkdir()
    connector.make_keys()
    again, again_watch = browse()
    sign_in_by_clicking(again, portal, "rosa", "rosa@uni.example", "Rosa Franklin")
    again_watch.take()  # the provider's page
    expect(step(again, "access")).to_contain_text("allowed")
    expect(step(again, "second-factor")).to_contain_text("enter code")
    step(again, "access").get_by_role("link", name="Create a work package").click()
    expect(again.locator("#factor-step")).to_contain_text("needs your second factor")
    again.get_by_label("Only these files").fill(FILE)  # the other one has no content yet
    again.fill("textarea[name=user_public_crypt4gh_key]", connector.public_key.read_text())
    again.get_by_role("button", name="Create download work package").click()
    expect(again.locator(".form-errors")).to_contain_text("needs your second factor")
    expect(again.locator("textarea[name=user_public_crypt4gh_key]")).to_have_value(
        connector.public_key.read_text()
    )
    shoot(again, screenshots, "work-packages-factor-first")
    again.locator("#factor-step").get_by_role("link", name="Enter your code").click()
    again.fill("#code", next_step_code(researcher_key))  # not the one used at set-up
    again.get_by_role("button", name="Continue").click()
    expect(again.locator("h1")).to_have_text("Work packages")
    expect(again.locator("#factor-step")).to_have_count(0)
    expect(again.get_by_label("Only these files")).to_have_value(FILE)
    expect(again.locator("textarea[name=user_public_crypt4gh_key]")).to_have_value(
        connector.public_key.read_text()
    )
    again.get_by_role("button", name="Create download work package").click()
    line = again.locator("#connector-token").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}:[A-Za-z0-9+/=]+", line), line
    remember(line.split(":")[1])
    shoot(again, screenshots, "work-package-created")

    commands = again.locator("#connector-steps pre.command").all_inner_texts()
    assert commands[:3] == INSTALL_LINES  # the suite's cached connector stands in for these
    folder = tmp_path / "empty-folder"
    folder.mkdir()
    for name in ("key.pub", "key.sec"):
        (folder / name).write_bytes((connector.workdir / name).read_bytes())
    script = "set -e\n" + "\n".join(commands[3:]) + "\n"
    ran = subprocess.run(
        ["bash", "-c", script],
        input=line + "\n",
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
        env=dict(os.environ)
        | {"PATH": f"{connector.bin}:{os.environ['PATH']}", "NO_PROXY": "127.0.0.1,localhost"},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (folder / "plain" / f"{FILE}.bam").read_bytes() == CONTENT

    for watch in (admin_watch, steward_watch, researcher_watch, again_watch):
        assert watch.take() == []
