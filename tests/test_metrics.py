"""GET /metrics: off by default; when on, request, token and state figures for Prometheus."""

from app import create_app
from tests.conftest import make_settings
from tests.support.factories import create_dataset, dataset_event, grant


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_count_requests_tokens_events_and_jobs(db, instance_path, researcher):
    from tests.support.factories import ApplicationKeyFactory

    app = create_app(make_settings(instance_path, metrics_enabled=True))
    client = app.test_client()
    create_dataset("DS1", files=1)
    grant(researcher.id, dataset="DS1")
    created = client.post(
        "/work-packages",
        json={"type": "download", "dataset_id": "DS1",
              "user_public_crypt4gh_key": researcher.public_key},
        headers=researcher.headers(),
    ).json  # fmt: skip
    wpat = {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}
    for _ in range(3):
        client.post(
            f"/work-packages/{created['id']}/files/GHGAFDS10000/work-order-tokens", headers=wpat
        )
    publisher = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    client.post("/events", json=dataset_event("DS2"), headers=publisher)

    text = client.get("/metrics").get_data(as_text=True)

    assert 'wps_work_order_tokens_issued_total{work_type="download"} 3.0' in text
    assert (
        'wps_http_requests_total{endpoint="work_packages.create_download_token",'
        'method="POST",status="201"} 3.0'
    ) in text
    assert 'wps_inbox_events{status="applied"} 1.0' in text
    assert "wps_http_request_duration_seconds_bucket" in text
    assert "wps_celery_queue_depth" in text


def test_tracing_is_off_by_default(app):
    assert "tracer_provider" not in app.extensions


def test_tracing_records_requests_and_sql(db, instance_path, steward_key):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    app = create_app(
        make_settings(instance_path, enable_opentelemetry=True, otel_trace_sampling_rate=1.0),
        span_exporter=spans,
    )

    app.test_client().get("/datasets", headers=steward_key)

    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind.name == "SERVER"]
    assert [s.name for s in server] == ["GET /datasets"]
    sql = [s for s in finished if s.attributes.get("db.system") == "postgresql"]
    assert sql and all(s.context.trace_id == server[0].context.trace_id for s in sql)
