"""The notices' facts read from the models, and when a renewed card can first be used.

Their words are in `domain.messages` (which cannot import the models: `domain.models` imports
it). Amounts and dates only: no personal data.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain import messages
from domain.application import VIETNAM_TZ
from domain.models import PaymentInstructions, Quote


def payment_due(quote: Quote, payment: PaymentInstructions) -> str:
    return messages.payment_due(
        cards=len(quote.lines),
        total=quote.total,
        total_in_words=quote.total_in_words,
        txn_ref=payment.txn_ref,
        deadline=payment.deadline.astimezone(VIETNAM_TZ),
    )


def expired(payment: PaymentInstructions) -> str:
    return messages.expired(txn_ref=payment.txn_ref, deadline=payment.deadline.astimezone(VIETNAM_TZ))


def usable_from(valid_from: date, old_valid_to: date | None, notice_date: date) -> date | None:
    """The day a renewed card can first be used at a hospital, when that is after the notice.

    None when the member is covered from the notice on: the old card runs into the new period
    (renewed before expiry), or the new period has already started (lapse under 90 days). A lapse
    of 90 days or more, a first participation, or a lapsed card of another group joining starts
    30 days after payment (domain.validity): the prescribed words «kể từ ngày nhận được thông báo
    này» alone would send that member to hospital too early (issue 22 finding 2)."""
    continuous = old_valid_to is not None and old_valid_to >= valid_from - timedelta(days=1)
    if continuous or valid_from <= notice_date:
        return None
    return valid_from
