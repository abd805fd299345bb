"""Why a use case did not do what it was asked: what an entry point turns into its answer.

The API answers `NotFound` with 404 and `Refused` with 409, the message as `detail`; the shell
prints the message and exits 1. Messages name the reason, never personal data.
"""

from __future__ import annotations


class UseCaseError(Exception):
    """A use case's refusal; `str(error)` is the reason, fit to show."""


class NotFound(UseCaseError):
    """What the request names does not exist (an application, a transaction)."""


class NoSuchApplication(NotFound):
    """No run has this application id."""

    def __init__(self, application_id: str) -> None:
        super().__init__("no such application")
        self.application_id = application_id


class Refused(UseCaseError):
    """The request does not apply to the application as it stands (already paid, closed, …)."""
