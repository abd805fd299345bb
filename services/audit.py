"""The operators' audit: every decision an operator took, whoever's tool carried it (API or shell).

Written after the decision took effect, in its own transaction, with the operator the token
named (never a name from a request body).
"""

from __future__ import annotations

from adapters.db import Database


async def record_operator_action(
    db: Database,
    *,
    operator: str,
    application_id: str,
    action: str,
    transaction: str | None = None,
    override: bool = False,
    reason: str | None = None,
) -> None:
    """One line of the audit (who, which application, what, why), committed."""
    async with db.unit_of_work() as uow:
        await uow.repo.record_operator_action(
            operator=operator,
            application_id=application_id,
            action=action,
            transaction=transaction,
            override=override,
            reason=reason,
        )
        await uow.commit()
