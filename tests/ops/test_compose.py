"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs in CI here).

What would otherwise only fail on someone's `docker compose up`: a missing service, a floating
image tag, a configuration name the code reads but the containers never get, a command that
names a file the image does not contain, a start order that lets the worker race the schema.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from config import Settings
from workflows.contract import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

LONG_RUNNING = {"postgresql", "temporal", "temporal-ui", "worker", "api", "codec", "registry-sim", "bank-sim"}
ONE_SHOT = {"temporal-schema", "temporal-init", "migrate"}
APP_SERVICES = {"migrate", "worker", "api", "codec", "registry-sim", "bank-sim"}
SIMULATORS = {"registry-sim", "bank-sim"}
SECRETS = {
    "POSTGRES_PASSWORD",
    "TEMPORAL_DB_PASSWORD",
    "BHYT_DB_PASSWORD",
    "BHYT_PAYLOAD_KEYS",
    "BHYT_PAYLOAD_KEY_ID",
    "BHYT_API_TOKEN",
    "BHYT_IPN_SECRET",
    "BHYT_TMN_CODE",
    "REGISTRY_API_KEY",
    "NOTIFY_WEBHOOK_SECRET",
    "BHYT_OPERATOR_TOKENS",
    "GRAFANA_ADMIN_PASSWORD",
}
"""Variables Compose must refuse to start without (`${VAR:?}`): no fallback to a published value."""
DEMO_ENV = ROOT / "deploy" / "demo.env"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}")
REQUIRED_EXAMPLE = {
    "BHYT_PAYLOAD_KEYS": '[{"id": "2026-11", "key": "' + "QUJD" * 10 + 'QUI"}]',
    "BHYT_PAYLOAD_KEY_ID": "2026-11",
    "BHYT_OPERATOR_TOKENS": '{"an.nguyen": "a-long-operator-token-1"}',
    "REGISTRY_URL": "https://registry.example.vn",
    "BANK_URL": "https://bank.example.vn",
    "BHYT_RECEIPT_ISSUER_TAX_CODE": "0101234567",
    "BHYT_PUBLIC_URL": "https://bhyt.example.vn",
    "BHYT_RECEIPT_TEMPLATE": "01BLP0-002",
    "BHYT_TRUSTED_PROXIES": "10.0.4.2",
}
"""What an operator's `.env` gives the variables Compose requires (`${VAR:?}`), for parsing tests."""


def resolve(value: str) -> str:
    """What Compose substitutes: the documented default, or for a required variable the example value."""

    def one(m: re.Match[str]) -> str:
        if m.group(4) is not None:
            return REQUIRED_EXAMPLE.get(m.group(1), f"example-{m.group(1).lower()}")
        return m.group(3) or ""

    return INTERPOLATION.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: resolve(str(v)) for k, v in env.items()}


def host_ports(service: dict[str, Any]) -> set[str]:
    return {str(p) for p in service.get("ports") or []}


def test_expected_services(services: dict) -> None:
    missing = (LONG_RUNNING | ONE_SHOT) - set(services)
    assert not missing, f"missing services: {sorted(missing)}"


def test_every_image_is_pinned(services: dict) -> None:
    for name, svc in services.items():
        image = svc.get("image")
        assert image, f"{name}: no image"
        assert "${" not in image, f"{name}: image tag comes from the environment ({image})"
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image} floats"


def test_official_images(services: dict) -> None:
    assert services["postgresql"]["image"].startswith("postgres:16")
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    for job in ("temporal-schema", "temporal-init"):
        assert services[job]["image"].startswith("temporalio/admin-tools:")
    server_version = services["temporal"]["image"].split(":")[1]
    assert services["temporal-schema"]["image"].split(":")[1] == server_version, (
        "schema tool and server differ"
    )


def test_project_services_build_the_project_image(services: dict) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    assert all(services[name].get("build") in (".", {"context": "."}) for name in APP_SERVICES)


def test_published_ports(services: dict) -> None:
    """The API is public; the UI, the codec server and Grafana on the host's loopback only (SSH
    tunnel or a reverse proxy with its own login); Temporal's gRPC and the simulators never."""
    published = {name: host_ports(svc) for name, svc in services.items() if svc.get("ports")}
    assert published == {
        "api": {"8000:8000"},
        "temporal-ui": {"127.0.0.1:8233:8080"},
        "codec": {"127.0.0.1:8089:8089"},
        "grafana": {"127.0.0.1:3000:3000"},
    }
    for name in ("temporal", "temporal-schema", "temporal-init", "postgresql", *SIMULATORS):
        assert not services[name].get("ports") and not services[name].get("network_mode"), name


