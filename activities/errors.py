"""How activity failures reach the workflow: business answers are non-retryable, outages retry.

Temporal retries an activity on any exception unless it is an ApplicationError marked
non-retryable (or its type is listed in the retry policy's non_retryable_error_types).
Messages carry codes and counts only, never personal data, because operators see them.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

DECLARATION_INVALID = "DeclarationInvalid"
REGISTRY_BAD_REQUEST = "RegistryBadRequest"
BANK_REJECTED = "BankRejected"
APPLICATION_NOT_FOUND = "ApplicationNotFound"
CANCEL_REQUESTED = "CancelRequested"
"""Step 3 found the declarant's cancel on record: no order was opened (issue 12)."""

# the database adapter's allocation errors are business outcomes too (adapters/db/errors.py)
ALLOCATION_REFUSED = [
    "AllocationError",
    "PaymentMismatchError",
    "PaymentAlreadyAllocatedError",
    "UnknownParticipantError",
]

NON_RETRYABLE = [
    DECLARATION_INVALID,
    REGISTRY_BAD_REQUEST,
    BANK_REJECTED,
    APPLICATION_NOT_FOUND,
    CANCEL_REQUESTED,
    *ALLOCATION_REFUSED,
]


def business_error(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)
