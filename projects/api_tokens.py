"""API tokens (``Authorization: Token …``): they expire, die with a password change, and their
owner lists and revokes them on /accounts/tokens/.

The token is DRF's ``authtoken.Token`` (one per user; scripts and tests already create it):
* expiry: ``DIPTYCH_TOKEN_TTL_DAYS`` after it was made (0: never); an expired token is refused
  with a message and deleted, and ``/api/token/`` then makes a new one;
* rotation: setting a new password (password change form, admin, ``changepassword``, a PI
  resetting a coder) deletes the user's token: a leaked token does not outlive the password;
* the tokens page lists the user's token with its creation, expiry and last use (when, from
  which address: ``TokenUse``), revokes it, or makes a new one, whose key is shown once.
The authentication class is ``diptych.token_auth.ExpiringTokenAuthentication`` (it knows the
client address); this module holds what it checks and records.
"""
from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from .models import TokenUse

USE_WRITE_INTERVAL = datetime.timedelta(minutes=1)


def expires_at(token: Token) -> datetime.datetime | None:
    days = settings.DIPTYCH_TOKEN_TTL_DAYS
    return token.created + datetime.timedelta(days=days) if days > 0 else None


def is_expired(token: Token) -> bool:
    end = expires_at(token)
    return end is not None and timezone.now() >= end


def live_token(user) -> Token:
    """The user's token, a new one when there is none or it expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and is_expired(token):
        token.delete()
    return Token.objects.get_or_create(user=user)[0]   # two requests at once: one token


def check_live(token: Token) -> None:
    """Refuse (and delete) an expired token."""
    if is_expired(token):
        token.delete()
        raise AuthenticationFailed("This token has expired: get a new one with POST "
                                   "/api/token/ or on your tokens page.")


def record_use(token: Token, address: str) -> None:
    """Note when and from where the token was used: at most one write a minute per token,
    and at once when the address changes."""
    now = timezone.now()
    use = TokenUse.objects.filter(token=token).first()
    if use is None or use.last_used_from != address or \
            now - use.last_used_at >= USE_WRITE_INTERVAL:
        TokenUse.objects.update_or_create(token=token, defaults={
            "last_used_at": now, "last_used_from": address[:45]})


def revoke_on_password_change(sender, instance, **kwargs):
    """pre_save of the user model: ``set_password`` leaves the new password in ``_password``
    until the save."""
    if instance.pk is not None and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user_id=instance.pk).delete()


@login_required
def tokens_page(request):
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            deleted, _ = Token.objects.filter(user=request.user).delete()
            messages.success(request, "Token revoked." if deleted else "No such token.")
            return redirect("api-tokens")
        if action == "create":   # replaces the current one: one token per account
            Token.objects.filter(user=request.user).delete()
            new_key = Token.objects.create(user=request.user).key
        else:
            messages.error(request, "action: revoke or create.")
            return redirect("api-tokens")
    tokens = [{"shown": f"{t.key[:4]}…", "created": t.created,
               "expires": expires_at(t), "expired": is_expired(t),
               "use": TokenUse.objects.filter(token=t).first()}
              for t in Token.objects.filter(user=request.user)]
    return render(request, "registration/tokens.html", {
        "tokens": tokens, "new_key": new_key, "ttl_days": settings.DIPTYCH_TOKEN_TTL_DAYS})
