"""Shared test helpers: real processes on free ports, a recording merchant, the reference data.

    from tests.support import free_port, start_registry, start_bank, RecordingMerchant, UvicornThread

`REFERENCE_FILE` is a small DESIGN §6 file (citizens, participants, household contributions)
whose households cover the residence cases of step 2a: shared permanent residence, shared
temporary residence only, no shared residence, a deceased member, a person unknown to the registry.
"""

from tests.support.merchant import IpnCall, RecordingMerchant, UvicornThread
from tests.support.processes import (
    ROOT,
    ServiceProcess,
    free_port,
    start_bank,
    start_registry,
    start_service,
    wait_for_http,
)
from tests.support.reference import REFERENCE_FILE, UNKNOWN_PERSONAL_ID, reference_data

__all__ = [
    "REFERENCE_FILE",
    "ROOT",
    "UNKNOWN_PERSONAL_ID",
    "IpnCall",
    "RecordingMerchant",
    "ServiceProcess",
    "UvicornThread",
    "free_port",
    "reference_data",
    "start_bank",
    "start_registry",
    "start_service",
    "wait_for_http",
]
