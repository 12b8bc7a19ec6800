import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..services.access import project_name_for

register = template.Library()


@register.filter
def name_for(project, user):
    """``{{ project|name_for:user }}``: the name this user may see (coders: the coder name)."""
    return project_name_for(user, project)


@register.filter
def highlight(text, query):
    """The text escaped, then each case-insensitive occurrence of ``query`` in <mark>."""
    text = str(text or "")
    if not query:
        return escape(text)
    parts = re.split(f"({re.escape(str(query))})", text, flags=re.IGNORECASE)
    # re.split with one group: odd positions are the matches.
    return mark_safe("".join(f"<mark>{escape(p)}</mark>" if i % 2 else str(escape(p))
                             for i, p in enumerate(parts)))


@register.filter
def percent(value, digits=1):
    """0.1234 -> '12.3 %'."""
    try:
        return f"{float(value) * 100:.{int(digits)}f} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def number(value, digits=3):
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return "—"


@register.filter
def term(value):
    """A c-TF-IDF entry [term, weight] -> term."""
    return value[0] if isinstance(value, (list, tuple)) else value


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
