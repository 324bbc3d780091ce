"""Schemathesis on the Open311 GeoReport draft (tests/data/open311): every check, no 5xx.

The draft is a Swagger 2.0 description whose details disagree with the frozen v2 page in
places; :func:`draft_as_served` applies exactly the deviations README.md lists under
"Deviations from the Open311 draft", and every check must then pass. Examples per
operation: ``GEODISPATCH_FUZZ_EXAMPLES`` (10 by default; ``make bench-api`` runs 200).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from geodispatch.api import create_app
from tests.workflow.workflow_helpers import import_and_group, item, make_settings

DATA = Path(__file__).resolve().parents[1] / "data" / "open311"
DRAFT = DATA / "georeport_v2-1_draft_openapi.yaml"
ERRORS = {
    "description": "the v2 page's error list",
    "schema": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        },
    },
}
#: Deviation 4: rules no schema states (90-day spans, years 1900-2199, our numeric ids).
RULES_NOT_IN_THE_SCHEMA = {"GET /requests.{response_format}"}


def draft_as_served(raw: dict[str, Any]) -> dict[str, Any]:
    """The draft with the README's deviations applied (numbers as in the README list)."""
    draft = copy.deepcopy(raw)
    draft["basePath"] = "/open311/v2"  # the draft names no base path
    # 1. formats: json or xml, as the v2 page says (the draft allows any string)
    draft["parameters"]["response_format"]["enum"] = ["json", "xml"]
    # 2. one request: /requests/{id} answering a one-element list, as on the v2 page (the
    #    draft has /request/{id} and one object); tokens answer a list likewise
    one = draft["paths"].pop("/request/{service_request_id}.{response_format}")
    one["get"]["responses"]["200"]["schema"] = {
        "type": "array",
        "items": {"$ref": "#/definitions/Request"},
    }
    draft["paths"]["/requests/{service_request_id}.{response_format}"] = one
    token = draft["paths"]["/tokens/{token_id}.{response_format}"]["get"]["responses"]["200"]
    token["schema"] = {"type": "array", "items": token["schema"]}
    # 3. errors: every operation may answer the v2 page's 400, 403 and 404 error lists
    for path in draft["paths"].values():
        for operation in path.values():
            for code in ("400", "403", "404"):
                operation["responses"][code] = ERRORS
    return draft


@pytest.fixture(scope="module")
def draft_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    home = Path(tmp_path_factory.mktemp("draft"))
    config = make_settings(home, rate_limit_posts="100000/minute")
    import_and_group(config, [item(f"d{i}", lat=42.30 + i * 0.001) for i in range(5)])
    raw = yaml.safe_load(DRAFT.read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(draft_as_served(raw))
    schema.app = create_app(config)
    return schema


def fuzz(operation: Any, excluded: list[Any], examples: int) -> None:
    """Run ``examples`` generated cases of one operation with every check but ``excluded``."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(excluded_checks=excluded)
        assert response.status_code < 500

    run()


def test_the_api_meets_the_open311_draft_but_for_the_listed_deviations(
    draft_schema: schemathesis.BaseSchema,
) -> None:
    examples = int(os.environ.get("GEODISPATCH_FUZZ_EXAMPLES", "10"))
    ran = []
    for result in draft_schema.get_all_operations():
        operation = result.ok()
        excluded = [positive_data_acceptance] if operation.label in RULES_NOT_IN_THE_SCHEMA else []
        fuzz(operation, excluded, examples)
        ran.append(operation.label)
    assert sorted(ran) == [
        "GET /requests.{response_format}",
        "GET /requests/{service_request_id}.{response_format}",
        "GET /services.{response_format}",
        "GET /services/{service_code}.{response_format}",
        "GET /tokens/{token_id}.{response_format}",
        "POST /requests.{response_format}",
    ]


def test_deviation_4_requests_valid_by_the_draft_schema_are_refused_by_our_rules(
    draft_schema: schemathesis.BaseSchema,
) -> None:
    """Why GET requests skips "schema-valid data is accepted": these are refused, rightly."""
    operation = draft_schema["/requests.{response_format}"]["GET"]
    for query in (
        {"start_date": "1589-10-27T19:54:31+09:51"},  # before 1900
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},  # > 90 days
        {"service_request_id": "#7570b3"},  # not one of our ids
    ):
        case = operation.Case(path_parameters={"response_format": "json"}, query=query)
        response = case.call()
        assert response.status_code == 400, query
        operation.validate_response(response)  # and the refusal has the spec's shape
