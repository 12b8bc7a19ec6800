"""Tests of clustering_engine.describe: c-TF-IDF terms, tokenisation, representatives."""
from __future__ import annotations

import math

import numpy as np
import pytest

from clustering_engine.describe import (clean_text, ctfidf_terms,
                                        detect_languages, draw_representatives,
                                        load_builtin_stop_words, normalise_for_duplicates,
                                        representatives, stop_word_languages, tokenize,
                                        tokenize_corpus)
from clustering_engine.segment import script_of

LABOUR = ["工人抗议拖欠工资 http://t.co/abc @reporter",
          "工厂工人聚集抗议，要求发放工资",
          "工资被拖欠，工人们上街抗议 #维权",
          "Workers protest unpaid wages at the factory"]
WEATHER = ["今天的天气很好，阳光明媚",
           "周末去公园看花，天气晴朗",
           "公园里的花开了，天气真好",
           "Sunny weather in the park today"]


def test_ctfidf_hand_computed_english():
    # Class 0: "apple apple banana" (3 words), class 1: "banana cherry" (2 words); A = 2.5.
    # score(apple, 0) = 2/3 * log(1 + 2.5/2); score(banana, 0) = 1/3 * log(1 + 2.5/2)
    # score(cherry, 1) = 1/2 * log(1 + 2.5/1); score(banana, 1) = 1/2 * log(1 + 2.5/2)
    terms = ctfidf_terms(["apple apple", "banana", "banana cherry", "ignored noise"],
                         [0, 0, 1, -1], language="en")
    assert list(terms) == [0, 1]
    assert [t for t, _ in terms[0]] == ["apple", "banana"]
    assert terms[0][0][1] == pytest.approx(2 / 3 * math.log(1 + 2.5 / 2))
    assert terms[0][1][1] == pytest.approx(1 / 3 * math.log(1 + 2.5 / 2))
    assert terms[1][0] == ("cherry", pytest.approx(0.5 * math.log(3.5)))
    assert terms[1][1] == ("banana", pytest.approx(0.5 * math.log(2.25)))


def test_ctfidf_chinese_and_english_labour_cluster():
    texts = LABOUR + WEATHER
    labels = [0] * len(LABOUR) + [1] * len(WEATHER)
    assert [script_of(clean_text(t)) for t in LABOUR] == ["zh"] * 3 + ["word"]
    terms = ctfidf_terms(texts, labels, top_n=5)
    labour_top = [t for t, _ in terms[0][:3]]
    assert {"抗议", "工资"} <= set(labour_top)
    weather_top = [t for t, _ in terms[1][:3]]
    assert "天气" in weather_top and "公园" in weather_top
    every_term = {t for ranked in terms.values() for t, _ in ranked}
    assert not every_term & {"http", "t.co", "abc", "reporter", "的", "the", "at"}
    assert all(len(ranked) <= 5 for ranked in terms.values())
    scores = [s for _, s in terms[0]]
    assert scores == sorted(scores, reverse=True)


def test_ctfidf_from_tokens_made_once_equals_tokenising_each_time():
    texts = LABOUR + WEATHER
    tokens = tokenize_corpus(texts)
    for labels in ([0] * len(LABOUR) + [1] * len(WEATHER), [i % 3 for i in range(len(texts))]):
        assert ctfidf_terms(texts, labels, top_n=5, tokens=tokens) == ctfidf_terms(texts, labels, top_n=5)
    with pytest.raises(ValueError, match="tokens"):
        ctfidf_terms(texts, [0] * len(texts), tokens=tokens[:-1])


def test_ctfidf_stop_words_file_and_builtin_switch(tmp_path):
    texts = ["protest wages wages", "weather park"]
    path = tmp_path / "stop.txt"
    path.write_text("# my list\nwages\n\n", encoding="utf-8")
    terms = ctfidf_terms(texts, [0, 1], language="en", stop_words=str(path))
    assert [t for t, _ in terms[0]] == ["protest"]
    terms = ctfidf_terms(texts, [0, 1], language="en", stop_words=["park"])
    assert [t for t, _ in terms[1]] == ["weather"]
    with_builtin = ctfidf_terms(["the cat"], [0], language="en")
    without = ctfidf_terms(["the cat"], [0], language="en", builtin_stop_words=False)
    assert [t for t, _ in with_builtin[0]] == ["cat"]
    assert [t for t, _ in without[0]] == ["cat", "the"]


