"""`starter.py review` without an id: what waits for an operator, oldest first (the query is the
adapter's, adapters/db/applications.py `waiting_review`)."""

from __future__ import annotations

import operator_views
from domain.models import ApplicationStatus
from tests.services.conftest import a_view, recorded


async def test_applications_in_review_are_listed_with_the_runs_reason(db, temporal) -> None:
    view = a_view(ApplicationStatus.PAYMENT_REVIEW).model_copy(update={"review_reason": "amount_mismatch"})
    temporal.add(view)
    await recorded(db, view)
    await recorded(db, a_view(ApplicationStatus.AWAITING_PAYMENT))
    queue = await operator_views.review_queue(temporal, db)
    assert [(w.application_id, w.reason) for w in queue] == [(view.application_id, "amount_mismatch")]
