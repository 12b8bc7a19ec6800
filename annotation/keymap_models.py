"""Per-user key bindings of the coding page (coders of other tools ask to remap keys).

``ACTIONS`` is the one home of the remappable actions and their default keys; the arrows,
Enter, Space, Escape and the digits always keep their meaning.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

# action -> (default key, what it does)
ACTIONS = {
    "next": ("j", "next item"),
    "previous": ("k", "previous item"),
    "type": ("/", "type a theme"),
    "common": ("c", "give this post the cluster's common theme"),
    "zoom": ("z", "zoom the image"),
    "next_pass": ("n", "next pass / next cluster"),
}
RESERVED = set("0123456789 ")


class CoderKeymap(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="coder_keymap")
    keys = models.JSONField(default=dict, help_text="action -> key, only where not the default")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"keys of {self.user}"


def keymap_for(user) -> dict[str, str]:
    """Every action's key for this user (defaults where they chose none)."""
    chosen = {}
    if user.is_authenticated:
        row = CoderKeymap.objects.filter(user=user).first()
        chosen = row.keys if row else {}
    return {action: chosen.get(action, default) for action, (default, _) in ACTIONS.items()}


class KeymapError(ValueError):
    pass


def save_keymap(user, keys: dict[str, str]) -> dict[str, str]:
    """Validate (one printable character, not a digit or space, all different) and store."""
    clean = {}
    for action, (default, label) in ACTIONS.items():
        key = keys.get(action) or default
        if len(key) != 1 or not key.isprintable() or key in RESERVED:
            raise KeymapError(f"“{label}”: give one letter or sign (digits and space are taken)")
        clean[action] = key.lower() if key.isalpha() else key
    taken = {}
    for action, key in clean.items():
        if key in taken:
            raise KeymapError(f"“{ACTIONS[action][1]}” and “{ACTIONS[taken[key]][1]}” both use "
                              f"“{key}”")
        taken[key] = action
    CoderKeymap.objects.update_or_create(user=user, defaults={"keys": {
        a: k for a, k in clean.items() if k != ACTIONS[a][0]}})
    return clean
