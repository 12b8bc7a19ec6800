"""Text that the figures' fonts can draw: never a box for a missing glyph.

Matplotlib draws a character no font in its fallback list has as an empty box ("tofu"). Tweets
are full of emoji, which DejaVu Sans and the CJK fonts lack. ``drawable`` keeps every
character that one of the fonts covers and writes the others by name: emoji (whole sequences:
flags, skin tones, ZWJ families) as ``:fire:`` through the ``emoji`` package, and a
run of other characters as its script and length (``[CJK text, 4 characters]``, when no
CJK font is installed). With an emoji-capable outline font installed
(Debian's ``fonts-symbola``; colour bitmap fonts such as Noto Color Emoji cannot be drawn by
matplotlib's Agg canvas) the emoji are drawn as glyphs instead.
"""
from __future__ import annotations

import functools
import unicodedata
from typing import Sequence

EMOJI_FONT_CANDIDATES = ("Symbola", "Noto Emoji", "Segoe UI Emoji", "Segoe UI Symbol")


@functools.lru_cache(maxsize=32)
def _charmap(font_name: str) -> frozenset[int]:
    """Code points the installed font ``font_name`` covers (empty when it is not installed)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    try:
        path = font_manager.findfont(font_manager.FontProperties(family=font_name),
                                     fallback_to_default=False)
        return frozenset(FT2Font(path).get_charmap())
    except (ValueError, RuntimeError, OSError):
        return frozenset()


def installed(font_names: Sequence[str]) -> list[str]:
    """The fonts among ``font_names`` that are installed, in order."""
    return [name for name in font_names if _charmap(name)]


def emoji_font() -> str | None:
    """The first installed emoji-capable outline font, or None."""
    return next(iter(installed(EMOJI_FONT_CANDIDATES)), None)


def _rides_along(char: str) -> bool:
    """Characters drawn as nothing of their own: spaces, controls, format characters (ZWJ),
    variation selectors and emoji skin-tone modifiers."""
    code = ord(char)
    return (char.isspace() or unicodedata.category(char) in ("Cc", "Cf")
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
            or 0x1F3FB <= code <= 0x1F3FF)


def _covered(char: str, fonts: Sequence[str]) -> bool:
    # A combining mark (Thai vowels, Devanagari signs) needs a font that has it: a font
    # without it draws a box, even when the base letter is drawable.
    return _rides_along(char) or any(ord(char) in _charmap(name) for name in fonts)


def drawable(text: str, fonts: Sequence[str]) -> str:
    """``text`` with every character no font of ``fonts`` can draw written by name."""
    import emoji

    def name_of_emoji(chars: str, data: dict) -> str:
        if all(_covered(c, fonts) for c in chars):
            return chars
        return f":{data['en'].strip(':')}:" if data.get("en") else chars

    text = emoji.replace_emoji(str(text), replace=name_of_emoji)
    out, run = [], []
    for char in text + "\n":
        if _covered(char, fonts):
            if run:   # a run of undrawable characters: say what script, how many
                script = unicodedata.name(run[0], "unknown").split()[0]
                out.append(f"[{script} text, {len(run)} characters]")
                run = []
            out.append(char)
        else:
            run.append(char)
    return "".join(out)[:-1]
