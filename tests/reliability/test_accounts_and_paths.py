"""Accounts a PI creates meet the password validators; the API does not tell unknown usernames
from accounts that are not coders here; users never see absolute server paths."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pi_created_accounts_meet_the_validators_and_usernames_are_not_enumerable(
        validation_round, users, solutions):
    pi = Client()
    pi.force_login(users["pi"])
    members = reverse("projects:project-members", args=[validation_round.project_id])
    for weak in ("1", "password", "newbie123"):
        page = pi.post(members, {"username": "newbie", "role": "coder",
                                 "create_with_password": weak})
        assert page.status_code == 200 and b"errorlist" in page.content, weak
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert pi.post(members, {"username": "newbie", "role": "coder",
                             "create_with_password": "correct horse battery 42"}
                   ).status_code == 302
    assert get_user_model().objects.get(username="newbie").check_password(
        "correct horse battery 42")

    # The rounds API answers alike for a username that does not exist and for an account that
    # exists but is not a coder of this project.
    def create(coder):
        return pi.post("/api/annotation/rounds/", {
            "project": validation_round.project_id, "name": "r2",
            "solutions": [s.pk for s in solutions], "coders": [coder]},
            content_type="application/json")

    unknown, outsider = create("no-such-person"), create("outsider")
    assert unknown.status_code == outsider.status_code == 400
    assert (unknown.json()["coders"].replace("no-such-person", "X")
            == outsider.json()["coders"].replace("outsider", "X"))
    assert "unknown" not in unknown.content.decode()
