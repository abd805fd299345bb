"""An API that holds under bad input (issue 11, point 10): who asks first, then how much."""

from __future__ import annotations

from collections.abc import AsyncIterator

from api.body import MAX_BODY_BYTES
from tests.support.portal import AUTH, Portal, declaration


async def test_the_token_is_checked_before_the_body_is_read(api: Portal) -> None:
    """FastAPI parsed the body (any size) before the 401."""
    read: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            read.append(1)
            yield b"x" * 65536

    review = "/api/v1/renewals/6d1f7c8e-0000-4000-8000-000000000000/review"
    for path in ("/api/v1/renewals", review):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = await api.http.post(path, content=body(), headers=headers)
            assert response.status_code == 401
    assert read == []
    # the portal's token is not an operator's (issue 20): 403, the body still unread
    response = await api.http.post(review, content=body(), headers=AUTH)
    assert response.status_code == 403 and read == []
    # with an operator's token, an over-long body is cut off at the limit
    response = await api.http.post(review, content=body(), headers={"Authorization": "Bearer dev-operator-token"})
    assert response.status_code == 413 and 0 < len(read) <= 2


async def test_a_malformed_body_without_token_is_401_not_422(api: Portal) -> None:
    response = await api.http.post(
        "/api/v1/renewals", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


async def test_a_body_over_the_limit_is_413(api: Portal) -> None:
    big = b'{"head": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = await api.http.post("/api/v1/renewals", content=big, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["detail"]

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"head": "'
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b"a" * 1024
        yield b'"}'

    response = await api.http.post("/api/v1/renewals", content=streamed(), headers=AUTH)
    assert response.status_code == 413


async def test_malformed_or_empty_bodies_are_422(api: Portal) -> None:
    for content in (b"{not json", b"", b"[1, 2]", b"\xff\xfe", b"[" * 100_00 + b"]" * 100_00):
        response = await api.http.post("/api/v1/renewals", content=content, headers=AUTH)
        assert response.status_code in (422, 413), (content[:10], response.status_code)
        assert response.status_code == 422 or len(content) > MAX_BODY_BYTES


async def test_a_name_with_nul_is_a_422_naming_the_field_and_not_a_500(api: Portal) -> None:
    body = declaration()
    body["members"][0]["full_name"] = "Nguyễn\x00Văn An"
    response = await api.declare(body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "members", 0, "full_name"],
            "msg": "must not contain control characters",
            "type": "name_control_character",
        }
    ]


async def test_every_route_has_an_operation_id_and_a_response_model(api: Portal) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    operation_ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            assert ok is not None and ok.get("content"), (method, path)
            for content in ok["content"].values():
                assert content["schema"] not in ({}, {"title": "Response"}), (method, path)
    assert len(set(operation_ids)) == len(operation_ids)
    assert all(op_id.isidentifier() for op_id in operation_ids)
    ipn = spec["paths"]["/api/v1/payments/ipn"]["get"]
    assert {p["name"] for p in ipn["parameters"]} >= {"vnp_TxnRef", "vnp_SecureHash", "vnp_Amount"}
    receipt = spec["paths"]["/api/v1/renewals/{application_id}/receipt"]["get"]["responses"]["200"]["content"]
    assert receipt["application/json"]["schema"] == {"$ref": "#/components/schemas/ReceiptAnswer"}
