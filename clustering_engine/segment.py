"""Words of one text, cut by the segmenter of its own script, and the stop words of its own
language.

Segmentation (per text, never per corpus: a Chinese clause in mostly English data is still
Chinese)
    * A text is Japanese when it has kana and kana + Han make up at least ``SCRIPT_SHARE`` of
      its letters (Janome, its bundled IPADIC dictionary; particles and auxiliaries dropped by
      part of speech); else Chinese when Han characters do
      (jieba, precise mode); else Thai when Thai letters do (PyThaiNLP's ``newmm``, its bundled
      dictionary); else the Unicode word pattern, which keeps combining marks inside words
      (Devanagari, Thai or Arabic vowel signs never split a word).
    * Latin words inside CJK or Thai text survive as words (each segmenter keeps them).
    * ``SCRIPT_SHARE`` is our convention (one letter in ten).

Stop words per text
    The corpus-level lists (languages of at least 1 % of the texts, plus English) apply to every
    text; a text whose tokens include a stop word of another stopwords-iso language is classified
    by py3langid and loses its own language's stop words too. Classifying only those texts gives
    exactly the result of classifying all of them (a text with no such token has nothing to lose)
    at a fraction of the cost.
"""
from __future__ import annotations

import functools
import logging

import regex

SCRIPT_SHARE = 0.10
SEGMENTERS = ("zh", "ja", "th")   # language codes with a segmenter of their own

_HAN = regex.compile(r"[\p{Han}]")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_THAI = regex.compile(r"[\p{Thai}]")
_LETTER = regex.compile(r"\p{L}")
# A word: letters and digits with their combining marks, apostrophes inside ("don't").
WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['\u2019][\p{L}\p{N}][\p{L}\p{M}\p{N}]*)*")


def script_of(text: str) -> str:
    """``"ja"``, ``"zh"``, ``"th"`` or ``"word"`` (the word pattern) for one cleaned text."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return "word"
    kana, han = len(_KANA.findall(text)), len(_HAN.findall(text))
    if kana and (kana + han) / letters >= SCRIPT_SHARE:
        return "ja"
    if han / letters >= SCRIPT_SHARE:
        return "zh"
    if len(_THAI.findall(text)) / letters >= SCRIPT_SHARE:
        return "th"
    return "word"


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)   # no "Building prefix dict" chatter on stderr
    return jieba


# Japanese function words (particles, auxiliaries, symbols) are parts of speech, not a word
# list: stopwords-iso's Japanese list misses the auxiliaries' inflected stems ("まし" of "ました").
_JAPANESE_FUNCTION_POS = ("助詞", "助動詞", "記号")


@functools.lru_cache(maxsize=1)
def _janome():
    from janome.tokenizer import Tokenizer

    return Tokenizer()


def _japanese(text: str) -> list[str]:
    return [t.surface for t in _janome().tokenize(text)
            if t.part_of_speech.split(",")[0] not in _JAPANESE_FUNCTION_POS]


def _thai(text: str) -> list[str]:
    from pythainlp.tokenize import word_tokenize

    return word_tokenize(text, engine="newmm", keep_whitespace=False)


def segment(text: str, script: str) -> list[str]:
    """Raw pieces of ``text`` cut by ``script``'s segmenter (punctuation runs included; the
    caller keeps what ``WORD`` matches whole)."""
    if script == "zh":
        return _jieba().lcut(text)
    if script == "ja":
        return _japanese(text)
    if script == "th":
        return _thai(text)
    return WORD.findall(text)


@functools.lru_cache(maxsize=None)
def stop_words_of(language: str) -> frozenset[str]:
    """stopwords-iso's list of one language, lower-cased (empty when it has none)."""
    import stopwordsiso

    if not stopwordsiso.has_lang(language):
        return frozenset()
    return frozenset(w.lower() for w in stopwordsiso.stopwords(language))


@functools.lru_cache(maxsize=None)
def _other_languages_stop_words(corpus_languages: tuple[str, ...]) -> frozenset[str]:
    import stopwordsiso

    words: set[str] = set()
    for code in stopwordsiso.langs():
        if code not in corpus_languages:
            words |= stop_words_of(code)
    return frozenset(words)


class OwnLanguageStops:
    """Removes a text's own language's stop words when the corpus-level lists lack them."""

    def __init__(self, corpus_languages) -> None:
        self.corpus_languages = tuple(sorted(set(corpus_languages)))
        self.others = _other_languages_stop_words(self.corpus_languages)
        self._seen: dict[str, str] = {}   # retweets and copies are classified once

    def language_of(self, text: str) -> str:
        import py3langid

        text = " ".join(text.split())
        if text not in self._seen:
            self._seen[text] = py3langid.classify(text)[0]
        return self._seen[text]

    def __call__(self, text: str, tokens: list[str]) -> list[str]:
        if not any(t in self.others for t in tokens):
            return tokens
        language = self.language_of(text)
        if language in self.corpus_languages:
            return tokens
        own = stop_words_of(language)
        return [t for t in tokens if t not in own]
