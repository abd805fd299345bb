"""The Temporal side of the public contract (DESIGN §5): names that callers and operators rely on.

Kept apart from the workflow code so that the API, the starter and the tests can name the
workflow, its signals and its search attributes without importing the workflow itself.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

WORKFLOW_TYPE = "HouseholdRenewal"
TASK_QUEUE = "bhyt-renewal"
SIGNAL_PAYMENT_RECEIVED = "payment_received"
SIGNAL_CANCEL = "cancel"
QUERY_STATUS = "status"
UPDATE_QUOTE = "quote"
"""Update that returns once steps 1–2 are done: the quote, or the rejection (update-with-start)."""
UPDATE_RESOLVE_REVIEW = "resolve_review"
"""Update carrying an operator's decision on a payment review (accept a transfer, or refund and
cancel); its validator refuses a decision that does not apply, naming the field."""


def workflow_id(application_id: str) -> str:
    return f"renewal-{application_id}"


SA_RENEWAL_STATUS = SearchAttributeKey.for_keyword("RenewalStatus")
SA_APPLICATION_ID = SearchAttributeKey.for_keyword("ApplicationId")
SA_PROVINCE_CODE = SearchAttributeKey.for_keyword("ProvinceCode")
SA_TOTAL_AMOUNT = SearchAttributeKey.for_int("TotalAmount")
SA_MEMBER_COUNT = SearchAttributeKey.for_int("MemberCount")

SEARCH_ATTRIBUTES: dict[str, str] = {
    "RenewalStatus": "Keyword",
    "ApplicationId": "Keyword",
    "ProvinceCode": "Keyword",
    "TotalAmount": "Int",
    "MemberCount": "Int",
}
"""Name → type, for `temporal server start-dev --search-attribute NAME=Type` and the test server."""
