"""With ACCESS_URL set, access comes from an external access API (a real HTTP server here)."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app import create_app
from tests.conftest import make_settings
from tests.support.factories import create_dataset, create_upload_box
from tests.support.users import Researcher


class AccessApi:
    """A minimal claims-repository access API: `grants[path] = iso date`."""

    def __init__(self):
        self.grants: dict[str, object] = {}
        self.calls: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api.calls.append(self.path)
                if self.path not in api.grants:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(api.grants[self.path]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def access_api():
    api = AccessApi()
    yield api
    api.stop()


@pytest.fixture
def external_client(db, access_api, instance_path):
    app = create_app(make_settings(instance_path, access_url=access_api.url))
    return app.test_client()


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def create(client, researcher, **body):
    body = {"type": "download", "user_public_crypt4gh_key": researcher.public_key} | body
    return client.post("/work-packages", json=body, headers=researcher.headers())


def test_granted_download_creates_a_package_and_is_rechecked(external_client, access_api):
    researcher = Researcher(external_client.application)
    create_dataset("DS1", files=1)
    path = f"/download-access/users/{researcher.id}/datasets/DS1"
    access_api.grants[path] = in_days(3)

    created = create(external_client, researcher, dataset_id="DS1")
    wpat = {"Authorization": f"Bearer {researcher.open_sealed(created.json['token'])}"}
    before = external_client.get(f"/work-packages/{created.json['id']}", headers=wpat)
    del access_api.grants[path]
    after = external_client.get(f"/work-packages/{created.json['id']}", headers=wpat)

    assert created.status_code == 201
    assert datetime.fromisoformat(created.json["expires"]) < datetime.now(UTC) + timedelta(days=3)
    assert before.status_code == 200
    assert after.status_code == 403
    assert after.json["detail"] == "Download access has been revoked"
    assert access_api.calls.count(path) == 3


def test_no_access_is_403(external_client, access_api):
    researcher = Researcher(external_client.application)
    create_dataset("DS1")

    response = create(external_client, researcher, dataset_id="DS1")

    assert response.status_code == 403
    assert response.json["code"] == "access_denied"


def test_upload_access_and_listings(external_client, access_api):
    researcher = Researcher(external_client.application)
    create_dataset("DS1", files=1)
    box = create_upload_box()
    access_api.grants[f"/upload-access/users/{researcher.id}/boxes/{box.id}"] = in_days(2)
    access_api.grants[f"/download-access/users/{researcher.id}/datasets"] = {"DS1": in_days(4)}
    access_api.grants[f"/upload-access/users/{researcher.id}/boxes"] = {str(box.id): in_days(2)}

    created = create(
        external_client, researcher, type="upload", research_data_upload_box_id=str(box.id)
    )
    datasets = external_client.get(f"/users/{researcher.id}/datasets", headers=researcher.headers())
    boxes = external_client.get(f"/users/{researcher.id}/boxes", headers=researcher.headers())

    assert created.status_code == 201
    assert [d["id"] for d in datasets.json] == ["DS1"]
    assert [b["id"] for b in boxes.json] == [str(box.id)]


@pytest.mark.parametrize("answer", ["not a date", "2030-01-01T00:00:00"])
def test_invalid_or_naive_dates_are_503(external_client, access_api, answer):
    researcher = Researcher(external_client.application)
    create_dataset("DS1")
    access_api.grants[f"/download-access/users/{researcher.id}/datasets/DS1"] = answer

    response = create(external_client, researcher, dataset_id="DS1")

    assert response.status_code == 503
    assert response.json["code"] == "access_api_unavailable"


def test_unreachable_access_api_is_503(external_client, access_api):
    researcher = Researcher(external_client.application)
    create_dataset("DS1")
    access_api.stop()

    response = create(external_client, researcher, dataset_id="DS1")

    assert response.status_code == 503
    assert response.json["code"] == "access_api_unavailable"
