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
      bare short links such as ``t.co/x``), "RT" before a mention and @mentions removed,
      ``#`` dropped from hashtags (the word stays), lower-cased; tokens are kept when they
      have at least 2 characters and are not digits only or stop words.
    * Tokeniser: per text, by its script (``segment.py``): jieba for Chinese, Janome for
      Japanese, PyThaiNLP for Thai, else a Unicode word pattern that keeps combining marks
      (any alphabetic language). An explicit language with a segmenter (``"zh"``, ``"ja"``,
      ``"th"``) uses it for every text.
    * Stop words: the maintained lists of ``stopwordsiso`` (stopwords-iso, ISO 639-1 codes),
      for every language found in the corpus: ``py3langid`` classifies each text (at most
      ``LANGUAGE_SAMPLE`` texts, evenly spaced, so the cost stays bounded), and a language
      counts when it is the language of at least ``MIN_LANGUAGE_SHARE`` of them (our
      convention: one tweet in a hundred; single misclassified short texts do not add a
      list). English is always included (tweets in every language borrow English words and
      hashtags). An explicit ``language`` uses that language's list (and English). Plus
      ``stop_words``: a path to a UTF-8 file (one word per line, ``#`` comments) or an
      iterable of words; ``builtin_stop_words=False`` drops the stopwords-iso lists. Under
      ``"auto"`` each text also loses its own language's stop words (``segment.py``), so a
      language under 1 % of the texts is still cleaned.

Representatives
    * Per cluster: the ``max(1, ceil(share * size))`` points closest (Euclidean) to the cluster
      mean are candidates (distance ties: input row order); they are visited in a seeded random
      order and ``min(n, candidates)`` are kept, returned closest first.
    * Distinct content is preferred: given ``image_keys`` and/or ``texts``, a candidate whose
      image key or normalised text (``normalise_for_duplicates``: URLs, @mentions and a
      leading "RT @user:" stripped, case and spaces folded) repeats one already kept is
      skipped and counted in ``duplicates_skipped``. When the candidates hold too few
      distinct posts, the rest of the cluster is searched in distance order; repeats are used
      only when the whole cluster has too few distinct posts (never one whose image and text
      both repeat a kept one).
    * Seeding is per cluster (``seed`` and the label), so a cluster's draw does not depend on
      which other clusters exist.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import zlib
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from .segment import SEGMENTERS, WORD, OwnLanguageStops, script_of, segment

NOISE = -1
AUTO = "auto"
MIN_LANGUAGE_SHARE = 0.01   # our convention: a language counts from 1 text in 100
LANGUAGE_SAMPLE = 5000      # texts classified at most (evenly spaced: deterministic)
ALWAYS_STOP_LANGUAGES = ("en",)

# URLs, also as scraped tweets mangle them ("http: \/\/t.co\/x") and bare short links.
_URL = re.compile(r"(?:https?:\s*(?:\\?/){2}|www\.)\S+"
                  r"|\b[\w-]+(?:\.[\w-]+)*\.(?:co|com|org|net|ly|me|io|gl)\\?/\S*",
                  re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_RETWEET = re.compile(r"^\s*(?:RT\b[\s:]*)+", re.IGNORECASE)
_RETWEET_MARK = re.compile(r"\bRT\b:?(?=\s*@\w)", re.IGNORECASE)   # "RT @user", anywhere


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


def _check_language(language: str) -> None:
    import stopwordsiso

    if language != AUTO and not stopwordsiso.has_lang(language):
        raise ValueError(f"language must be 'auto' or an ISO 639-1 code with a stopwords-iso "
                         f"list (e.g. 'en', 'es', 'zh'), got {language!r}")


def load_builtin_stop_words(language: str | Iterable[str]) -> frozenset[str]:
    """The stopwords-iso lists of ``language`` (one code or several) plus English."""
    import stopwordsiso

    codes = [language] if isinstance(language, str) else list(language)
    words: set[str] = set()
    for code in sorted(set(codes) | set(ALWAYS_STOP_LANGUAGES)):
        _check_language(code)
        words |= {w.lower() for w in stopwordsiso.stopwords(code)}
    return frozenset(words)


def _stop_word_set(languages, stop_words, use_builtin: bool) -> frozenset[str]:
    words = set(load_builtin_stop_words(languages)) if use_builtin else set()
    if stop_words is None:
        pass
    elif isinstance(stop_words, (str, os.PathLike)):
        words |= read_word_file(stop_words)
    else:
        words |= {str(w).strip().lower() for w in stop_words if str(w).strip()}
    return frozenset(words)


def clean_text(text) -> str:
    """Strip URLs, "RT" retweet marks and @mentions, drop ``#`` from hashtags; None/NaN
    become ``""``."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    text = _MENTION.sub(" ", _RETWEET_MARK.sub(" ", _URL.sub(" ", str(text))))
    return text.replace("#", " ").replace("\uff03", " ")


def normalise_for_duplicates(text) -> str:
    """The text two posts must share to count as the same: a leading "RT @user:", URLs and
    @mentions stripped, case folded, spaces collapsed (``""`` for None/NaN)."""
    text = _RETWEET.sub("", clean_text(text).strip())
    return " ".join(text.casefold().split()).strip(" :-\u2013\u2014")


def detect_languages(texts: Sequence, min_share: float = MIN_LANGUAGE_SHARE,
                     max_texts: int = LANGUAGE_SAMPLE) -> list[str]:
    """ISO 639-1 codes that py3langid gives to at least ``min_share`` of the (cleaned,
    non-empty) texts and that stopwords-iso has a list for, most frequent first."""
    import py3langid
    import stopwordsiso

    cleaned = [c for c in (" ".join(clean_text(t).split()) for t in texts) if c]
    if not cleaned:
        return []
    if len(cleaned) > max_texts:
        cleaned = [cleaned[i] for i in np.linspace(0, len(cleaned) - 1, max_texts).astype(int)]
    counts = Counter(py3langid.classify(text)[0] for text in cleaned)
    floor = max(1, math.ceil(min_share * len(cleaned) - 1e-9))
    return [code for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if count >= floor and stopwordsiso.has_lang(code)]


def stop_word_languages(texts: Sequence, language: str = AUTO) -> list[str]:
    """The languages whose stopwords-iso lists describe ``texts``: the detected ones (plus
    English) for ``"auto"``, else ``language`` (plus English); sorted."""
    _check_language(language)
    found = detect_languages(texts) if language == AUTO else [language]
    return sorted(set(found) | set(ALWAYS_STOP_LANGUAGES))


def tokenize(text, language: str, stop_words: frozenset[str] = frozenset(),
             own_language_stops: OwnLanguageStops | None = None) -> list[str]:
    """Cleaned, lower-cased tokens of one text, cut by its own script's segmenter (or by
    ``language``'s when it has one); ``own_language_stops`` also drops the stop words of the
    text's own language."""
    cleaned = clean_text(text).lower()
    script = language if language in SEGMENTERS else script_of(cleaned)
    tokens = []
    for token in segment(cleaned, script):
        token = token.strip()
        if len(token) < 2 or token.isdigit() or token in stop_words:
            continue
        if not WORD.fullmatch(token):   # punctuation runs from the segmenters
            continue
        tokens.append(token)
    if own_language_stops is not None:
        tokens = own_language_stops(cleaned, tokens)
    return tokens


def _own_language_stops(language: str, languages, use_builtin: bool) -> OwnLanguageStops | None:
    return OwnLanguageStops(languages or ()) if use_builtin and language == AUTO else None


# --------------------------------------------------------------------------------------------
# c-TF-IDF
# --------------------------------------------------------------------------------------------

def tokenize_corpus(texts: Sequence, language: str = AUTO, stop_words=None, *,
                    builtin_stop_words: bool = True,
                    languages: Sequence[str] | None = None) -> list[list[str]]:
    """Tokens of every text, with one tokeniser and one stop-word set for the corpus; pass
    the result to ``ctfidf_terms(..., tokens=...)`` to describe many clusterings of the same
    texts without tokenising them again (segmenting is the slow part on large CJK corpora).
    ``languages``: the stop-word languages when already known (``stop_word_languages``)."""
    texts = list(texts)
    _check_language(language)
    if languages is None and builtin_stop_words:
        languages = stop_word_languages(texts, language)
    stops = _stop_word_set(languages or (), stop_words, builtin_stop_words)
    own = _own_language_stops(language, languages, builtin_stop_words)
    return [tokenize(text, language, stops, own) for text in texts]


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
    language : "auto" or an ISO 639-1 code with a stopwords-iso list
    stop_words : None, path to a word file, or iterable of words (added to stopwords-iso's).
    builtin_stop_words : bool
        Use the stopwords-iso lists of the detected (or given) language(s).
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
    _check_language(language)
    keep = labels != NOISE
    if tokens is None:
        kept_texts = [t for t, k in zip(texts, keep) if k]
        languages = (stop_word_languages(kept_texts, language) if builtin_stop_words else ())
        stops = _stop_word_set(languages, stop_words, builtin_stop_words)
        own = _own_language_stops(language, languages, builtin_stop_words)

        def tokens_of(idx):
            return tokenize(texts[idx], language, stops, own)
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


def prefer_distinct(order: Sequence[int], n: int, image_keys: Sequence | None = None,
                    texts: Sequence | None = None, fallback: Sequence[int] = ()
                    ) -> tuple[list[int], int]:
    """Up to ``n`` of the rows in ``order`` (then ``fallback``), skipping any whose image key
    or normalised text repeats one already kept; repeats fill the remaining places only when
    too few distinct rows exist (never a row whose image and text both repeat a kept one).

    Returns (kept rows in visiting order, number of rows skipped as duplicates of kept ones).
    The coders' sampling uses the same rule, so galleries and samples agree on "distinct".
    """
    def image_of(row):
        return None if image_keys is None else image_keys[row]

    text_of = (lambda row: None) if texts is None else (
        lambda row: normalise_for_duplicates(texts[row]))
    kept: list[int] = []
    seen_images, seen_texts, seen_both = set(), set(), set()
    skipped: list[int] = []

    def keep(row):
        img, txt = image_of(row), text_of(row)
        kept.append(row)
        seen_images.add(img)
        seen_texts.add(txt)
        seen_both.add((img, txt))

    visited = set(order)
    for row in list(order) + [r for r in fallback if r not in visited]:
        if len(kept) >= n:
            break
        img, txt = image_of(row), text_of(row)
        if (img is not None and img in seen_images) or (txt is not None and txt in seen_texts):
            skipped.append(row)
            continue
        keep(row)
    for row in skipped:   # too few distinct posts: partial repeats, never full ones
        if len(kept) >= n:
            break
        if (image_of(row), text_of(row)) not in seen_both:
            keep(row)
    kept_rows = set(kept)
    n_skipped = sum(1 for row in skipped if row not in kept_rows)
    return kept, n_skipped


@dataclasses.dataclass
class RepresentativeDraw:
    """Representative rows per cluster and how many duplicates were passed over for each."""
    rows: dict
    duplicates_skipped: dict


def draw_representatives(X, labels, share: float = 0.10, n: int = 5, seed: int = 0, *,
                         image_keys: Sequence | None = None, texts: Sequence | None = None
                         ) -> RepresentativeDraw:
    """Seeded draw of ``n`` rows among the ``share`` closest to each cluster's mean,
    preferring distinct images and texts (module docstring); noise excluded.

    ``image_keys`` (e.g. image content hashes) and ``texts`` are row-aligned with ``X``.
    Rows are returned closest to the centre first.
    """
    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.ndim != 1 or len(labels) != len(X):
        raise ValueError(f"X {X.shape} and labels {labels.shape} do not match")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    for name, keys in (("image_keys", image_keys), ("texts", texts)):
        if keys is not None and len(keys) != len(labels):
            raise ValueError(f"{name} ({len(keys)}) and labels ({len(labels)}) differ in length")
    rows_out: dict[object, list[int]] = {}
    skipped_out: dict[object, int] = {}
    for cls in np.unique(labels[labels != NOISE]):
        rows = np.flatnonzero(labels == cls)
        points = np.asarray(X[rows], dtype=np.float64)
        diff = points - points.mean(axis=0)
        dist = np.einsum("ij,ij->i", diff, diff)
        order = np.argsort(dist, kind="stable")
        # 1e-9 guards against share * size landing just above an integer (0.1 * 30).
        n_candidates = max(1, math.ceil(share * len(rows) - 1e-9))
        visit = _label_seed(seed, cls.item()).permutation(n_candidates)
        picked, n_skipped = prefer_distinct(
            [int(rows[order[i]]) for i in visit], min(n, n_candidates), image_keys, texts,
            fallback=[int(r) for r in rows[order[n_candidates:]]])
        picked.sort(key=lambda r: (dist[np.searchsorted(rows, r)], r))
        rows_out[cls.item()] = picked
        skipped_out[cls.item()] = n_skipped
    return RepresentativeDraw(rows_out, skipped_out)


def representatives(X, labels, share: float = 0.10, n: int = 5, seed: int = 0, *,
                    image_keys: Sequence | None = None, texts: Sequence | None = None
                    ) -> dict[object, list[int]]:
    """``draw_representatives(...).rows``: dict label -> row indices into ``X`` (closest to
    the centre first); noise excluded."""
    return draw_representatives(X, labels, share, n, seed, image_keys=image_keys,
                                texts=texts).rows
