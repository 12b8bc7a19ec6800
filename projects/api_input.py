"""Bad input on the API answers 400 with a JSON message, never a 500 or an HTML page.

* ``id_param``: an id from the query string (``?project=abc`` or an id beyond PostgreSQL's
  bigint used to reach the database and fail there).
* ``BoundedJSONParser``: JSON bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413), nested
  deeper than MAX_JSON_DEPTH (400; 5,000 levels overflowed Python's recursion limit), or with
  text no column can hold (NUL, lone surrogates: 400).
* ``RefuseNulMiddleware``: a NUL in a query parameter or form field (400, any page).
* ``JsonErrorsForApiMiddleware``: whatever Django itself answers as an HTML error page under
  /api/ (a body too large for a form, a CSRF refusal, a 404 from the URL resolver, a 500)
  becomes a JSON ``{"detail": ...}`` with the same status.
"""
from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_ID = 2 ** 63 - 1         # PostgreSQL bigint, the primary keys' type
MAX_INT = 2 ** 31 - 1        # PostgreSQL integer: versions, positions, counts in the API's bodies
MAX_JSON_DEPTH = 64          # far above any payload of this API
API_PREFIX = "/api/"
MESSAGES = {400: "bad request", 403: "forbidden", 404: "not found", 405: "method not allowed",
            413: "the request body is too large", 500: "server error"}


def id_param(query, name: str) -> int | None:
    """A positive id from the query string, None when absent; else 400 naming the parameter."""
    value = query.get(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValidationError({name: f"must be a positive whole number up to {MAX_ID} "
                                     f"(got {value[:40]!r})"})
    return int(value)


def page_id(value) -> int | None:
    """The same check for server-rendered pages, where a bad id simply matches nothing."""
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID \
        else None


def page_ids(values) -> list[int] | None:
    """Every value a valid id (a form's multiple choice of pks), or None when one is not."""
    ids = [page_id(v) for v in values]
    return None if None in ids else ids


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


# NUL (PostgreSQL text and jsonb refuse it) or a lone surrogate (not encodable as UTF-8; JSON's
# "\\ud800" escape parses to one)
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _is_bad_text(text: str) -> bool:
    return _BAD_TEXT.search(text) is not None


def _json_problem(value, limit: int) -> str | None:
    """Why a parsed JSON body is refused (too deep, or text no column can hold), or None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return f"JSON nested deeper than {limit} levels"
        if isinstance(item, str) and _is_bad_text(item):
            return "JSON text holds a NUL character or a lone surrogate"
        if isinstance(item, dict):
            if any(_is_bad_text(k) for k in item):
                return "JSON text holds a NUL character or a lone surrogate"
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if limit is not None and length > limit:
            raise BodyTooLarge(f"the JSON body is larger than {limit} bytes")
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(f"the JSON body is larger than {limit} bytes")
        try:
            data = json.loads(raw.decode(settings.DEFAULT_CHARSET) if raw else "null")
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if problem := _json_problem(data, MAX_JSON_DEPTH):
            raise ParseError(problem)
        return data


def _holds_nul(query) -> str | None:
    for key, values in query.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            return key.replace("\x00", "")
    return None


class RefuseNulMiddleware:
    """A NUL in a query parameter or a form field reached PostgreSQL (lookups, saves) and
    failed there (500): refused with 400 naming the field, for every page and endpoint."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _holds_nul(request.GET)
        if name is None and request.method == "POST" and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            name = _holds_nul(request.POST)
        if name is not None:
            detail = f"{name}: text cannot hold NUL characters"
            if request.path.startswith(API_PREFIX):
                return JsonResponse({name: [detail]}, status=400)
            return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class JsonErrorsForApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith(API_PREFIX) and response.status_code >= 400
                and response.get("Content-Type", "").startswith("text/html")):
            code = response.status_code
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            if code == 400 and length > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or length):
                code, detail = 413, (f"the request body is larger than "
                                     f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
            else:
                detail = MESSAGES.get(code, "error")
            json_response = JsonResponse({"detail": detail}, status=code)
            for header in ("Retry-After", "Allow", "WWW-Authenticate"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response
