"""Template tags of the coding pages."""
from django import template

from annotation.keymap_models import keymap_for
from annotation.models import Theme
from annotation.services.access import codes_only

register = template.Library()


@register.simple_tag
def theme_name_limit() -> int:
    """The longest theme name the codebook stores (the model field is the one home)."""
    return Theme._meta.get_field("name").max_length


@register.simple_tag
def is_coder_only(user) -> bool:
    """Whether the navigation is a coder's (their rounds only, no projects page)."""
    return codes_only(user)


@register.simple_tag
def coder_keys(user) -> dict:
    """The user's keys of the coding page (annotation.keymap_models)."""
    return keymap_for(user)
