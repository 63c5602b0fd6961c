"""Answer metrics on hand-worked cases, normalisation rules included."""

from __future__ import annotations

import pytest

from rag.answer_metrics import contains, exact_match, f1, normalize_en, tokens_zh


def test_squad_normalisation():
    assert normalize_en("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_en("An apple, a day.") == "apple day"
    assert normalize_en("theory") == "theory"  # "the" only as a word


def test_cmrc_segmentation_keeps_english_and_numbers_whole():
    assert tokens_zh("版本3.11发布，Python好！") == ["版", "本", "3.11", "发", "布", "python", "好"]


@pytest.mark.parametrize(("pred", "golds", "em", "f"), [
    ("the Eiffel Tower", ["Eiffel Tower"], 1.0, 1.0),
    # pred [in, paris, france] vs [paris]: P 1/3, R 1 -> F1 0.5
    ("in Paris France", ["Paris"], 0.0, 0.5),
    # best over golds: SQuAD deletes "-" (twoyear warranty: 0); [2, years]: P 1/2 R 1/2
    ("two years", ["two-year warranty", "2 years"], 0.0, 0.5),
    ("nothing", ["Paris"], 0.0, 0.0),
    # characters: LCS 六百元 = 3 of pred 5 and gold 3 -> P 0.6, R 1 -> 0.75
    ("每晚六百元", ["六百元"], 0.0, 0.75),
    ("六百元。", ["六百元"], 1.0, 1.0),
    # longest common *substring*: 九十 (2) of pred 4 (九十一天) and gold 3 (九十天) -> P .5 R 2/3
    ("九十一天", ["九十天"], 0.0, 2 * 0.5 * (2 / 3) / (0.5 + 2 / 3)),
])
def test_exact_match_and_f1(pred, golds, em, f):
    assert exact_match(pred, golds) == em
    assert f1(pred, golds) == pytest.approx(f)


def test_contains_gold():
    assert contains("The Aurora X2 comes with a two-year limited warranty.", ["two-year"]) == 1
    assert contains("一线城市每晚不超过六百元；", ["六百元"]) == 1
    assert contains("Three years.", ["two years"]) == 0
    assert contains("anything", [""]) == 0
