"""Property-based run of the whole API (Schemathesis, in-process, bounded examples).

A longer run: ``make bench-api`` (the same test with GEODISPATCH_FUZZ_EXAMPLES=200).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from geodispatch.api import create_app
from tests.workflow.workflow_helpers import import_and_group, item, make_routes, make_settings


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    home = Path(tmp_path_factory.mktemp("fuzz"))
    # limits high enough that the fuzzer explores the operations, not the 429 answer
    config = make_settings(
        home, rate_limit_posts="100000/minute", rate_limit_sign_ins="100000/minute"
    )
    import_and_group(config, [item(f"f{i}", lat=42.30 + i * 0.001) for i in range(5)])
    make_routes(config, crews=1, stops_per_crew=1)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config))


def fuzz(schema: schemathesis.BaseSchema, *, examples: int) -> list[str]:
    """Run every operation with ``examples`` generated cases; returns the operations run.

    Hypothesis drives Schemathesis's strategies directly (its pytest plugin does not load
    under this pytest). Every default check runs (no 5xx; status codes, content types,
    headers and bodies as the OpenAPI document declares them; bad input refused) except
    "schema-valid data is accepted": the API has rules a schema cannot state (a date
    span of at most 90 days, ids that must exist, a PIN that must match), so valid-looking
    requests are rightly refused with 400/401/404.
    """
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        run()
        ran.append(operation.label)
    return ran


def test_api_conforms_to_its_openapi_and_never_answers_5xx(
    api_schema: schemathesis.BaseSchema,
) -> None:
    ran = fuzz(api_schema, examples=int(os.environ.get("GEODISPATCH_FUZZ_EXAMPLES", "10")))
    assert "POST /open311/v2/requests.{fmt}" in ran
    assert "POST /crew/stops/{stop_id}/updates" in ran
    assert len(ran) == 14  # 8 GeoReport operations, 4 crew operations, 2 unsubscribe links
