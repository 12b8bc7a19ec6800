"""Schemathesis against the OpenAPI schema (/api/schema/): no 500 on any generated request.

Bounded for CI: a few examples per operation, a wall-clock cap. Requests go through Django's
test client authenticated as a PI with token auth (objects of the PI's project exist, so ids
are sometimes valid)."""
from __future__ import annotations

import json
import time

import pytest
from django.test import Client

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

MAX_EXAMPLES = 6
TIME_CAP_S = 60


@pytest.mark.django_db
def test_schemathesis_no_500_on_any_generated_request(scored_run, validation_round, users):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=users["pi"])
    client = Client(raise_request_exception=False)
    spec = client.get("/api/schema/?format=json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert spec.status_code == 200
    schema = schemathesis.openapi.from_dict(json.loads(spec.content))
    errors, tried, started = [], 0, time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()
        if time.monotonic() - started > TIME_CAP_S:
            break

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case):
            nonlocal tried
            path = case.formatted_path
            headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
            kwargs = {}
            if case.body is not None and not isinstance(case.body, (bytes, str)):
                kwargs = {"data": json.dumps(case.body, default=str),
                          "content_type": "application/json"}
            response = client.generic(case.method.upper(), path,
                                      **kwargs, **({"QUERY_STRING": _query(case.query)}
                                                   if case.query else {}), **headers)
            tried += 1
            if response.status_code >= 500:
                errors.append((case.method, path, case.query, case.body, response.status_code))

        fuzz()
    assert tried > 50
    assert not errors, errors[:10]


def _query(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({k: (json.dumps(v) if isinstance(v, (dict, list)) else v)
                      for k, v in query.items()}, doseq=True)
