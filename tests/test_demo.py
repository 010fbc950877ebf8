"""`invoke demo` and `invoke totp-code`: a newcomer's way to try the portal."""

import re
from datetime import datetime

import pyotp
import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.demo import DATASET, FILE, DevelopmentOnly, totp_code
from app.second_factor.models import TotpFactor
from app.transfer.services import with_content
from tests.test_cli import invoke


def test_demo_makes_three_people_with_factors_a_newcomer_and_a_dataset_with_bytes(
    db, instance_path
):
    made = invoke("demo", instance_path=instance_path)
    assert made.returncode == 0, made.stderr
    keys = dict(re.findall(r"(\S+@demo\.example)\s+TOTP key ([A-Z2-7]{32})", made.stdout))
    assert set(keys) == {"admin@demo.example", "steward@demo.example", "researcher@demo.example"}
    assert re.search(r"researcher\s+pending\s+newcomer@demo\.example", made.stdout)
    roles = {u.email: (u.role, u.status) for u in db.session.scalars(select(User))}
    assert roles["steward@demo.example"] == ("steward", "active")
    assert roles["admin@demo.example"] == ("admin", "active")
    assert with_content([FILE]) == {FILE} and DATASET in made.stdout

    code = invoke("totp-code", "researcher@demo.example", instance_path=instance_path)
    assert code.returncode == 0, code.stderr
    totp = pyotp.TOTP(keys["researcher@demo.example"])
    assert totp.verify(code.stdout.strip(), valid_window=1)
    # Right after the demo that code still counts: the set-up spent an earlier step's code.
    researcher = db.session.scalars(select(User).where(User.email.startswith("researcher@"))).one()
    factor = db.session.get(TotpFactor, researcher.id)
    assert factor.last_step < totp.timecode(datetime.now())

    again = invoke("demo", instance_path=instance_path)
    assert again.returncode != 0 and "The demo exists already" in again.stderr


def test_totp_code_is_refused_in_production(app, db):
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"deployment": "production"})
    try:
        with app.test_request_context(), pytest.raises(DevelopmentOnly, match="development"):
            totp_code("researcher@demo.example")
    finally:
        app.extensions["settings"] = settings
