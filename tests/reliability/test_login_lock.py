"""One failed-login lock for every way in (login form, /admin/login/, /api/token/), keyed on
the client address that X-Forwarded-For cannot forge unless a trusted proxy is configured."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch):
    # the account lock is under test, not the per-address rate (tests/reliability/test_access.py)
    monkeypatch.setattr("diptych.security.LoginRateThrottle.rate", "1000/min", raising=False)
    cache.clear()
    yield
    cache.clear()


def _token(client, password, **headers):
    return client.post("/api/token/", {"username": "pi", "password": password}, **headers)


def test_one_lock_for_every_way_in_and_forwarded_for_is_not_trusted(users, settings):
    users["pi"].is_staff = True
    users["pi"].save()
    n = settings.LOGIN_MAX_FAILURES
    client = Client()
    # Rotating X-Forwarded-For from outside changes nothing: the address is REMOTE_ADDR.
    codes = [_token(client, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
             for i in range(n + 2)]
    assert codes == [400] * n + [429, 429], codes
    # Locked on the token endpoint → locked in the login form and the admin, right password or not.
    locked = _token(client, "pw-pi", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert locked.status_code == 429 and "try again in 15 minutes" in locked.json()["detail"]
    form = client.post("/accounts/login/", {"username": "pi", "password": "pw-pi"})
    assert form.status_code == 429 and "_auth_user_id" not in client.session
    admin_page = client.post("/admin/login/", {"username": "pi", "password": "pw-pi"})
    assert admin_page.status_code == 429 and "_auth_user_id" not in client.session

    # Failures in the admin lock the token endpoint and the form too.
    cache.clear()
    for _ in range(n):
        assert client.post("/admin/login/", {"username": "pi", "password": "wrong"}
                           ).status_code == 200
    assert _token(client, "pw-pi").status_code == 429
    assert client.post("/accounts/login/", {"username": "pi", "password": "pw-pi"}
                       ).status_code == 429

    # A configured proxy: its X-Forwarded-For names the client; clients are locked apart.
    cache.clear()
    settings.DIPTYCH_TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(n):
        _token(client, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert _token(client, "pw-pi", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # a client cannot prepend its way out: the last untrusted hop is the client
    assert _token(client, "pw-pi", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5"
                  ).status_code == 429
    assert _token(client, "pw-pi", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200
    # success clears that client's counter only
    assert _token(client, "pw-pi", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429


def test_password_spraying_from_one_address_is_refused_across_usernames(users, settings,
                                                                       django_user_model):
    """30 usernames × 1 wrong password from one address were all answered 200 (each account's
    own counter stayed at 1)."""
    for i in range(30):
        django_user_model.objects.create_user(f"member{i}", password=f"pw-member-{i}-x")
    limit = settings.LOGIN_MAX_FAILURES_PER_ADDRESS
    assert limit < 30
    sprayer = Client(REMOTE_ADDR="198.51.100.7")
    codes = [sprayer.post("/accounts/login/", {"username": f"member{i}", "password": "Summer2024"}
                          ).status_code for i in range(30)]
    # the form says so from the failure that reaches the limit on
    assert codes == [200] * (limit - 1) + [429] * (31 - limit), codes
    # the address is refused on every way in, even with a right password for a fresh account
    assert sprayer.post("/accounts/login/", {"username": "pi", "password": "pw-pi"}
                        ).status_code == 429 and "_auth_user_id" not in sprayer.session
    assert _token(sprayer, "pw-pi").status_code == 429
    # another address is not affected
    assert _token(Client(REMOTE_ADDR="198.51.100.8"), "pw-pi").status_code == 200
