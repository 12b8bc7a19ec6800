"""Template tags of the coding pages."""
from django import template

from annotation.models import Theme

register = template.Library()


@register.simple_tag
def theme_name_limit() -> int:
    """The longest theme name the codebook stores (the model field is the one home)."""
    return Theme._meta.get_field("name").max_length
