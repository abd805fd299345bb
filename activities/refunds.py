"""Refunds — the workflow's `refund_payment` activity: money owed back goes back through the bank.

Thin: the refund itself is a use case (`services.refunds.refund_transaction`), which the worker's
refund follower and an operator's `starter.py refund` run too.
"""

from __future__ import annotations

from temporalio import activity

from activities.inputs import RefundInput, RefundResult
from adapters.bank import BankGatewayClient
from adapters.db import Database
from services.refunds import refund_transaction


class RefundActivities:
    def __init__(self, db: Database, bank: BankGatewayClient) -> None:
        self._db = db
        self._bank = bank

    @activity.defn(name="refund_payment")
    async def refund_payment(self, request: RefundInput) -> RefundResult:
        """Full refund of one transaction that is not allocated, through the bank's refund API."""
        result = await refund_transaction(
            self._db, self._bank, request.application_id, request.payment, request.reason
        )
        activity.logger.info("refund for application %s: %s", request.application_id, result.detail)
        return result
