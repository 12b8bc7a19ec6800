"""Cluster descriptions: c-TF-IDF top terms and representative posts (paper figures 5-6).

Conventions:

c-TF-IDF (Grootendorst 2022, BERTopic)
    * All documents of a cluster form one class document; noise (``-1``) is left out entirely
      (not a class, and not counted in term frequencies or in A).
    * score(t, c) = tf(t, c) * log(1 + A / f_t): tf = count of t in c divided by the number of
      words in c (L1 normalisation, as BERTopic), f_t = count of t over all classes, A = mean
      number of words per class (a float; BERTopic truncates it to an int).
    * Ranking: score descending, then term ascending (deterministic). A class with no words
      left after cleaning gets an empty list.
    * Cleaning: URLs (``http(s)://``, ``www.``, the escaped ``http: \\/\\/`` of scraped tweets,
      bare short links such as ``t.co/x``) and @mentions removed, ``#`` dropped from
      hashtags (the word stays), lower-cased; tokens are kept when they have at least 2
      characters and are not digits only or stop words.
    * Language: ``"auto"`` looks at the whole corpus: if CJK characters make up at least 10% of
      the letters (CJK + Latin), it is ``"zh"``, else ``"en"``. ``"zh"`` tokenises with jieba
      (precise mode; Latin words inside Chinese text survive as words), ``"en"`` with a Unicode
      word regex. ``"zh"`` uses the Chinese and the English stop words (tweets mix both).
    * Stop words: built-in short lists in ``clustering_engine/stopwords/{en,zh}.txt`` plus
      ``stop_words``: a path to a UTF-8 file (one word per line, ``#`` comments) or an
      iterable of words; ``builtin_stop_words=False`` drops the built-in lists.

Representatives
    * Per cluster: the ``max(1, ceil(share * size))`` points closest (Euclidean) to the cluster
      mean are candidates (distance ties: input row order); ``min(n, candidates)`` of them are
      drawn without replacement and returned closest first.
    * Seeding is per cluster (``seed`` and the label), so a cluster's draw does not depend on
      which other clusters exist.
"""
from __future__ import annotations

import logging
import math
import os
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

NOISE = -1
LANGUAGES = ("auto", "en", "zh")
CJK_SHARE_FOR_CHINESE = 0.10
STOPWORDS_DIR = Path(__file__).with_name("stopwords")

