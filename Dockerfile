FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /service

RUN pip install pipenv
COPY Pipfile Pipfile.lock ./
RUN pipenv install --system --deploy

COPY app ./app
COPY roles ./roles
COPY workers ./workers
COPY migrations ./migrations
COPY ops ./ops
COPY run.py tasks.py devtasks.py ./

# uid 1000: the Kubernetes manifests (deploy/) run as it, with a read-only root filesystem.
RUN useradd --create-home --uid 1000 wps && mkdir -p /service/instance && chown wps /service/instance
USER wps

EXPOSE 5000
# Liveness: the process answers. Readiness (database and broker) is GET /health/ready,
# for the orchestrator's readiness probe (docker-compose.yml uses it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=3)"
# Migrations run as a separate step (`flask --app run db upgrade`), see docker-compose.yml.
# The same command as outside a container: granian, 2 worker processes (README, "Serving").
CMD ["python", "-m", "invoke", "serve", "--no-migrate", "--host", "0.0.0.0", "--port", "5000", "--workers", "2"]
