from django import template

register = template.Library()


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