# URLs, also as scraped tweets mangle them ("http: \/\/t.co\/x") and bare short links.
_URL = re.compile(r"(?:https?:\s*(?:\\?/){2}|www\.)\S+"
                  r"|\b[\w-]+(?:\.[\w-]+)*\.(?:co|com|org|net|ly|me|io|gl)\\?/\S*",
                  re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_CHAR = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


# --------------------------------------------------------------------------------------------
# Stop words and tokenisation
# --------------------------------------------------------------------------------------------

def read_word_file(path: str | os.PathLike) -> set[str]:
    """Words of a UTF-8 file, one per line; blank lines and ``#`` comments skipped."""
    words = set()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word = line.strip()
            if word and not word.startswith("#"):
                words.add(word.lower())
    return words


def load_builtin_stop_words(language: str) -> frozenset[str]:
    """Built-in list for ``"en"``; for ``"zh"`` the Chinese and the English lists."""
    if language not in ("en", "zh"):
        raise ValueError(f"no built-in stop words for language {language!r}")
    words = read_word_file(STOPWORDS_DIR / "en.txt")
    if language == "zh":
        words |= read_word_file(STOPWORDS_DIR / "zh.txt")
    return frozenset(words)


def _stop_word_set(language: str, stop_words, use_builtin: bool) -> frozenset[str]:
    words = set(load_builtin_stop_words(language)) if use_builtin else set()
    if stop_words is None:
        pass
    elif isinstance(stop_words, (str, os.PathLike)):
        words |= read_word_file(stop_words)
    else:
        words |= {str(w).strip().lower() for w in stop_words if str(w).strip()}
    return frozenset(words)


def clean_text(text) -> str:
    """Strip URLs and @mentions, drop ``#`` from hashtags; None/NaN become ``""``."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    text = _MENTION.sub(" ", _URL.sub(" ", str(text)))
    return text.replace("#", " ").replace("\uff03", " ")


def detect_language(texts: Iterable) -> str:
    """``"zh"`` if CJK characters are at least 10% of the letters of the corpus, else ``"en"``."""
    cjk = latin = 0
    for text in texts:
        cleaned = clean_text(text)
        cjk += len(_CJK_CHAR.findall(cleaned))
        latin += len(_LATIN_CHAR.findall(cleaned))
    if cjk + latin == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= CJK_SHARE_FOR_CHINESE else "en"


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)   # no "Building prefix dict" chatter on stderr
    return jieba


def tokenize(text, language: str, stop_words: frozenset[str] = frozenset()) -> list[str]:
    """Cleaned, lower-cased tokens of one text (``language`` is ``"en"`` or ``"zh"``)."""
    cleaned = clean_text(text).lower()
    if language == "zh":
        raw = _jieba().lcut(cleaned)
    elif language == "en":
        raw = _WORD.findall(cleaned)
    else:
        raise ValueError(f"language must be 'en' or 'zh' here, got {language!r}")
    tokens = []
    for token in raw:
        token = token.strip()
        if len(token) < 2 or token.isdigit() or token in stop_words:
            continue
        if not _WORD.fullmatch(token):   # punctuation runs from jieba
            continue
        tokens.append(token)
    return tokens


# --------------------------------------------------------------------------------------------
# c-TF-IDF
# --------------------------------------------------------------------------------------------

def tokenize_corpus(texts: Sequence, language: str = "auto", stop_words=None, *,
                    builtin_stop_words: bool = True) -> list[list[str]]:
    """Tokens of every text, with one language for the corpus; pass the result to
    ``ctfidf_terms(..., tokens=...)`` to describe many clusterings of the same texts without
    tokenising them again (jieba is the slow part on large Chinese corpora)."""
    texts = list(texts)
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    if language == "auto":
        language = detect_language(texts)
    stops = _stop_word_set(language, stop_words, builtin_stop_words)
    return [tokenize(text, language, stops) for text in texts]


def ctfidf_terms(texts: Sequence, labels, top_n: int = 10, language: str = "auto",
                 stop_words=None, *, builtin_stop_words: bool = True,
                 tokens: Sequence[list[str]] | None = None
                 ) -> dict[object, list[tuple[str, float]]]:
    """Top c-TF-IDF terms per cluster.

    Parameters
    ----------
    texts : sequence of str (None/NaN allowed: empty)
    labels : array-like, same length; ``-1`` (noise) is excluded.
    top_n : int
    language : {"auto", "en", "zh"}
    stop_words : None, path to a word file, or iterable of words (added to the built-ins).
    builtin_stop_words : bool
        Use the built-in list(s) of the language.
    tokens : optional, from ``tokenize_corpus``: the texts already tokenised (then
        ``language`` and the stop-word options are not used again).

    Returns
    -------
    dict label -> [(term, score), ...], at most ``top_n``, best first; every non-noise label
    is a key (Python scalars, sorted).
    """
    texts = list(texts)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(texts):
        raise ValueError(f"texts ({len(texts)}) and labels ({labels.shape}) differ in length")
    if top_n < 1:
        raise ValueError("top_n must be >= 1")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    keep = labels != NOISE
    if tokens is None:
        kept_texts = [t for t, k in zip(texts, keep) if k]
        if language == "auto":
            language = detect_language(kept_texts)
        stops = _stop_word_set(language, stop_words, builtin_stop_words)

        def tokens_of(idx):
            return tokenize(texts[idx], language, stops)
    else:
        if len(tokens) != len(texts):
            raise ValueError(f"tokens ({len(tokens)}) and texts ({len(texts)}) differ in length")

        def tokens_of(idx):
            return tokens[idx]

    classes = np.unique(labels[keep])
    class_counts: list[Counter] = []
    for cls in classes:
        counter: Counter = Counter()
        for idx in np.flatnonzero(labels == cls):
            counter.update(tokens_of(idx))
        class_counts.append(counter)

    term_totals: Counter = Counter()
    for counter in class_counts:
        term_totals.update(counter)
    if not classes.size:
        return {}
    avg_words = sum(term_totals.values()) / len(classes)   # A

    result: dict[object, list[tuple[str, float]]] = {}
    for cls, counter in zip(classes, class_counts):
        n_words = sum(counter.values())
        scored = [(term, (count / n_words) * math.log(1.0 + avg_words / term_totals[term]))
                  for term, count in counter.items()]
        scored.sort(key=lambda item: (-item[1], item[0]))
        result[cls.item()] = [(term, float(score)) for term, score in scored[:top_n]]
    return result


# --------------------------------------------------------------------------------------------
# Representatives
# --------------------------------------------------------------------------------------------

def _label_seed(seed: int, label) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(
        [int(seed) & 0xFFFFFFFF, zlib.crc32(str(label).encode("utf-8"))]))


def representatives(X, labels, share: float = 0.10, n: int = 5, seed: int = 0
                    ) -> dict[object, list[int]]:
    """Seeded random draw of ``n`` rows among the ``share`` closest to each cluster's mean.

    Returns
    -------
    dict label -> row indices into ``X`` (closest to the centre first); noise excluded.
    """
    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.ndim != 1 or len(labels) != len(X):
        raise ValueError(f"X {X.shape} and labels {labels.shape} do not match")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out: dict[object, list[int]] = {}
    for cls in np.unique(labels[labels != NOISE]):
        rows = np.flatnonzero(labels == cls)
        points = np.asarray(X[rows], dtype=np.float64)
        diff = points - points.mean(axis=0)
        order = np.argsort(np.einsum("ij,ij->i", diff, diff), kind="stable")
        # 1e-9 guards against share * size landing just above an integer (0.1 * 30).
        n_candidates = max(1, math.ceil(share * len(rows) - 1e-9))
        draw = _label_seed(seed, cls.item()).choice(n_candidates, size=min(n, n_candidates),
                                                    replace=False)
        out[cls.item()] = [int(r) for r in rows[order[np.sort(draw)]]]
    return out
