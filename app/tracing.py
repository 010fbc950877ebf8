"""OpenTelemetry tracing through the official instrumentation packages (off by default)."""

from flask import Flask

from app.config import Settings
from app.extensions import db


def configure_tracing(app: Flask, settings: Settings, exporter=None) -> None:
    """Instrument Flask, SQLAlchemy and Celery; `exporter` replaces OTLP (tests)."""
    if not settings.enable_opentelemetry:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.otel_trace_sampling_rate)),
    )
    if exporter is None:
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.extensions["tracer_provider"] = provider
    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    with app.app_context():
        # The package declares SQLAlchemy < 2.1; its engine events work with 2.1 (tested).
        SQLAlchemyInstrumentor().instrument(
            engine=db.engine, tracer_provider=provider, skip_dep_check=True
        )
    CeleryInstrumentor().instrument(tracer_provider=provider)
