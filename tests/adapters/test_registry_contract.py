"""Contract: `adapters.registry.RegistryClient` against the registry simulator, as a real process.

The simulator runs as `python -m simulators.registry` on a free port with its own SQLite file,
loaded from the reference file, so every call here crosses a real socket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from adapters.registry import (
    RegistryBadRequest,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
)
from domain.models import Citizen, Gender, Residence
from simulators.registry import create_app
from tests.support import REFERENCE_FILE, UNKNOWN_PERSONAL_ID, free_port, reference_data, start_registry

API_KEY = "contract-test-key"
AN, BINH, CHAU, GIAU = "001080012345", "001182023456", "001210034567", "001055089012"
EM, PHUONG = "048090067890", "048192078901"
PERSONAL_NUMBER = re.compile(r"\d{12}")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    tmp = tmp_path_factory.mktemp("registry")
    with start_registry(tmp / "registry.db", load=REFERENCE_FILE, api_key=API_KEY, log_dir=tmp) as service:
        yield service


@pytest.fixture
async def admin(registry) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the simulator's admin calls, which the adapter deliberately does not offer."""
    async with httpx.AsyncClient(base_url=registry.base_url, headers={"X-API-Key": API_KEY}) as http:
        yield http
        # faults are process state shared by the module: leave the simulator healthy
        (await http.put("/admin/faults", json={})).raise_for_status()


@pytest.fixture
async def client(registry, admin) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(registry.base_url, API_KEY, timeout=2.0) as client:
        yield client


async def set_faults(admin: httpx.AsyncClient, **faults) -> None:
    (await admin.put("/admin/faults", json=faults)).raise_for_status()


async def test_lookup_many_in_one_call_leaves_unknown_people_out(client):
    found = await client.lookup([AN, BINH, UNKNOWN_PERSONAL_ID, AN])
    assert set(found) == {AN, BINH}
    an = found[AN]
    assert isinstance(an, Citizen)
    assert an.full_name == "Nguyễn Văn An"
    assert an.gender is Gender.MALE
    assert an.permanent_residence == Residence(code="HN-BD-0001", address="12 Phố Đội Cấn, Ba Đình, Hà Nội")
    assert an.temporary_residence is None
    assert not an.deceased


async def test_lookup_of_nobody_makes_no_call(client):
    assert await client.lookup([]) == {}


async def test_lookup_splits_large_requests_into_batches(client):
    many = [f"0010800{n:05d}" for n in range(250)] + [AN]
    found = await client.lookup(many)
    assert set(found) == {AN}


async def test_get_returns_one_citizen_with_the_deceased_flag(client):
    giau = await client.get(GIAU)
    assert giau.deceased
    em = await client.get(EM)
    assert em.temporary_residence == Residence(code="DN-HC-0003", address="88 Trần Phú, Hải Châu, Đà Nẵng")


async def test_unknown_person_is_not_found_and_the_error_names_no_one(client):
    with pytest.raises(RegistryNotFound) as caught:
        await client.get(UNKNOWN_PERSONAL_ID)
    assert not caught.value.retryable
    assert not PERSONAL_NUMBER.search(str(caught.value))


async def test_residents_lists_permanent_and_temporary_registrations(client):
    household = await client.residents("HN-BD-0001")
    assert {c.personal_id for c in household} >= {AN, BINH, CHAU, GIAU}
    temporary = await client.residents("DN-HC-0003")
    assert {c.personal_id for c in temporary} == {EM, PHUONG}
    assert await client.residents("NO-SUCH-CODE") == []


async def test_malformed_personal_number_is_a_bad_request_without_echoing_it(client):
    with pytest.raises(RegistryBadRequest) as caught:
        await client.lookup(["12345", AN])
    assert caught.value.status_code == 422
    assert not caught.value.retryable
    assert not PERSONAL_NUMBER.search(str(caught.value))


async def test_wrong_api_key_is_a_bad_request(registry):
    async with RegistryClient(registry.base_url, "wrong-key") as client:
        with pytest.raises(RegistryBadRequest) as caught:
            await client.get(AN)
    assert caught.value.status_code == 401


async def test_outage_is_retryable_and_recovers(admin, client):
    await set_faults(admin, outage=True)
    with pytest.raises(RegistryUnavailable) as caught:
        await client.get(AN)
    assert caught.value.retryable
    assert caught.value.status_code == 503
    with pytest.raises(RegistryUnavailable):
        await client.residents("HN-BD-0001")
    await set_faults(admin, outage=False)
    assert (await client.get(AN)).personal_id == AN


