"""Template tags of the adjudication page."""
from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

_CELL = ('<td dir="auto"><span class="coder-theme">{name}</span> <button form="{form}" '
         'name="accept" value="{name}" class="accept-button" title="Accept this theme" '
         'formnovalidate>Accept</button></td>')
_NO_THEME = '<td dir="auto">—</td>'


@register.simple_tag
def accept_cells(themes, owner_id: str, pass_name: str):
    """One row's cells: each coder's theme with a button that accepts it (a submit button of the
    row's form, ``f-<owner_id>-<pass_name>``). One tag a row, each theme escaped once, not a
    template loop a cell: a page of 10 clusters coded by 10 coders holds thousands of cells."""
    form_id = escape(f"f-{owner_id}-{pass_name}")
    cells: dict = {}
    for theme in themes:
        key = None if theme is None else theme.pk
        if key not in cells:
            cells[key] = _NO_THEME if theme is None else _CELL.format(name=escape(theme.name),
                                                                      form=form_id)
    return mark_safe("".join(cells[None if t is None else t.pk] for t in themes))


@register.simple_tag
def default_decide_button(owner_id: str, pass_name: str):
    """The row form's default button, first of the row: Enter in the row's theme or note box
    submits the form through its first submit button in document order, and the coders'
    Accept buttons (cells before the form) would come first — so Enter would store coder 1's
    theme. This hidden twin of Decide comes before them (hidden buttons still submit)."""
    return mark_safe(f'<button type="submit" form="{escape(f"f-{owner_id}-{pass_name}")}" '
                     f'class="default-decide" hidden tabindex="-1">Decide</button>')
