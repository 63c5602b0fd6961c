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


def _answer(text: str, cited: list[int], docs: list[str], attributed: bool = False,
            declined: bool = False):
    from rag.answerer import Answer
    from rag.store import Hit

    texts = {"warranty": "The Aurora X2 comes with a two-year limited warranty.",
             "descale": "Descale the machine every three months.",
             "leave": "Employees get 28 days of paid annual leave."}
    passages = [Hit(f"p{i}", 1.0, {"doc_id": d, "text": texts[d]}) for i, d in enumerate(docs)]
    return Answer(text, passages, cited, attributed, declined)


def test_support_is_the_share_of_answer_terms_in_the_cited_passages():
    from rag.answer_metrics import support

    quote = "The Aurora X2 comes with a two-year limited warranty."
    assert support(quote + " [1]", [quote]) == 1.0
    # invented: terms of the answer (aurora, x2, warranty, lasts, five, years) mostly absent
    invented = support("The Aurora X2 warranty lasts five years.",
                       ["The Aurora X2 comes with a two-year limited warranty."])
    assert 0 < invented < 0.7
    assert support("Anything at all.", []) == 0.0  # nothing cited supports nothing


def test_score_answer_on_a_quoted_cited_answer():
    from rag.answer_metrics import score_answer

    a = _answer("The Aurora X2 comes with a two-year limited warranty. [1]", [1],
                ["warranty", "descale"])
    s = score_answer(a, ["two-year"], {"warranty"})
    assert s["contains"] == 1 and s["em"] == 0 and 0 < s["f1"] < 0.3
    assert s["citation_precision"] == 1 and s["citation_recall"] == 1 and s["support"] == 1
    assert s["declined"] == 0 and s["wrongly_declined"] == 0 and s["abstained"] is None
    assert s["correct"] == 1  # the gold answer was given


def test_citation_precision_and_recall_count_documents_not_passages():
    from rag.answer_metrics import score_answer

    # cites [2] (irrelevant) and [1] (relevant): precision 1/2, recall 1
    a = _answer("x [2] y [1]", [2, 1], ["warranty", "descale"])
    s = score_answer(a, ["two-year"], {"warranty"})
    assert s["citation_precision"] == 0.5 and s["citation_recall"] == 1
    # the relevant document was never given: recall does not apply
    b = _answer("Descale every three months. [1]", [1], ["descale"])
    assert score_answer(b, ["two-year"], {"warranty"})["citation_recall"] is None


def test_attributed_citations_are_not_the_answers_own():
    from rag.answer_metrics import score_answer

    a = _answer("A two-year warranty.", [1], ["warranty"], attributed=True)
    s = score_answer(a, ["two-year"], {"warranty"})
    assert s["cites"] == 0 and s["citation_precision"] is None
    assert s["citation_recall"] == 0 and s["support"] == 0


def test_declines_score_abstention_and_wrong_declines():
    from rag.answer_metrics import score_answer, summarize

    declined = _answer("The documents do not answer this question.", [], ["leave"],
                       declined=True)
    answered = _answer("Employees get 28 days of paid annual leave. [1]", [1], ["leave"])
    un = score_answer(declined, [], set(), unanswerable=True)
    assert un["abstained"] == 1 and un["f1"] is None and un["citation_precision"] is None
    wrong = score_answer(declined, ["28 days"], {"leave"})
    assert wrong["wrongly_declined"] == 1 and wrong["f1"] == 0 and wrong["contains"] == 0
    answered_anyway = score_answer(answered, [], set(), unanswerable=True)
    assert answered_anyway["abstained"] == 0 and answered_anyway["correct"] == 0
    assert un["correct"] == 1 and wrong["correct"] == 0
    means = summarize({"u1": un, "u2": answered_anyway, "a1": wrong})
    assert means["abstained"] == 0.5 and means["n_abstained"] == 2
    assert means["wrongly_declined"] == 1.0 and means["n_wrongly_declined"] == 1
