"""Bad input on the API answers 400 with a JSON message, never a 500 or an HTML page.

* ``id_param``: an id from the query string (``?project=abc`` or an id beyond PostgreSQL's
  bigint used to reach the database and fail there).
* ``BoundedJSONParser``: JSON bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413) or nested
  deeper than MAX_JSON_DEPTH (400; 5,000 levels overflowed Python's recursion limit).
* ``JsonErrorsForApiMiddleware``: whatever Django itself answers as an HTML error page under
  /api/ (a body too large for a form, a CSRF refusal, a 404 from the URL resolver, a 500)
  becomes a JSON ``{"detail": ...}`` with the same status.
"""
from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_ID = 2 ** 63 - 1         # PostgreSQL bigint, the primary keys' type
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


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


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
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return data


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