def test_simulators_only_in_the_demo_profile(services: dict) -> None:
    for name in SIMULATORS:
        assert services[name].get("profiles") == ["demo"], name
    for name, svc in services.items():
        if name in SIMULATORS or "demo" in (svc.get("profiles") or []):
            continue
        assert not set(_conditions(svc)) & SIMULATORS, f"{name} needs a simulator outside the demo"
    for name in ("worker", "api"):
        env = env_of(services[name])
        assert "-sim" not in env["REGISTRY_URL"] + env["BANK_URL"], "production points at the real services"


def test_ui_decodes_through_the_codec_server(services: dict) -> None:
    ui = env_of(services["temporal-ui"])
    assert (
        ui["TEMPORAL_CODEC_ENDPOINT"] == env_of(services["api"])["BHYT_CODEC_URL"] == "http://localhost:8089"
    )
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    assert services["codec"]["command"] == ["python", "-m", "api.codec_server"]
    assert env_of(services["codec"])["TEMPORAL_UI_URL"] == "http://localhost:8233"


def test_monitoring_profile(services: dict) -> None:
    for name in ("prometheus", "grafana"):
        assert services[name].get("profiles") == ["monitoring"], name
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {t for job in scrape["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    worker_port = env_of(services["worker"])["WORKER_METRICS_ADDRESS"].rsplit(":", 1)[1]
    assert targets == {f"api:{env_of(services['api'])['BHYT_API_PORT']}", f"worker:{worker_port}"}
    json.loads((ROOT / "deploy/grafana/dashboards/bhyt.json").read_text(encoding="utf-8"))


def test_long_running_services_have_healthchecks(services: dict) -> None:
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name}: no healthcheck"


def test_one_shot_jobs_do_not_restart_forever(services: dict) -> None:
    for name in ONE_SHOT:
        assert services[name].get("restart", "no") in ("no", "on-failure") or str(
            services[name]["restart"]
        ).startswith("on-failure"), name


def _conditions(svc: dict) -> dict[str, str]:
    deps = svc.get("depends_on") or {}
    assert isinstance(deps, dict), "depends_on without conditions starts too early"
    return {k: v["condition"] for k, v in deps.items()}


def test_start_order(services: dict) -> None:
    assert _conditions(services["temporal-schema"]) == {"postgresql": "service_healthy"}
    assert _conditions(services["temporal"]) == {"temporal-schema": "service_completed_successfully"}
    assert _conditions(services["temporal-init"]) == {"temporal": "service_healthy"}
    assert _conditions(services["migrate"]) == {"postgresql": "service_healthy"}
    for name in ("worker", "api"):
        cond = _conditions(services[name])
        assert cond["migrate"] == "service_completed_successfully", name
        assert cond["temporal-init"] == "service_completed_successfully", name


def test_every_setting_reaches_worker_and_api(services: dict) -> None:
    names = {field.upper() for field in Settings.model_fields}
    for name in ("worker", "api", "migrate"):
        missing = names - set(env_of(services[name]))
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_settings_parse_from_the_compose_environment(services: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env_of(services["api"]).items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.bhyt_payment_deadline.total_seconds() == 24 * 3600
    assert settings.bhyt_api_host == "0.0.0.0"


def test_addresses_point_at_the_services(services: dict) -> None:
    env = env_of(services["api"])
    url = make_url(env["DATABASE_URL"])
    assert url.get_backend_name() == "postgresql"
    assert url.host == "postgresql" and url.host in services
    assert env["TEMPORAL_ADDRESS"].split(":")[0] == "temporal"
    demo = dict(
        line.split("=", 1) for line in DEMO_ENV.read_text().splitlines() if line and not line.startswith("#")
    )
    assert make_url(demo["REGISTRY_URL"]).host == "registry-sim" and "registry-sim" in services
    assert make_url(demo["BANK_URL"]).host == "bank-sim" and "bank-sim" in services
    pg = env_of(services["postgresql"])
    assert url.password == pg["BHYT_DB_PASSWORD"], "the app's password is the one the init script sets"
    assert env_of(services["temporal"])["POSTGRES_PWD"] == pg["TEMPORAL_DB_PASSWORD"]


def test_search_attributes_match_the_contract(services: dict) -> None:
    pairs = env_of(services["temporal-init"])["SEARCH_ATTRIBUTES"].split()
    assert dict(p.split("=", 1) for p in pairs) == SEARCH_ATTRIBUTES


def test_every_secret_is_required_and_nothing_falls_back_to_a_dev_value() -> None:
    text = COMPOSE.read_text()
    uses = list(INTERPOLATION.finditer(text))
    required = {m.group(1) for m in uses if m.group(4) is not None}
    assert required >= SECRETS, f"secrets with a fallback: {sorted(SECRETS - required)}"
    for m in uses:
        if m.group(1) in SECRETS:
            assert m.group(4) == ":?", f"{m.group(0)}: a secret must be `${{VAR:?}}`"
        assert "dev" not in (m.group(3) or ""), f"{m.group(0)}: falls back to a development value"
    bare = [m.group(0) for m in uses if m.group(2) is None and m.group(4) is None]
    assert not bare, f"variables neither defaulted nor required: {bare}"


def test_production_is_the_default_and_the_app_would_accept_the_example(
    services: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compose runs with BHYT_ENV=production, and with real values (not the dev ones) the
    processes' own check passes; with the demo file's values it refuses."""
    from production import problems

    env = env_of(services["worker"])
    assert env["BHYT_ENV"] == "production"
    example = {**env, "DATABASE_URL": env["DATABASE_URL"]}
    settings = Settings(
        _env_file=None, **{k.lower(): v for k, v in example.items() if k.lower() in Settings.model_fields}
    )  # type: ignore[call-arg]
    assert problems(settings, environ={}) == []
    demo = dict(
        line.split("=", 1) for line in DEMO_ENV.read_text().splitlines() if line and not line.startswith("#")
    )
    demo = {k: v.strip("'") for k, v in demo.items()}
    demo_settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        **{
            k.lower(): v
            for k, v in {**example, **demo, "BHYT_ENV": "production"}.items()
            if k.lower() in Settings.model_fields
        },
    )
    found = "\n".join(problems(demo_settings, environ={}))
    for name in (
        "BHYT_API_TOKEN",
        "BHYT_IPN_SECRET",
        "BHYT_PAYLOAD_KEYS",
        "BHYT_OPERATOR_TOKENS",
        "REGISTRY_API_KEY",
    ):
        assert name in found, name


def test_demo_env_gives_every_required_variable() -> None:
    required = {m.group(1) for m in INTERPOLATION.finditer(COMPOSE.read_text()) if m.group(4) is not None}
    given = {
        line.split("=", 1)[0]
        for line in DEMO_ENV.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert required <= given, f"deploy/demo.env lacks {sorted(required - given)}"


# -- files the containers run --------------------------------------------------------------------


def _dockerignored(rel: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    first = rel.split("/")[0]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(first, p) for p in patterns)


def _referenced_files(argv: list[str]) -> list[str]:
    """The repository files a `python ...` command line needs."""
    if not argv or argv[0] != "python":
        return []
    files = []
    if argv[1] == "-m":
        module = argv[2].replace(".", "/")
        files.append(f"{module}.py" if (ROOT / f"{module}.py").exists() else f"{module}/__main__.py")
    else:
        files.append(argv[1])
    files += [a for a in argv[2:] if a.endswith((".json", ".py"))]
    return files


def _check(argv: list[str], where: str) -> None:
    for rel in _referenced_files(argv):
        assert (ROOT / rel).exists(), f"{where}: {rel} does not exist"
        assert not _dockerignored(rel), f"{where}: {rel} is excluded by .dockerignore"


def test_compose_commands_name_existing_files(services: dict) -> None:
    for name, svc in services.items():
        if svc.get("build"):
            _check(svc["command"], f"{name} command")
            test = (svc.get("healthcheck") or {}).get("test") or []
            if test and test[0] == "CMD":
                _check(test[1:], f"{name} healthcheck")


def test_mounted_files_exist(services: dict) -> None:
    for name, svc in services.items():
        for volume in svc.get("volumes") or []:
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
        entry = svc.get("entrypoint") or []
        for arg in entry[1:]:
            if arg.startswith("/deploy/"):
                assert (ROOT / "deploy/temporal" / arg.removeprefix("/deploy/")).exists(), f"{name}: {arg}"


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "pip install -c constraints.txt ." in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    cmd = re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.M)
    assert cmd, "CMD in exec form"
    _check(json.loads(cmd[-1]), "Dockerfile CMD")
    for rel in (
        "pyproject.toml",
        "constraints.txt",
        "data/demo.json",
        "scripts/healthcheck.py",
        "scripts/migrate.py",
    ):
        assert not _dockerignored(rel), f"{rel} is excluded from the image"


def test_the_public_address_and_the_template_are_the_operators_to_give() -> None:
    """Issue 21: `http://api:8000` as the default sent the bank's IPN and every receipt link to an
    internal name; the placeholder template passed for a registered one."""
    required = {m.group(1): m for m in INTERPOLATION.finditer(COMPOSE.read_text())}
    for name in ("BHYT_PUBLIC_URL", "BHYT_RECEIPT_TEMPLATE", "BHYT_TRUSTED_PROXIES"):
        assert required[name].group(4) == ":?", f"{name} must be required (`${{{name}:?…}}`)"