def test_ctfidf_edge_cases():
    terms = ctfidf_terms(["http://x.org @a", "real apples here", None], [0, 1, 1], language="en")
    assert terms[0] == []   # nothing left after cleaning
    assert [t for t, _ in terms[1]] == ["apples", "real"]   # "here" is a stop word
    assert ctfidf_terms(["a", "b"], [-1, -1]) == {}
    with pytest.raises(ValueError):
        ctfidf_terms(["a"], [0, 1])
    with pytest.raises(ValueError):
        ctfidf_terms(["a"], [0], language="xx")   # no stopwords-iso list


def test_tokenize_and_script_of():
    assert clean_text("RT @bob: look https://t.co/x #Paris").split() == [":", "look", "Paris"]
    assert clean_text("ART show, RT this").split() == ["ART", "show,", "RT", "this"]
    stops = load_builtin_stop_words("en")
    assert tokenize("RT @bob: Look at the #Eiffel tower! 2015 http://t.co/x", "en", stops) == [
        "eiffel", "tower"]   # "look" is in stopwords-iso's English list
    # Scraped tweets escape their URLs ("http: \/\/t.co\/x"); bare short links too.
    assert tokenize("Livr app http: \\/\\/t.co\\/BojivEViv2 via t.co/abc", "en", stops) == [
        "livr", "app"]
    assert script_of("hello world") == "word" and script_of("你好世界 hello") == "zh"
    assert "的" in load_builtin_stop_words("zh") and "the" in load_builtin_stop_words("zh")
    assert "的" not in load_builtin_stop_words("en")


def test_representatives_hand_computed():
    # Cluster 0: rows 0-9 on a line, mean 4.5 -> closest rows 4 and 5 (tie: row order).
    X = np.concatenate([np.arange(10.0), [100.0, 101.0, 102.0], [50.0]])[:, None]
    labels = np.array([0] * 10 + [1] * 3 + [-1])
    reps = representatives(X, labels, share=0.2, n=5, seed=0)
    assert sorted(reps) == [0, 1]
    assert sorted(reps[0]) == [4, 5]        # ceil(0.2 * 10) = 2 candidates, both drawn
    assert reps[1] == [11]                  # ceil(0.2 * 3) = 1 candidate: the middle point
    reps = representatives(X, labels, share=0.1, n=5, seed=0)
    assert reps[0] in ([4], [5])            # 1 candidate: first of the tied closest in order
    assert reps[0] == [4]


def test_representatives_seeded_and_within_share():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    labels = rng.integers(0, 3, 500)
    a = representatives(X, labels, share=0.1, n=5, seed=1)
    assert a == representatives(X, labels, share=0.1, n=5, seed=1)
    assert a != representatives(X, labels, share=0.1, n=5, seed=2)
    # Dropping cluster 2 does not change the draws of clusters 0 and 1.
    mask = labels != 2
    b = representatives(X[mask], labels[mask], share=0.1, n=5, seed=1)
    rows = np.flatnonzero(mask)
    assert {k: [int(rows[i]) for i in v] for k, v in b.items()} == {0: a[0], 1: a[1]}
    for cluster, chosen in a.items():
        members = np.flatnonzero(labels == cluster)
        dist = np.linalg.norm(X[members] - X[members].mean(axis=0), axis=1)
        limit = np.sort(dist)[math.ceil(0.1 * len(members)) - 1]
        chosen_dist = np.linalg.norm(X[chosen] - X[members].mean(axis=0), axis=1)
        assert len(chosen) == 5 and len(set(chosen)) == 5
        assert np.all(chosen_dist <= limit + 1e-12)
        assert list(chosen_dist) == sorted(chosen_dist)   # closest first


def test_representatives_validation():
    with pytest.raises(ValueError):
        representatives(np.zeros((3, 2)), [0, 0, 1], share=0)
    with pytest.raises(ValueError):
        representatives(np.zeros((3, 2)), [0, 0], share=0.1)


# ------------------------------------------------------------------ every language's stop words

ENGLISH = ["Hurricane Patricia hits the coast of Mexico tonight",
           "Huge waves as the hurricane reaches the coast",
           "Storm damage along the Mexican coast after the hurricane"] * 4
SPANISH = ["El huracán Patricia llega a la costa de México esta noche",
           "Las olas del huracán golpean la costa con fuerza",
           "Los daños del huracán en la costa son enormes para los vecinos"] * 4


