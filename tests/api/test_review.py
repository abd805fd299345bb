"""Issue 20, finding 4: operator decisions need an operator's own token, and the audit names the
operator that token belongs to, never a name from the body."""

from __future__ import annotations

import asyncio

from domain.models import ApplicationStatus
from tests.api.conftest import AUTH, Api

OPERATOR = {"Authorization": "Bearer dev-operator-token"}


async def in_review(api: Api) -> tuple[str, dict]:
    created = (await api.declare()).json()
    application_id = created["application_id"]
    txn_ref, amount = created["payment"]["txn_ref"], created["payment"]["amount"]
    await api.order(application_id, txn_ref, amount)
    assert (await api.ipn(api.callback(txn_ref, amount - 1)))["RspCode"] == "04"
    url = f"/api/v1/renewals/{application_id}"
    for _ in range(100):
        view = (await api.http.get(url, headers=AUTH)).json()
        if view["status"] == ApplicationStatus.PAYMENT_REVIEW:
            return application_id, view
        await asyncio.sleep(0.05)
    raise AssertionError(f"not in review: {view['status']}")


async def test_the_portal_token_cannot_decide_a_review(api: Api) -> None:
    application_id, _ = await in_review(api)
    url = f"/api/v1/renewals/{application_id}/review"
    answer = await api.http.post(url, json={"action": "refund_and_cancel"}, headers=AUTH)
    assert answer.status_code == 403
    assert (await api.http.post(url, json={"action": "refund_and_cancel"})).status_code == 401
    view = (await api.http.get(f"/api/v1/renewals/{application_id}", headers=AUTH)).json()
    assert view["status"] == ApplicationStatus.PAYMENT_REVIEW  # nothing changed


async def test_the_audit_names_the_operator_of_the_token_not_the_body(api: Api) -> None:
    application_id, _ = await in_review(api)
    url = f"/api/v1/renewals/{application_id}/review"
    forged = await api.http.post(
        url, json={"action": "refund_and_cancel", "operator": "someone.else"}, headers=OPERATOR
    )
    assert forged.status_code == 422 and "operator" in forged.text and "someone.else" not in forged.text
    answer = await api.http.post(url, json={"action": "refund_and_cancel"}, headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == ApplicationStatus.CANCELLED
    async with api.db.unit_of_work(read_only=True) as uow:
        actions = await uow.repo.operator_actions_of(application_id)
    assert [(a.operator, a.action) for a in actions] == [("dev-operator", "refund_and_cancel")]


async def test_accepting_a_transaction_the_bank_did_not_confirm_needs_an_override_with_a_reason(
    api: Api,
) -> None:
    api.backend.reconcile_reason = "bank_has_no_such_transaction"
    created = (await api.declare()).json()
    application_id = created["application_id"]
    txn_ref, amount = created["payment"]["txn_ref"], created["payment"]["amount"]
    await api.order(application_id, txn_ref, amount)
    params = api.callback(txn_ref, amount)
    assert (await api.ipn(params))["RspCode"] == "00"
    url = f"/api/v1/renewals/{application_id}"
    for _ in range(100):
        view = (await api.http.get(url, headers=AUTH)).json()
        if view["status"] == ApplicationStatus.PAYMENT_REVIEW:
            break
        await asyncio.sleep(0.05)
    assert view["status"] == ApplicationStatus.PAYMENT_REVIEW
    transaction = params["vnp_TransactionNo"]
    accept = {"action": "accept", "transaction": transaction}
    refused = await api.http.post(f"{url}/review", json=accept, headers=OPERATOR)
    assert refused.status_code == 409 and "override" in refused.json()["detail"]
    no_reason = await api.http.post(f"{url}/review", json={**accept, "override": True}, headers=OPERATOR)
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    api.backend.reconcile_reason = None
    done = await api.http.post(
        f"{url}/review",
        json={**accept, "override": True, "reason": "bank statement checked by phone"},
        headers=OPERATOR,
    )
    assert done.status_code == 200, done.text
    [shown] = [p for p in done.json()["payments"] if p["transaction"] == transaction]
    assert "dev-operator" in shown["reason"] and "bank statement checked by phone" in shown["reason"]
    async with api.db.unit_of_work(read_only=True) as uow:
        [action] = await uow.repo.operator_actions_of(application_id)
    assert (action.operator, action.action, action.override, action.reason) == (
        "dev-operator", "accept", True, "bank statement checked by phone",
    )  # fmt: skip


async def test_an_operator_decides_on_a_refund_due_with_their_own_token(api: Api) -> None:
    from adapters.db.payments import payment_of

    application_id, _ = await in_review(api)
    url = f"/api/v1/renewals/{application_id}"
    assert (
        await api.http.post(f"{url}/review", json={"action": "refund_and_cancel"}, headers=OPERATOR)
    ).status_code == 200
    async with api.db.unit_of_work() as uow:
        record = await uow.repo.get_application(application_id)
        [row] = await uow.repo.payments_of(record.txn_ref)
        payment = payment_of(row)
        await uow.repo.record_refund_step(
            payment, "rejected:09", refund_transaction_no=None, next_check_at=None
        )
        await uow.commit()
    target = f"{url}/refunds/{row.payment_key}"
    assert (await api.http.post(target, json={"decision": "paid_back"}, headers=AUTH)).status_code == 403
    shown = (await api.http.get(url, headers=AUTH)).json()
    assert [p["outcome"] for p in shown["payments"]] == ["refund_due"]
    unknown = await api.http.post(f"{url}/refunds/nope", json={"decision": "paid_back"}, headers=OPERATOR)
    assert unknown.status_code == 404
    done = await api.http.post(
        target, json={"decision": "paid_back", "reason": "cash at the office"}, headers=OPERATOR
    )
    assert done.status_code == 200, done.text
    [paid_back] = done.json()["payments"]
    assert paid_back["outcome"] == "refunded" and "dev-operator" in paid_back["reason"]
    again = await api.http.post(target, json={"decision": "retry"}, headers=OPERATOR)
    assert again.status_code == 409 and "transaction" in again.json()["detail"]
    async with api.db.unit_of_work(read_only=True) as uow:
        actions = await uow.repo.operator_actions_of(application_id)
    assert [(a.operator, a.action, a.reason) for a in actions][-1] == (
        "dev-operator",
        "refund_paid_back",
        "cash at the office",
    )
