"""API fuzzing with schemathesis against /api/v1/openapi.json, inside the normal pytest run.

Every operation of the document, each generated request sent as an anonymous caller, a resident, a
sysadmin (who may try every staff action), the worker of the order's grid (held to the ladder) and
the bot's service token; a bounded number of positive and negative examples per operation
(FUZZ_EXAMPLES, small enough for `make test`; raise it for a longer hunt). Checks: never a 5xx, and
every answer is one the document declares — status, content type, headers and body schema. Path
parameters name a real order of the resident about half of the time, so actions reach the
lifecycle rather than stopping at a 404."""
import os
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance)


@pytest.fixture
def api_schema(app, db, redis, stub):
    # Negative data too: what the document forbids must be refused as input, never crash a view.
    return schemathesis.from_wsgi("/api/v1/openapi.json", app,
                                  data_generation_methods=schemathesis.DataGenerationMethod.all())


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def people(make, auth):
    resident = make.resident()
    street = make.street()
    community = make.community(street, name="水晶城社区", aliases=["水晶城小区"])
    grid = make.grid(community)
    make.building(grid, number=3)
    admin, worker = make.staff("sysadmin"), make.staff("grid_worker", grid=grid)
    return {"resident": resident, "headers": {"anonymous": {}, "resident": auth.headers_for(resident),
                                              "staff": auth.headers_for(admin),
                                              "worker": auth.headers_for(worker), "bot": auth.bot()},
            "order": lambda: make.order(resident, location_text="水晶城小区3号楼").number}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, people):
    if "number" in (case.path_parameters or {}) and zlib.crc32(case.path_parameters["number"].encode()) % 2:
        case.path_parameters["number"] = people["order"]()
    for who, headers in people["headers"].items():
        case.call_and_validate(headers=headers, checks=CHECKS)


def test_integers_beyond_64_bits_are_refused_as_input(client, make, auth):
    """The two 500s a first schemathesis run found (issue 12): both now 422 with the field named."""
    admin = auth.headers_for(make.staff("sysadmin"))
    listed = client.get("/api/v1/orders?offset=4816379011821602865152", headers=admin)
    assert listed.status_code == 422 and "offset" in listed.json["error"]["fields"]
    number = make.order(location_text="不知道哪里").number
    moved = client.post(f"/api/v1/orders/{number}/transfer", json={"reason": "x", "building_id": 2**70},
                        headers=admin)
    assert moved.status_code == 422 and "building_id" in moved.json["error"]["fields"]
