"""WSGI entry point: `invoke serve` (granian) serves `run:app`."""

from app import create_app

app = create_app()
