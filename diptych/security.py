"""Login throttling and API error answers for infrastructure faults.

Login: after ``LOGIN_MAX_FAILURES`` failed logins for one username from one client address,
that pair is locked for ``LOGIN_LOCK_SECONDS``; after ``LOGIN_MAX_FAILURES_PER_ADDRESS``
failures from one address over any usernames (password spraying), that address is (counters in
Django's cache; Redis in production so every web process sees them). One lock for every way
in: the counters live in the authentication backend (``LockingModelBackend``), which the login
form, ``/admin/login/`` and the API token endpoint all go through; each of them answers 429
with the message while locked.
The token endpoint is also rate-limited per client address (``LoginRateThrottle``).

The client address is ``REMOTE_ADDR``; ``X-Forwarded-For`` is read only when REMOTE_ADDR is one
of ``DIPTYCH_TRUSTED_PROXIES`` (default: none), and then the last address not a trusted proxy
is the client (rotating the header from outside changes nothing).

API faults: a dropped database connection answers 503 with a JSON message and ``Retry-After``
(not a bare 500), so clients retry; the annotation page keeps the label queued meanwhile.
"""
from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpResponse
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import exception_handler

from projects.api_tokens import expires_at, live_token


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False)
               for net in settings.DIPTYCH_TRUSTED_PROXIES)


def client_ip(request) -> str:
    if request is None:
        return "unknown"
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    if not _trusted(remote):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop):
            return hop
    return remote


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{(username or '').strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"diptych:login-failures:{digest}"


def _address_key(ip: str) -> str:
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return f"diptych:login-failures-address:{digest}"


def failures(username: str, ip: str) -> int:
    return cache.get(_key(username, ip), 0)


def locked(username: str, ip: str) -> bool:
    """The account is locked for this address, or the address is, whatever the username
    (password spraying: one wrong password for each of many usernames)."""
    return (failures(username, ip) >= settings.LOGIN_MAX_FAILURES
            or cache.get(_address_key(ip), 0) >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS)


def _count(key: str) -> None:
    if cache.add(key, 1, settings.LOGIN_LOCK_SECONDS):
        return
    try:
        cache.incr(key)
        cache.touch(key, settings.LOGIN_LOCK_SECONDS)  # the lock runs from the last failure
    except ValueError:  # expired between add and incr
        cache.add(key, 1, settings.LOGIN_LOCK_SECONDS)


def record_failure(username: str, ip: str) -> None:
    _count(_key(username, ip))
    _count(_address_key(ip))   # a success does not clear it: one good account cannot reset it


def clear_failures(username: str, ip: str) -> None:
    cache.delete(_key(username, ip))


def lock_message() -> str:
    minutes = max(1, settings.LOGIN_LOCK_SECONDS // 60)
    return (f"Too many failed logins for this account, or from your address: try again in "
            f"{minutes} minutes.")


class LockingModelBackend(ModelBackend):
    """Django's backend behind the failure counter: every way of logging in shares the lock."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = client_ip(request)
        if locked(username, ip):
            raise PermissionDenied(lock_message())   # stops authenticate(): no other backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, ip)
        else:
            clear_failures(username, ip)
        return user


class ThrottledLoginView(LoginView):
    """Django's LoginView that says so (429) while the account is locked for this address."""

    def _locked_response(self, form):
        response = self.render_to_response(self.get_context_data(
            form=form, lockout_message=lock_message()))
        response.status_code = 429
        return response

    def post(self, request, *args, **kwargs):
        if locked(request.POST.get("username", ""), client_ip(request)):
            return self._locked_response(self.form_class(request))
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if locked(self.request.POST.get("username", ""), client_ip(self.request)):
            return self._locked_response(form)
        return super().form_invalid(form)


def admin_login(request, extra_context=None):
    """/admin/login/ under the same lock (the admin's own page otherwise)."""
    if request.method == "POST" and locked(request.POST.get("username", ""), client_ip(request)):
        return HttpResponse(lock_message(), status=429, content_type="text/plain; charset=utf-8")
    return admin.site.login(request, extra_context)


class LoginRateThrottle(AnonRateThrottle):
    """Token requests per client address (rate: DEFAULT_THROTTLE_RATES["login"])."""

    scope = "login"

    def get_ident(self, request):
        return client_ip(request)


class ThrottledObtainAuthToken(ObtainAuthToken):
    throttle_classes = [LoginRateThrottle]
    # DRF's view names its own parsers; the API's bounded JSON parser refuses deep nesting
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, dict) else {}
        if locked(str(data.get("username", "")), client_ip(request)):
            return Response({"detail": lock_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = live_token(serializer.validated_data["user"])   # a new one once expired
        end = expires_at(token)
        return Response({"token": token.key, "expires_at": end.isoformat() if end else None})


obtain_auth_token = ThrottledObtainAuthToken.as_view()


def api_exception_handler(exc, context):
    """DRF's handler, plus 503 + Retry-After when the database connection is gone."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        close_old_connections()  # drop the broken connection; the retry gets a fresh one
        return Response({"detail": "The database is unavailable for a moment; nothing was "
                                   "saved. Please retry."},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "2"})
    return exception_handler(exc, context)