async def test_error_share_is_exact_and_deterministic(admin, client):
    await set_faults(admin, error_rate=0.5)
    outcomes = []
    for _ in range(6):
        try:
            await client.lookup([AN])
            outcomes.append("ok")
        except RegistryUnavailable:
            outcomes.append("503")
    assert outcomes == ["ok", "503"] * 3


async def test_latency_beyond_the_timeout_is_retryable(registry, admin):
    await set_faults(admin, latency_ms=1500)
    try:
        async with RegistryClient(registry.base_url, API_KEY, timeout=0.3) as slow:
            with pytest.raises(RegistryUnavailable, match="timed out"):
                await slow.get(AN)
    finally:
        await set_faults(admin)


async def test_latency_within_the_timeout_still_answers(admin, client):
    await set_faults(admin, latency_ms=200)
    assert (await client.get(BINH)).full_name == "Trần Thị Bình"


async def test_registry_process_down_is_retryable():
    async with RegistryClient(f"http://127.0.0.1:{free_port()}", API_KEY, timeout=1.0) as client:
        with pytest.raises(RegistryUnavailable) as caught:
            await client.lookup([AN])
    assert caught.value.retryable
    assert isinstance(caught.value, RegistryError)


async def test_log_lines_carry_no_personal_numbers(client, caplog):
    caplog.set_level(logging.DEBUG)
    await client.lookup([AN, BINH])
    await client.get(CHAU)
    with pytest.raises(RegistryNotFound):
        await client.get(UNKNOWN_PERSONAL_ID)
    assert caplog.records, "the adapter should log its calls"
    for record in caplog.records:
        assert not PERSONAL_NUMBER.search(record.getMessage()), record.getMessage()


async def test_loading_the_reference_file_again_is_idempotent(admin, client):
    before = (await admin.get("/health")).json()["citizens"]
    data = reference_data()
    response = await admin.post("/admin/citizens", json=data)
    assert response.status_code == 200
    assert response.json() == {"loaded": len(data["citizens"]), "total": before}
    assert (await client.get(AN)).full_name == "Nguyễn Văn An"


async def test_data_survives_a_restart_of_the_simulator(tmp_path):
    db = tmp_path / "registry.db"
    with start_registry(db, load=REFERENCE_FILE, api_key=API_KEY, log_dir=tmp_path):
        pass
    with start_registry(db, api_key=API_KEY, log_dir=tmp_path) as again:
        async with RegistryClient(again.base_url, API_KEY) as client:
            assert (await client.get(AN)).full_name == "Nguyễn Văn An"


# -- in-process checks of the simulator's own HTTP surface (fast, same app) -----------------------


@pytest.fixture
async def asgi(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(tmp_path / "r.db", api_key=API_KEY, load=REFERENCE_FILE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://registry", headers={"X-API-Key": API_KEY}
    ) as c:
        yield c


async def test_get_endpoint_answers_404_for_unknown_and_422_for_malformed(asgi):
    assert (await asgi.get(f"/v1/citizens/{AN}")).json()["personal_id"] == AN
    assert (await asgi.get(f"/v1/citizens/{UNKNOWN_PERSONAL_ID}")).status_code == 404
    assert (await asgi.get("/v1/citizens/abc")).status_code == 422


async def test_admin_accepts_just_the_citizens_part_and_rejects_bad_rows(asgi):
    row = reference_data()["citizens"][0] | {"personal_id": "001080000001"}
    assert (await asgi.post("/admin/citizens", json={"citizens": [row]})).json()["loaded"] == 1
    bad = row | {"gender": "x"}
    assert (await asgi.post("/admin/citizens", json={"citizens": [bad]})).status_code == 422


async def test_health_needs_no_key_but_data_does(tmp_path):
    app = create_app(tmp_path / "r.db", api_key=API_KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as c:
        assert (await c.get("/health")).json() == {"status": "ok", "citizens": 0}
        assert (await c.post("/v1/citizens/lookup", json={"personal_ids": [AN]})).status_code == 401
        assert (await c.put("/admin/faults", json={"outage": True})).status_code == 401


async def test_adapter_works_over_an_in_process_transport(tmp_path):
    """The `transport=` seam lets higher-level tests skip the socket when speed matters."""
    app = create_app(tmp_path / "r.db", api_key=API_KEY, load=REFERENCE_FILE)
    async with RegistryClient("http://registry", API_KEY, transport=httpx.ASGITransport(app=app)) as client:
        assert set(await client.lookup([AN, UNKNOWN_PERSONAL_ID])) == {AN}
