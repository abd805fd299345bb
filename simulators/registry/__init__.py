"""Population registry simulator: the National Population Database (CSDLQG về dân cư) of step 2a.

Start it with (defaults from config.Settings: port 8101, key REGISTRY_API_KEY, db var/registry.db):

    python -m simulators.registry --load tests/support/data/reference.json

Every /v1 and /admin call needs the header ``X-API-Key``. Endpoints:

    GET  /health                          liveness, number of citizens (no key)
    POST /v1/citizens/lookup              {"personal_ids": [...]} (1..100) -> {"citizens": [...]}
    GET  /v1/citizens/{personal_id}       one citizen, 404 if unknown
    GET  /v1/residences/{code}/citizens   everyone with that permanent or temporary residence code
    POST /admin/citizens                  a DESIGN §6 file (or {"citizens": [...]}); upsert
    GET|PUT /admin/faults                 {"latency_ms", "error_rate" 0..1, "outage"}: affect /v1 only
"""

from simulators.registry.app import create_app, load_file

__all__ = ["create_app", "load_file"]
