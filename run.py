"""WSGI entry point: `invoke serve` (granian) serves `run:app`."""

import sys

from app import create_app
from app.config import SettingsError

# gunicorn stops (instead of restarting the worker forever) when a worker exits with this.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except SettingsError as error:
    print(error, file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)
