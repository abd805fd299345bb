"""A refund as VNPay processes it: a small state machine of its own (issue 20).

    (none) ──request──▶ requested ──bank answer──▶ in_process ──querydr──▶ refunded
                           │  ▲ answer lost:            │
                           │  └ querydr first           └──querydr──▶ rejected (refund due)
                           └─ bank refused (91/93/95/02/03) ─────────▶ rejected
    rejected ──operator: retry──▶ retry ──new request──▶ …      rejected ──operator: paid back──▶ paid_back

The bank's answers, as VNPay's merchant API gives them (README, "For bank integrators"):
- `refund`: vnp_ResponseCode `00` means the request was taken; its vnp_TransactionStatus tells
  how far it went (`05` VNPAY processing, `06` sent to the bank, `00` refunded, `09` rejected).
  `94` means a refund was already requested for this transaction and VNPAY is processing it (or
  a repeated vnp_RequestId): ask querydr. `91`/`93`/`95`/`02`/`03` refuse the request: nothing
  was refunded. `97`/`99` say nothing about the refund: retry later.
- `querydr` (about one transaction): vnp_TransactionType `02`/`03` when a refund is on record,
  with the refund's status (`05`, `06`, `00` done, `09` rejected); type `01` when none is.

Pure: the activity and the worker's follower ask the bank and store; this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RefundState(StrEnum):
    NONE = "none"
    """No refund request on record: one may be sent (with a new request id)."""
    REQUESTED = "requested"
    """A request was (or is about to be) sent and its answer is not known: ask before resending."""
    IN_PROCESS = "in_process"
    """The bank has the request and is processing it (VNPay status 05/06)."""
    REFUNDED = "refunded"
    """The bank says the money went back."""
    REJECTED = "rejected"
    """The bank refused or rejected the refund: refund due, an operator decides."""
    PAID_BACK = "paid_back"
    """An operator returned the money by other means (recorded with the operator's name)."""
    RETRY = "retry"
    """An operator asked for a new request after a rejection: it goes out without asking the
    bank first (the bank's refund on record is the rejected one)."""


FINAL = frozenset({RefundState.REFUNDED, RefundState.PAID_BACK})

# vnp_TransactionStatus of a refund (VNPay's table)
STATUS_DONE = "00"
STATUS_PROCESSING = "05"
STATUS_SENT_TO_BANK = "06"
STATUS_REJECTED = "09"
IN_PROCESS_STATUSES = frozenset({STATUS_PROCESSING, STATUS_SENT_TO_BANK})
REFUND_TYPES = frozenset({"02", "03"})
"""vnp_TransactionType of a full (02) or partial (03) refund; 01 is the payment itself."""

REFUSED_CODES = frozenset({"02", "03", "91", "93", "95"})
"""Refund answers that refuse the request: no refund was made or is in process."""
ASK_CODES = frozenset({"94"})
"""Refund answers that say a refund may already be on record: ask querydr."""


@dataclass(frozen=True)
class Step:
    """What one bank answer makes of the refund: the new state, and whether to ask querydr now."""

    state: RefundState
    ask: bool = False
    detail: str = ""


def stored_state(refund_status: str | None) -> RefundState:
    """The state a `bank_payments.refund_status` value holds (`rejected:<code>` and the older
    `refused:<code>` are both rejected)."""
    if not refund_status:
        return RefundState.NONE
    head = refund_status.split(":", 1)[0]
    if head in ("rejected", "refused"):
        return RefundState.REJECTED
    return RefundState(head)


def stored_value(step: Step) -> str:
    """What `bank_payments.refund_status` keeps for a state (the bank's code with a rejection)."""
    if step.state == RefundState.REJECTED and step.detail:
        return f"rejected:{step.detail}"[:32]
    return step.state.value


def after_refund_answer(response_code: str, transaction_status: str) -> Step:
    """The refund request's answer. Raises nothing: `97`/`99` never reach here (the adapter
    raises, and the activity retries)."""
    if response_code == "00":
        if transaction_status == STATUS_DONE:
            return Step(RefundState.REFUNDED, detail="00")
        if transaction_status == STATUS_REJECTED:
            return Step(RefundState.REJECTED, detail="00/09")
        # 05, 06, or no status: the request was taken; querydr tells the rest
        return Step(RefundState.IN_PROCESS, detail=f"00/{transaction_status or '-'}")
    if response_code in ASK_CODES:
        return Step(RefundState.REQUESTED, ask=True, detail=response_code)
    return Step(RefundState.REJECTED, detail=response_code or "-")


def after_query(response_code: str, transaction_type: str, transaction_status: str) -> Step:
    """querydr's answer about the transaction. `NONE` means the bank has no refund on record:
    a new request (with a new request id) may be sent."""
    if response_code != "00":
        return Step(RefundState.REQUESTED, detail=f"querydr {response_code}")
    if transaction_type not in REFUND_TYPES:
        return Step(RefundState.NONE, detail="no refund at the bank")
    if transaction_status == STATUS_DONE:
        return Step(RefundState.REFUNDED, detail="querydr 00")
    if transaction_status == STATUS_REJECTED:
        return Step(RefundState.REJECTED, detail="09")
    return Step(RefundState.IN_PROCESS, detail=f"querydr {transaction_status}")


def request_id(transaction_key: str, attempt: int) -> str:
    """vnp_RequestId of the `attempt`-th refund request of a transaction (1, 2, …): unique per
    request, as VNPay wants it (a repeat is refused), alphanumeric, at most 32 characters."""
    key = "".join(ch for ch in transaction_key if ch.isalnum())
    suffix = f"N{attempt}"
    return ("RF" + key)[: 32 - len(suffix)] + suffix


def next_check_delay(checks: int, *, base_seconds: float, max_seconds: float) -> float:
    """Backoff of the refund follower: base, 2×base, 4×base, … capped."""
    return float(min(base_seconds * 2 ** min(checks, 30), max_seconds))
