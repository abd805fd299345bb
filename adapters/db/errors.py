"""Errors the database adapter raises on purpose.

`AllocationError` and its subclasses are business outcomes (retrying cannot change them): list
their names in the activity's `non_retryable_error_types`. Messages carry identifiers of
applications and bank transactions only, never a person's name or numbers.
"""

from __future__ import annotations


class AllocationError(Exception):
    """The payment cannot be allocated to this application as asked."""


class PaymentMismatchError(AllocationError):
    """The payment does not match the application (amount, order reference, or not paid)."""


class PaymentAlreadyAllocatedError(AllocationError):
    """The bank transaction was already allocated to another application."""


class UnknownParticipantError(AllocationError):
    """A quoted card no longer exists in the BHXH records."""
