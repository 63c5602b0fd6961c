"""Shared text rules: sentence boundaries that keep numbers, versions and abbreviations whole."""

from __future__ import annotations

import pytest

from rag.text import latin_share, sentence_spans, sentences


@pytest.mark.parametrize(("text", "expected"), [
    ("价格是 2.5 元。版本 3.11.4 发布了，e.g. this works.",
     ["价格是 2.5 元。", "版本 3.11.4 发布了，e.g. this works."]),
    ("Dr. Smith paid 2.5 euros. Then he left! See Fig. 3, i.e. the plot.",
     ["Dr. Smith paid 2.5 euros.", "Then he left!", "See Fig. 3, i.e. the plot."]),
    ("他说：“好的。”然后走了！真的吗？是的；好。",
     ["他说：“好的。”", "然后走了！", "真的吗？", "是的；", "好。"]),
    ("## Warranty\nTwo years. Three if registered.\n\nNext paragraph without a stop\nMore",
     ["## Warranty", "Two years.", "Three if registered.", "Next paragraph without a stop\nMore"]),
    ("Python 3.11 came out in Oct. 2022. The next one (3.12) followed.",
     ["Python 3.11 came out in Oct. 2022.", "The next one (3.12) followed."]),
])
def test_sentences(text, expected):
    assert sentences(text) == expected


def test_spans_are_slices_of_the_text():
    text = "  A first one.   A second one?\n\n 第三句。  "
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["A first one.", "A second one?", "第三句。"]
    assert all(text[a:b] == text[a:b].strip() for a, b in spans)


@pytest.mark.parametrize(("text", "share"), [
    ("How do I renew my policy?", 1.0),
    ("如何续保我的保单", 0.0),
    ("使用 dh_make 命令", 1 / 5),           # one Latin word, four ideographs
    ("2024 年 401k", 1 / 2),               # digits are no word; 401k counts by its "k"
    ("12345 ...", 0.5),                    # neither script: no evidence either way
])
def test_latin_share_counts_words_against_ideographs(text, share):
    assert latin_share(text) == pytest.approx(share)
