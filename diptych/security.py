"""Login throttling and API error answers for infrastructure faults.

Login: after ``LOGIN_MAX_FAILURES`` failed logins for one username from one IP address, that
pair is locked for ``LOGIN_LOCK_SECONDS`` (a counter in Django's cache; Redis in production so
every web process sees it). The page says so and how long to wait; a successful login clears
the counter. The API token endpoint is throttled by DRF (``LoginRateThrottle``, scope "login").

API faults: a dropped database connection answers 503 with a JSON message and ``Retry-After``
(not a bare 500), so clients retry; the annotation page keeps the label queued meanwhile.
"""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, close_old_connections
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import exception_handler


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"diptych:login-failures:{digest}"


def failures(username: str, ip: str) -> int:
    return cache.get(_key(username, ip), 0)


def locked(username: str, ip: str) -> bool:
    return failures(username, ip) >= settings.LOGIN_MAX_FAILURES


def record_failure(username: str, ip: str) -> None:
    key = _key(username, ip)
    if cache.add(key, 1, settings.LOGIN_LOCK_SECONDS):
        return
    try:
        cache.incr(key)
        cache.touch(key, settings.LOGIN_LOCK_SECONDS)  # the lock runs from the last failure
    except ValueError:  # expired between add and incr
        cache.add(key, 1, settings.LOGIN_LOCK_SECONDS)


def clear_failures(username: str, ip: str) -> None:
    cache.delete(_key(username, ip))


def lock_message() -> str:
    minutes = max(1, settings.LOGIN_LOCK_SECONDS // 60)
    return (f"Too many failed logins for this account from your address: try again in "
            f"{minutes} minutes.")


class ThrottledLoginView(LoginView):
    """Django's LoginView with a per (username, IP) failure counter and lock."""

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        ip = _client_ip(request)
        if locked(username, ip):
            response = self.render_to_response(self.get_context_data(
                form=self.form_class(request), lockout_message=lock_message()))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        clear_failures(self.request.POST.get("username", ""), _client_ip(self.request))
        return super().form_valid(form)

    def form_invalid(self, form):
        username, ip = self.request.POST.get("username", ""), _client_ip(self.request)
        record_failure(username, ip)
        if locked(username, ip):
            response = self.render_to_response(self.get_context_data(
                form=form, lockout_message=lock_message()))
            response.status_code = 429
            return response
        return super().form_invalid(form)


class LoginRateThrottle(AnonRateThrottle):
    """Token requests per client IP (rate: REST_FRAMEWORK DEFAULT_THROTTLE_RATES["login"])."""

    scope = "login"


class ThrottledObtainAuthToken(ObtainAuthToken):
    throttle_classes = [LoginRateThrottle]


obtain_auth_token = ThrottledObtainAuthToken.as_view()


def api_exception_handler(exc, context):
    """DRF's handler, plus 503 + Retry-After when the database connection is gone."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        close_old_connections()  # drop the broken connection; the retry gets a fresh one
        return Response({"detail": "The database is unavailable for a moment; nothing was "
                                   "saved. Please retry."},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "2"})
    return exception_handler(exc, context)
