from __future__ import annotations

import math

import numpy as np
import pytest

from rag.sparse.bm25 import BM25Encoder, term_id
from rag.sparse.tokenizers import (
    CharNgramTokenizer,
    EnglishTokenizer,
    JiebaTokenizer,
    MixedTokenizer,
)
from rag.store import IndexSpec, Point
from rag.store.edge import EdgeStore

PHRASE = "出差住宿费的报销标准是多少"


@pytest.mark.parametrize("backend", ["jieba", "rjieba"])
def test_chinese_phrase_yields_words(backend):
    assert JiebaTokenizer(backend, mode="default")(PHRASE) == [
        "出差", "住宿费", "的", "报销", "标准", "是", "多少"]
    # search mode adds the sub-words of long words
    assert {"住宿", "宿费", "住宿费"} <= set(JiebaTokenizer(backend, mode="search")(PHRASE))


def test_english_is_lowercased_and_stemmed():
    assert EnglishTokenizer()("Descaling the Machines, descaled!") == [
        "descal", "the", "machin", "descal"]


def test_mixed_text_routes_each_script_and_keeps_codes():
    tokenize = MixedTokenizer(zh=JiebaTokenizer("rjieba", "default"))
    tokens = tokenize("升级到 Aurora X2 v2.3.1 后报销")
    assert tokens == ["升级", "到", "aurora", "x2", "v2.3.1", "后", "报销"]


def test_char_ngrams():
    assert CharNgramTokenizer((1, 2))("住宿费") == ["住", "宿", "费", "住宿", "宿费"]


def test_document_weights_are_bm25_term_frequency():
    enc = BM25Encoder(EnglishTokenizer(stem=False), k1=1.2, b=0.75, avg_len=4)
    (ids, vals), = enc.encode_documents(["boiler boiler pump descale"])
    weights = dict(zip(ids, vals, strict=True))
    norm = 1.2 * (1 - 0.75 + 0.75 * 4 / 4)
    assert weights[term_id("boiler")] == pytest.approx(2 * 2.2 / (2 + norm))
    assert weights[term_id("pump")] == pytest.approx(1 * 2.2 / (1 + norm))
    (qids, qvals), = enc.encode_queries(["pump pump boiler"])
    assert sorted(qids) == sorted({term_id("pump"), term_id("boiler")}) and set(qvals) == {1.0}


def test_idf_modifier_ranks_the_rare_term_higher(tmp_path):
    """Qdrant's IDF: a match on a rare term outscores a match on a common one, and the score
    equals BM25 with idf = ln(1 + (N - n + 0.5) / (n + 0.5))."""
    enc = BM25Encoder(EnglishTokenizer(stem=False), avg_len=3)
    docs = ["common rare x"] + ["common filler y"] * 9 + ["only filler z"]
    store = EdgeStore(str(tmp_path))
    store.open(IndexSpec("bm25", 2, None, sparse_idf=True, fingerprint={"embedder": "none"}))
    store.upsert([Point(f"00000000-0000-0000-0000-{i:012d}", np.array([1.0, 0.0]), s, {"i": i})
                  for i, s in enumerate(enc.encode_documents(docs))])
    from rag.retriever import configured

    def search(q):
        return store.search(configured(mode="sparse").plan(None, enc.encode_queries([q])[0], 11))

    rare, common = search("rare"), search("common")
    assert [h.payload["i"] for h in rare] == [0]
    assert len(common) == 10
    doc_weight = enc.encode_documents([docs[0]])[0][1][0]  # every term has tf 1, same length
    idf = lambda n: math.log(1 + (11 - n + 0.5) / (n + 0.5))  # noqa: E731
    assert rare[0].score == pytest.approx(doc_weight * idf(1), rel=1e-5)
    assert common[0].score == pytest.approx(doc_weight * idf(10), rel=1e-5)
    assert rare[0].score > 5 * common[0].score
    # "common rare": document 0 has both terms and must come first
    assert search("common rare")[0].payload["i"] == 0
    store.close()


def test_fingerprint_follows_tokenizer_settings():
    a = BM25Encoder(MixedTokenizer(zh=JiebaTokenizer("rjieba", "search")))
    b = BM25Encoder(MixedTokenizer(zh=JiebaTokenizer("rjieba", "default")))
    c = BM25Encoder(MixedTokenizer(zh=JiebaTokenizer("rjieba", "search")))
    assert a.fingerprint != b.fingerprint and a.fingerprint == c.fingerprint
