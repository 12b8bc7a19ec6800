"""The API under generated input: no request answers 500.

Two passes over every operation of the OpenAPI schema (/api/schema/), through Django's test
client as the PI with token auth (objects of the PI's project exist, so ids are sometimes valid):

* schemathesis, positive and negative (wrong types, missing fields, out-of-range values)
  cases, a bounded number per operation;
* hostile values put into every path parameter, query parameter (the declared ones and the id
  filters the list endpoints read) and body field in turn: integers beyond bigint, deep nesting,
  wrong types, NUL, lone surrogates and bidi controls.

Deterministic and bounded for CI: hypothesis derandomized, a fixed number of examples."""
from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django.test import Client

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 6
HUGE = 10 ** 23
DEEP_LIST = json.loads("[" * 60 + "]" * 60)   # under the parser's depth limit: reaches fields
DEEP_OBJECT = json.loads('{"a": ' * 60 + "1" + "}" * 60)
HOSTILE_JSON = [HUGE, -HUGE, 2 ** 63, -1, 0, 1.5, 1e308, str(HUGE), "abc", "", "\x00",
                "\ud800", "\u202eevil\u2066", True, None, [], {}, DEEP_LIST, DEEP_OBJECT,
                "x" * 5000]
HOSTILE_TEXT = [str(HUGE), "-1", "0", "abc", "1.5", "\x00", "\u202e\u2066", "[]", "%00",
                "1,2,abc", f"1,{HUGE}", "x" * 3000]
# list filters the views read without declaring them in the schema
EXTRA_QUERY = ("project", "dataset", "run", "solution", "round", "page", "page_size")
# the object a path parameter names, by the path segment before it
PATH_OBJECTS = {"rounds": "round", "clusters": "cluster", "datasets": "dataset",
                "projects": "project", "runs": "run", "solutions": "solution",
                "exports": "export", "choices": "solution"}


@pytest.fixture
def api(scored_run, validation_round, users):
    from rest_framework.authtoken.models import Token

    from projects.models import ClusterSummary
    from scoring.models import ExportJob

    token = Token.objects.create(user=users["pi"])
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token.key}")
    spec = client.get("/api/schema/?format=json")
    assert spec.status_code == 200
    solution = scored_run.solutions.order_by("pk").first()
    cluster = ClusterSummary.objects.create(solution=solution, label=0, rank=1, size=3,
                                            share=0.1, top_terms=[], representatives=[])
    export = ExportJob.objects.create(project=validation_round.project, created_by=users["pi"])
    ids = {"project": validation_round.project_id, "round": validation_round.pk,
           "run": scored_run.pk, "dataset": scored_run.dataset_id, "solution": solution.pk,
           "cluster": cluster.pk, "export": export.pk}
    return client, json.loads(spec.content), ids


def _send(client, method, path, query=None, body=None):
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body, default=str), "content_type": "application/json"}
    if query:
        kwargs["QUERY_STRING"] = urlencode(
            {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in query.items()},
            doseq=True)
    return client.generic(method.upper(), path, **kwargs)


def test_schemathesis_no_500_on_any_generated_request(api):
    client, spec, _ = api
    schema = schemathesis.openapi.from_dict(spec)
    errors, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                      derandomize=True, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                nonlocal tried
                body = case.body if not isinstance(case.body, (bytes, str)) else None
                if body is not None and type(body).__name__ == "NotSet":
                    body = None
                response = _send(client, case.method, case.formatted_path, case.query, body)
                tried += 1
                if response.status_code >= 500:
                    errors.append((mode.value, case.method, case.formatted_path, case.query,
                                   body, response.status_code))

            try:
                fuzz()
            except Exception as exc:   # a mode schemathesis cannot generate for this operation
                if "Unsatisfiable" not in type(exc).__name__:
                    raise
    print(f"\nschemathesis: {tried} requests")
    assert tried > 100
    assert not errors, errors[:10]


def _resolve(spec, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema or {}


def _plausible(spec, schema, name, ids):
    """A value of the field's type that names a real object where the field is an id, so a
    body with one hostile field still gets past its other fields."""
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        return ids.get(name.rstrip("s"), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        item = _plausible(spec, schema.get("items") or {}, name, ids)
        return [item] if item is not None else []
    if kind == "object":
        return {}
    return "x" if kind == "string" else None


def _operations(spec, ids):
    """(method, path with valid ids, path template, query names, plausible body or None)."""
    for template, operations in spec["paths"].items():
        segments = template.strip("/").split("/")
        path = template
        for i, segment in enumerate(segments):
            if segment.startswith("{"):
                what = PATH_OBJECTS.get(segments[i - 1], "project")
                if segment == "{solution_pk}":
                    what = "solution"
                path = path.replace(segment, str(ids[what]), 1)
        for method, operation in operations.items():
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            content = (operation.get("requestBody") or {}).get("content", {})
            body = _resolve(spec, (content.get("application/json") or {}).get("schema"))
            plausible = ({name: _plausible(spec, field, name, ids)
                          for name, field in (body.get("properties") or {}).items()}
                         if "application/json" in content else None)
            yield method, path, template, sorted(query | set(EXTRA_QUERY)), plausible


def test_hostile_values_in_every_parameter_and_field(api):
    client, spec, ids = api
    errors, tried = [], 0

    def check(method, path, query=None, body=None):
        nonlocal tried
        tried += 1
        response = _send(client, method, path, query, body)
        if response.status_code >= 500:
            errors.append((method, path, query, body, response.status_code))

    for method, path, template, query_names, plausible in _operations(spec, ids):
        if template == "/api/schema/":
            continue   # the schema itself: its format / lang options are drf-spectacular's
        for name in query_names:
            for value in HOSTILE_TEXT:
                check(method, path, {name: value})
        for segment in re.findall(r"/(\d+)/", path):
            for value in ("0", "-1", str(HUGE), "abc", "\u202e"):
                check(method, path.replace(f"/{segment}/", f"/{value}/", 1))
        if plausible is None:
            continue
        for body in ([], "text", 5, None, DEEP_LIST, DEEP_OBJECT):
            check(method, path, body=body)
        for field in plausible:
            for value in HOSTILE_JSON:
                check(method, path, body={**plausible, field: value})
    print(f"\nhostile values: {tried} requests")
    assert tried > 1000
    assert not errors, errors[:10]
