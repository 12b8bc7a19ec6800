"""Every form a PI or a coder can submit, under hostile values: no 500.

The forms are found, not listed: the test walks the pages each user reaches by following links
from the home page, reads every ``<form method="post">`` (action, field names and their default
values), and posts each form again with one field at a time replaced by a hostile value
(numbers beyond bigint, wrong types, NUL, bidi controls, long text), then with every field
hostile. Coder forms go first: a PI's hostile post may close the round. Bounded: pages per
user and one form per (URL name, fields) are capped, so it stays well under a minute or two."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

pytestmark = pytest.mark.django_db

HOSTILE = ["99999999999999999999999", "-1", "abc", "1.5", "", "\x00", "\u202eevil\u2066",
           "[" * 60, "x" * 3000]
MAX_PAGES = 60
SKIP_LINKS = ("/static/", "/admin/", "/api/", "/accounts/logout/", "/media/")
SKIP_ACTIONS = ("/accounts/logout/", "/admin/")


class _Forms(HTMLParser):
    """Links and post forms of one page: (action, [(name, value)], file field names)."""

    def __init__(self):
        super().__init__()
        self.links, self.forms, self._form = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": [], "files": []}
        elif self._form is not None and tag in ("input", "select", "textarea", "button") \
                and a.get("name") and a.get("name") != "csrfmiddlewaretoken":
            kind = (a.get("type") or "").lower()
            if kind == "file":
                self._form["files"].append(a["name"])
            elif kind not in ("checkbox", "radio") or "checked" in a or tag == "button":
                self._form["fields"].append((a["name"], a.get("value") or ""))
            else:
                self._form["fields"].append((a["name"], a.get("value") or "on"))

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def _url_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def _crawl(client) -> dict:
    """(URL name, field names) -> (page, action, fields, files) for each post form found."""
    seen, queue, forms = set(), ["/"], {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page_url = response.request["PATH_INFO"]
        parser = _Forms()
        parser.feed(response.content.decode())
        for href in parser.links:
            target = urljoin(page_url, href)
            path = urlsplit(target).path + (f"?{urlsplit(target).query}"
                                            if urlsplit(target).query else "")
            if target.startswith("/") and not target.startswith(SKIP_LINKS) and \
                    _url_name(path) and path not in seen:
                queue.append(path)
        for form in parser.forms:
            action = urljoin(url, form["action"] or url)
            if action.startswith(SKIP_ACTIONS) or _url_name(action) is None:
                continue
            key = (_url_name(action), tuple(sorted({n for n, _ in form["fields"]})))
            forms.setdefault(key, (url, action, form["fields"], form["files"]))
    return forms


def _data(fields, files, replace: dict | None = None) -> dict:
    data: dict = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    for name in files:
        data[name] = ""
    for name, value in (replace or {}).items():
        data[name] = [value]
    return data


def _fuzz(client, forms) -> tuple[int, list]:
    tried, errors = 0, []
    for (name, field_names), (page, action, fields, files) in sorted(forms.items()):
        names = sorted({*field_names, *files})
        cases = [{n: value} for n in names for value in HOSTILE]
        cases += [{n: value for n in names} for value in HOSTILE]
        for replace in cases:
            response = client.post(action, _data(fields, files, replace))
            tried += 1
            if response.status_code >= 500:
                errors.append((name, action, {k: v[:40] for k, v in replace.items()},
                               response.status_code))
    return tried, errors


@pytest.fixture
def site(scored_run, validation_round, users):
    """A project with a run, a round with codes and intrusion tasks, a theme, a choice."""
    from annotation.models import Theme
    from annotation.services.intrusion import create_round_with_tasks

    create_round_with_tasks(validation_round.project, list(validation_round.solutions.all()),
                            consistency=False, intrusion_kinds=["image"], name="odd one out",
                            created_by=users["pi"], coders=[users["coder"]])
    Theme.objects.create(project=validation_round.project, modality="text", name="protest")
    return validation_round


def test_every_form_of_coders_and_pis_answers_without_a_500(site, users):
    found, tried, errors = {}, 0, []
    for role in ("coder", "pi"):   # coders first: a PI's hostile post may close the round
        client = Client(raise_request_exception=False)
        client.force_login(users[role])
        forms = _crawl(client)
        found[role] = sorted({name for name, _ in forms})
        n, bad = _fuzz(client, forms)
        tried, errors = tried + n, errors + bad
    print(f"\nform fuzz: {tried} posts over {sum(map(len, found.values()))} forms: {found}")
    # the forms that matter were reached: the crawl did not stop at the home page
    assert {"annotation:round-manage", "annotation:intrusion-manage", "annotation:theme-rename",
            "projects:dataset-import"} <= set(found["pi"]), found["pi"]
    assert not errors, errors[:10]
