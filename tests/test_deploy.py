"""The Kubernetes manifests (deploy/): they render, validate against a current
Kubernetes, name only real settings, and probe paths the app answers. Offline: no
cluster, no image build (README, "Kubernetes")."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
OVERLAYS = sorted(path.parent for path in (DEPLOY / "overlays").glob("*/kustomization.yaml"))
#: The Kubernetes version the manifests are checked against.
KUBERNETES_VERSION = "1.34.0"
#: Environment variables read by libraries rather than by app/config.py.
NOT_SETTINGS = frozenset({"PROMETHEUS_MULTIPROC_DIR", "OTEL_EXPORTER_OTLP_ENDPOINT"})
SETTINGS = frozenset(name.upper() for name in Settings.model_fields)


def _tool(name: str, variable: str) -> str:
    found = os.environ.get(variable) or shutil.which(name)
    if found:
        return found
    if os.environ.get("REQUIRE_DEPLOY_TOOLS"):
        pytest.fail(f"{name} is not installed (.ci/run installs it; or set {variable})")
    pytest.skip(f"{name} is not installed (.ci/run installs it; or set {variable})")


def _render(overlay: Path) -> list[dict]:
    kubectl = _tool("kubectl", "KUBECTL")
    result = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module", params=OVERLAYS, ids=lambda path: path.name)
def rendered(request) -> tuple[Path, list[dict]]:
    return request.param, _render(request.param)


def _containers(resources: list[dict]) -> list[tuple[str, dict, dict]]:
    found = []
    for resource in resources:
        if resource["kind"] in ("Deployment", "Job"):
            pod = resource["spec"]["template"]["spec"]
            found += [(resource["metadata"]["name"], pod, c) for c in pod["containers"]]
    return found


def _by(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def test_there_are_overlays_to_render():
    assert {path.name for path in OVERLAYS} >= {"production", "small"}


def test_manifests_validate_against_a_current_kubernetes(rendered, tmp_path):
    overlay, resources = rendered
    validate = _tool("kubernetes-validate", "KUBERNETES_VALIDATE")
    manifest = tmp_path / f"{overlay.name}.yaml"
    manifest.write_text(yaml.safe_dump_all(resources))

    result = subprocess.run(
        [validate, "--strict", "--kubernetes-version", KUBERNETES_VERSION, str(manifest)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == len(resources)


def test_every_process_is_there_with_its_safeguards(rendered):
    _, resources = rendered
    deployments = _by(resources, "Deployment")
    assert set(deployments) == {"wps-api", "wps-worker", "wps-consumer", "wps-beat"}
    assert set(_by(resources, "Job")) == {"wps-migrate"}
    assert set(_by(resources, "Service")) == {"wps-api"}
    assert set(_by(resources, "HorizontalPodAutoscaler")) == {"wps-api"}
    assert {"wps-api", "wps-worker"} <= set(_by(resources, "PodDisruptionBudget"))
    for name, pod, container in _containers(resources):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        # Settings from the ConfigMap, secrets from the Secret the operator made.
        sources = {next(iter(source)): source for source in container["envFrom"]}
        assert sources["configMapRef"]["configMapRef"]["name"] == "wps-settings", name
        assert sources["secretRef"]["secretRef"]["name"] == "wps-secrets", name
        assert all(not volume.get("hostPath") for volume in pod.get("volumes", [])), name


def test_every_environment_name_is_a_setting(rendered):
    _, resources = rendered
    (config_map,) = _by(resources, "ConfigMap").values()
    names = set(config_map["data"])
    for _, _, container in _containers(resources):
        names |= {variable["name"] for variable in container.get("env", [])}
    names |= set(_secret_example())

    assert names - SETTINGS - NOT_SETTINGS == set()


def test_the_settings_and_an_example_secret_start_a_replicated_production(rendered, monkeypatch):
    _, resources = rendered
    (config_map,) = _by(resources, "ConfigMap").values()
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in (config_map["data"] | _secret_example()).items():
        monkeypatch.setenv(name, value)

    settings = load_settings()  # the production refusals pass

    assert settings.deployment == "production" and not settings.single_replica
    assert settings.storage_backend == "s3"
    ingress = _by(resources, "Ingress")
    assert settings.trusted_proxy_hops == (1 if ingress else 0)


def test_every_probe_asks_a_path_the_app_answers(rendered, client):
    _, resources = rendered
    probed = 0
    for name, _, container in _containers(resources):
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = container.get(kind)
            if not probe:
                continue
            get = probe["httpGet"]
            assert get["port"] in ports, f"{name} {kind}: no port {get['port']}"
            assert str(ports[get["port"]]) in container["command"], name
            response = client.get(get["path"])
            assert response.status_code == 200, (name, kind, get["path"], response.json)
            probed += 1
    api = next(c for name, _, c in _containers(resources) if name == "wps-api")
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert probed >= 3


def _secret_example() -> dict[str, str]:
    lines = (DEPLOY / "secret.example.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)