def test_detect_languages_finds_every_language_of_the_corpus():
    assert detect_languages(ENGLISH + SPANISH) == ["en", "es"]
    assert detect_languages(ENGLISH) == ["en"]
    assert detect_languages(["http://t.co/x @a", ""]) == []
    # One Spanish text in 200 is below the 1% share: it adds no list of its own.
    assert detect_languages(ENGLISH * 50 + SPANISH[:1]) == ["en"]
    assert stop_word_languages(SPANISH) == ["en", "es"]   # English always included
    assert stop_word_languages(ENGLISH, "fr") == ["en", "fr"]


def test_spanish_function_words_never_top_terms_of_a_mixed_corpus():
    texts = ENGLISH + SPANISH
    labels = [0] * len(ENGLISH) + [1] * len(SPANISH)
    spanish_function_words = {"el", "los", "las", "en", "del", "para", "con", "son", "esta"}
    english_only = ctfidf_terms(texts, labels, top_n=10, language="en")
    assert spanish_function_words & {t for t, _ in english_only[1]}   # the old behaviour
    terms = ctfidf_terms(texts, labels, top_n=10)
    spanish_top = [t for t, _ in terms[1]]
    assert not spanish_function_words & set(spanish_top)
    assert "huracán" in spanish_top and "costa" in spanish_top
    assert "hurricane" in [t for t, _ in terms[0]]
    assert tokenize_corpus(texts) == tokenize_corpus(texts, languages=["en", "es"])


def test_normalise_for_duplicates():
    same = ["RT @bob: Look at this http://t.co/abc", "look at THIS  https://x.co/y",
            "RT @alice: RT @bob: Look at this", "Look at this @carol"]
    assert {normalise_for_duplicates(t) for t in same} == {"look at this"}
    assert normalise_for_duplicates("Look at that") != normalise_for_duplicates(same[0])
    assert normalise_for_duplicates(None) == "" == normalise_for_duplicates(float("nan"))


def test_representatives_prefer_distinct_images_and_texts():
    # One cluster of 40 points: the 10 closest to the mean (share 0.25) are rows 0-9; rows
    # 0-5 show the same photo, rows 6-7 the same retweeted text, row 8-9 are distinct.
    rng = np.random.default_rng(0)
    outer = rng.normal(size=(15, 3))
    outer *= (2.0 + np.arange(15.0))[:, None] / np.linalg.norm(outer, axis=1, keepdims=True)
    X = np.vstack([rng.normal(0, 0.01, (10, 3)), outer, -outer])   # outer: mean 0
    labels = np.zeros(40, dtype=int)
    images = ["same.jpg"] * 6 + [f"img{i}.jpg" for i in range(6, 40)]
    texts = [f"post {i}" for i in range(6)] + ["RT @a: flood in town", "flood in town http://t.co/q"] + [
        f"post {i}" for i in range(8, 40)]
    plain = representatives(X, labels, share=0.25, n=5, seed=3)
    assert all(r < 10 for r in plain[0])
    assert sum(images[r] == "same.jpg" for r in plain[0]) >= 2   # without keys: repeats
    draw = draw_representatives(X, labels, share=0.25, n=5, seed=3, image_keys=images,
                                texts=texts)
    rows = draw.rows[0]
    assert len(rows) == 5
    assert len({images[r] for r in rows}) == 5
    assert len({normalise_for_duplicates(texts[r]) for r in rows}) == 5
    # Among the 10 candidates only 4 are distinct (one photo, one text, rows 8 and 9): the
    # fifth comes from outside the share, the closest distinct point.
    assert sum(r < 10 for r in rows) == 4
    assert draw.duplicates_skipped[0] >= 5
    dist = np.linalg.norm(X[rows] - X.mean(axis=0), axis=1)
    assert list(dist) == sorted(dist)
    assert draw == draw_representatives(X, labels, share=0.25, n=5, seed=3, image_keys=images,
                                        texts=texts)


def test_representatives_repeat_only_when_too_few_distinct_and_never_exact_copies():
    X = np.arange(6.0)[:, None]
    labels = np.zeros(6, dtype=int)
    images = ["a.jpg"] * 6
    texts = ["one", "one", "two", "two", "three", "one"]
    draw = draw_representatives(X, labels, share=1.0, n=5, seed=0, image_keys=images,
                                texts=texts)
    rows = draw.rows[0]
    pairs = [(images[r], texts[r]) for r in rows]
    assert len(pairs) == len(set(pairs)) == 3   # a, one / a, two / a, three: no exact copy
    assert draw.duplicates_skipped[0] == 3
    with pytest.raises(ValueError, match="image_keys"):
        draw_representatives(X, labels, image_keys=images[:-1])
