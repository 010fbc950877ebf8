"""The embedded default (SQLite, eager tasks) serves the whole token journey too."""

from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.conftest import make_settings
from tests.support.factories import create_dataset, grant
from tests.support.users import Researcher, verify_work_order_token


def test_work_order_token_on_sqlite(tmp_path):
    app = create_app(
        make_settings(
            tmp_path,
            sqlalchemy_database_uri=f"sqlite:///{tmp_path / 'wps.sqlite'}",
            celery_broker_url=None,
            celery_always_eager=None,
        )
    )
    researcher = Researcher(app)
    with app.app_context():
        upgrade()
        create_dataset("DS1", files=2)
        grant(researcher.id, dataset="DS1")
        client = app.test_client()
        created = client.post(
            "/work-packages",
            json={
                "type": "download",
                "dataset_id": "DS1",
                "user_public_crypt4gh_key": researcher.public_key,
            },
            headers=researcher.headers(),
        ).json
        wpat = {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}

        details = client.get(f"/work-packages/{created['id']}", headers=wpat)
        token = client.post(
            f"/work-packages/{created['id']}/files/GHGAFDS10001/work-order-tokens", headers=wpat
        )
        db.session.remove()

    assert app.extensions["celery"].conf.task_always_eager is True
    assert details.status_code == 200
    assert details.json["files"] == {"GHGAFDS10000": ".bam", "GHGAFDS10001": ".fastq.gz"}
    assert token.status_code == 201
    claims = verify_work_order_token(
        researcher.open_sealed(token.json), client.get("/.well-known/jwks.json").json
    )
    assert claims["accession"] == "GHGAFDS10001"
