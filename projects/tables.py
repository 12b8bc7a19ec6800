"""One rendering path for the score tables PIs read: a column spec, rows as dicts, cells looked
up by column name (never by position), rendered by templates/_table.html.

A page builds ``Table(columns, rows)``; the header and every row are made from the same column
list, so a row can never have one cell fewer than the header. The JSON APIs and the exported CSVs
take their column names from the same specs (``names``, ``labels``), so a header, a JSON key and
a CSV column that say the same thing have the same name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils.html import format_html
from django.utils.safestring import mark_safe

FORMATS = ("text", "int", "number", "percent", "bool", "p")
MISSING = "—"


@dataclass(frozen=True)
class Column:
    """One column: ``name`` is the row key, the JSON key and the CSV column."""
    name: str
    label: str
    format: str = "text"                  # one of FORMATS
    digits: int = 3
    note: str = ""                        # the header's tooltip: space, direction, source
    group: str = ""                       # columns of one group fold together
    interval: tuple[str, str] | None = None   # row keys of the low / high bound shown after it
    detail: tuple[str, str] | None = None     # (row key, label): a second, muted line
    title: str = ""                       # row key of the cell's tooltip (why a value is missing)
    missing: str = MISSING
    template: str = ""                    # a template that renders the cell itself (forms)
    sortable: bool = False
    # (row key, text, css class): the text is shown after the value when the row's key is true
    # (a string value becomes the flag's tooltip)
    flags: tuple[tuple[str, str, str], ...] = ()
    shade: bool = False                   # the cell's background deepens with its value (0..1)

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"column {self.name}: unknown format {self.format!r}")

    @property
    def numeric(self) -> bool:
        return self.format not in ("text", "bool")


def _finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def format_value(value, fmt: str, digits: int = 3, missing: str = MISSING) -> str:
    """The text a cell shows for ``value``; ``missing`` for None / NaN."""
    if not _finite(value):
        return missing
    if fmt == "text":
        return str(value)
    if fmt == "bool":
        return "yes" if value else "no"
    if fmt == "int":
        return str(int(value))
    if fmt == "p":        # a p-value: small ones in scientific notation
        return f"{value:.1e}" if value < 0.001 else f"{value:.{digits}f}"
    if fmt == "percent":
        return f"{float(value) * 100:.{digits}f}\u00a0%"    # no break before the sign
    return f"{float(value):.{digits}f}"


@dataclass(frozen=True)
class Cell:
    column: Column
    text: str
    interval: str = ""
    detail: str = ""
    title: str = ""
    missing: bool = False
    fold: int = 0          # the column's group number when the table folds groups, else 0
    flags: tuple[tuple[str, str, str], ...] = ()     # (text, css class, tooltip)
    shade: str = ""        # a CSS colour for shaded columns

    # The markup is made here rather than by template tags per cell: at the demo's size the
    # comparison table has hundreds of cells and per-cell template logic dominated the page.
    @property
    def attrs(self) -> str:
        parts = [format_html(' data-column="{}"', self.column.name)]
        if self.fold:
            parts.append(format_html(' data-group="{}"', self.fold))
        if self.column.numeric:
            parts.append(' class="num"')
        if self.title:
            parts.append(format_html(' title="{}"', self.title))
        if self.shade:
            parts.append(format_html(' style="background: {}"', self.shade))
        return mark_safe("".join(parts))

    @property
    def content(self) -> str:
        parts = [format_html('<span class="value{}">{}</span>', " muted" if self.missing else "",
                             self.text)]
        if self.interval:
            parts.append(format_html(' <span class="muted interval">{}</span>', self.interval))
        for text, css, tip in self.flags:
            parts.append(format_html('<span class="flag {}"{}> {}</span>', css,
                                     format_html(' title="{}"', tip) if tip else "", text))
        if self.detail:
            parts.append(format_html('<br><span class="muted detail">{}</span>', self.detail))
        return mark_safe("".join(parts))


@dataclass(frozen=True)
class Row:
    data: dict
    cells: list[Cell]
    css: str = ""
    attrs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class HeaderCell:
    column: Column
    href: str = ""
    arrow: str = ""
    fold: int = 0


@dataclass(frozen=True)
class Group:
    name: str
    span: int
    fold: int = 0


def cell(column: Column, row: dict, fold: int = 0) -> Cell:
    value = row.get(column.name)
    interval = ""
    if column.interval and _finite(row.get(column.interval[0])):
        low, high = (format_value(row.get(key), "number", 2) for key in column.interval)
        interval = f"[{low}, {high}]"
    detail = ""
    if column.detail and _finite(value) and _finite(row.get(column.detail[0])):
        shown = row.get(column.detail[0])
        shown = format_value(shown, "number", 2) if isinstance(shown, float) else str(shown)
        detail = f"{column.detail[1]} {shown}"
    return Cell(column=column, text=format_value(value, column.format, column.digits,
                                                 column.missing),
                interval=interval, detail=detail,
                title=str(row.get(column.title) or "") if column.title else "",
                missing=not _finite(value), fold=fold,
                flags=tuple((text, css, row[key] if isinstance(row[key], str) else "")
                            for key, text, css in column.flags if row.get(key)),
                shade=(f"rgba(40, 90, 160, {float(value):.3f})"
                       if column.shade and _finite(value) else ""))


@dataclass
class Table:
    """Columns and rows of one table; ``css_for`` / ``attrs_for`` mark rows (chosen, kind)."""
    id: str
    columns: list[Column]
    rows: list[dict]
    css_for: object = None               # row -> CSS class
    attrs_for: object = None             # row -> {data-* attribute name: value}
    sort: str = ""                       # the current sort key ('-' = descending)
    query: dict = field(default_factory=dict)   # other query keys kept by the sort links
    foldable: bool = False               # a checkbox per group hides its columns (CSS only)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def header(self) -> list[HeaderCell]:
        cells = []
        for column in self.columns:
            href = arrow = ""
            if column.sortable:
                descending = self.sort == column.name
                href = "?" + urlencode({**self.query,
                                        "sort": ("-" if descending else "") + column.name})
                arrow = "↑" if self.sort == column.name else (
                    "↓" if self.sort == "-" + column.name else "")
            cells.append(HeaderCell(column, href, arrow, self.group_number(column)))
        return cells

    @property
    def groups(self) -> list[Group]:
        """Runs of neighbouring columns with the same group, for the group header row."""
        groups: list[Group] = []
        for column in self.columns:
            if groups and groups[-1].name == column.group:
                groups[-1] = Group(column.group, groups[-1].span + 1, groups[-1].fold)
            else:
                groups.append(Group(column.group, 1, self.group_number(column)))
        return groups

    @property
    def fold_groups(self) -> list[str]:
        """The groups a reader can fold, in order; a group's number (1, 2, ...) is its
        ``data-group`` in the page, which the fold rules of static/projects/tables.css read."""
        names = []
        for c in self.columns:
            if c.group and c.group not in names:
                names.append(c.group)
        return names if self.foldable else []

    def group_number(self, column: Column) -> int:
        names = self.fold_groups
        return names.index(column.group) + 1 if column.group in names else 0

    @property
    def has_groups(self) -> bool:
        return any(c.group for c in self.columns)

    @property
    def body(self) -> list[Row]:
        folds = [self.group_number(c) for c in self.columns]
        return [Row(data=row, cells=[cell(c, row, n) for c, n in zip(self.columns, folds)],
                    css=self.css_for(row) if self.css_for else "",
                    attrs=self.attrs_for(row) if self.attrs_for else {})
                for row in self.rows]


def labels(columns: list[Column]) -> dict[str, str]:
    """name -> label, in column order (the JSON APIs' ``columns``)."""
    return {c.name: c.label for c in columns}


def flat_names(columns: list[Column]) -> list[str]:
    """Every row key a table shows, in order: each column, then its interval bounds and detail
    (the exported CSV's columns)."""
    names = []
    for c in columns:
        if c.template:
            names.append(c.name)
            continue
        names.append(c.name)
        names.extend(c.interval or ())
        if c.detail:
            names.append(c.detail[0])
    return names
