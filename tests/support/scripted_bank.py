"""A bank that answers the merchant API from a script, signed as VNPay signs (for the findings).

Each call to `/merchant_webapi/api/transaction` takes the next scripted step for its command:
`("answer", fields)` signs and returns those fields; `("lost", fields)` lets the bank act (the
request is recorded as received) and then loses the answer (a read timeout); `("unreached",)`
fails before the bank sees anything (a connection error)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters import vnpay_api

SECRET = "scripted-secret"
TMN = "BHXHTEST"


@dataclass
class ScriptedBank:
    script: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    received: list[dict[str, str]] = field(default_factory=list)
    """Every request that reached the bank, in order."""

    def requests(self, command: str) -> list[dict[str, str]]:
        return [r for r in self.received if r.get("vnp_Command") == command]

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = {k: str(v) for k, v in json.loads(request.content).items()}
        command = body["vnp_Command"]
        assert vnpay_api.verify(body, vnpay_api.request_fields(command), SECRET), "our request must verify"
        steps = self.script.get(command) or []
        if not steps:
            raise AssertionError(f"unscripted {command}")
        step = steps.pop(0)
        if step[0] == "unreached":
            raise httpx.ConnectError("scripted: bank unreachable", request=request)
        self.received.append(body)
        answer = {
            "vnp_ResponseId": body.get("vnp_RequestId", ""),
            "vnp_Command": command,
            "vnp_TmnCode": TMN,
            "vnp_TxnRef": body.get("vnp_TxnRef", ""),
            **step[1],
        }
        signed = vnpay_api.signed(answer, vnpay_api.response_fields(command), SECRET)
        if step[0] == "lost":
            raise httpx.ReadTimeout("scripted: answer lost", request=request)
        return httpx.Response(200, json=signed)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)
