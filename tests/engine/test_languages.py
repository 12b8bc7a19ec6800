"""Every language described: each text is segmented by its own script (Chinese, Japanese and
Thai inside mostly English data) and loses its own language's stop words even when that
language is under 1 % of the corpus. Real sentences, expected terms written out by hand."""
from clustering_engine.describe import ctfidf_terms, tokenize, tokenize_corpus
from clustering_engine.segment import script_of

ENGLISH = [f"Storm clouds over the harbour again, ferry number {i} cancelled" for i in range(150)]
INDONESIAN = "Ini adalah banjir terbesar yang pernah terjadi pada kota kami, bukan hanya hujan biasa"
CHINESE = "这是我们在这个城市看到的最大的风暴了"
JAPANESE = "東京で大きな嵐が来ました。私たちは家にいます。"
THAI = "ประเทศไทยมีพายุใหญ่มากวันนี้"


def test_a_language_under_one_percent_still_loses_its_stop_words():
    texts = ENGLISH + [INDONESIAN]      # 1 text in 151: under the corpus-level 1 % floor
    tokens = tokenize_corpus(texts)
    indonesian = tokens[-1]
    assert not {"ini", "adalah", "pada", "bukan", "yang"} & set(indonesian), indonesian
    assert {"banjir", "terbesar", "kota", "hujan"} <= set(indonesian)
    # English texts keep their words; the English list still applies to them
    assert "harbour" in tokens[0] and "the" not in tokens[0]


def test_chinese_clause_in_mostly_english_data_is_segmented():
    assert script_of(CHINESE) == "zh"
    tokens = tokenize_corpus(ENGLISH + [CHINESE])[-1]
    assert CHINESE not in tokens                         # never one clause as one term
    assert {"城市", "风暴"} <= set(tokens)
    assert not {"我们", "这个"} & set(tokens)       # Chinese stop words, per text
    mixed = tokenize("Protest downtown 今天的抗议活动 police", "auto")
    assert {"protest", "downtown", "police", "抗议"} <= set(mixed)


def test_japanese_is_segmented_with_its_own_segmenter():
    assert script_of(JAPANESE) == "ja"
    tokens = tokenize_corpus(ENGLISH + [JAPANESE])[-1]
    assert "東京" in tokens
    assert not any(len(t) > 6 for t in tokens), tokens     # no unsplit clause
    assert not {"ます", "まし"} & set(tokens)


def test_thai_is_cut_into_words_not_fragments():
    assert script_of(THAI) == "th"
    tokens = tokenize(THAI, "auto")
    assert {"ประเทศ", "ไทย", "พายุ", "ใหญ่"} <= set(tokens), tokens
    assert "าท" not in tokens and all(not t[0] in "\u0e31\u0e34\u0e35\u0e36\u0e37" for t in tokens)


def test_terms_of_a_mixed_corpus_name_each_cluster_in_its_own_words():
    texts = ENGLISH[:20] + [CHINESE] * 3 + [JAPANESE] * 3 + [THAI] * 3
    labels = [0] * 20 + [1] * 3 + [2] * 3 + [3] * 3
    terms = {k: [t for t, _ in v] for k, v in ctfidf_terms(texts, labels, top_n=5).items()}
    assert "harbour" in terms[0]
    assert "风暴" in terms[1] and "東京" in terms[2] and "พายุ" in terms[3]
