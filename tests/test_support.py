"""The quote-then-answer check, and the LLM answerer that acts on it (rag/answerer/support.py,
rag/answerer/llm.py). The LLM here is a scripted stand-in: what is tested is the code around
it (the real models answer in tests/test_local_llm.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag.answerer import DECLINE
from rag.answerer.extractive import ExtractiveAnswerer
from rag.answerer.llm import LLMAnswerer
from rag.answerer.support import check, quotes
from rag.errors import ConfigError
from rag.store import Hit

LEAVE = ("Annual Leave\nFull-time employees are entitled to 28 days of paid annual leave "
         "per calendar year.  Up to five unused\nleave days may be carried over.")
ZH = "住宿费用按照城市等级报销：一线城市每晚不超过六百\n元；其他城市每晚不超过三百五十元。"
PASSAGES = [Hit("a", 1.0, {"text": LEAVE, "source": "hb.pdf"}),
            Hit("b", 0.9, {"text": ZH, "source": "travel.md"})]


def test_quotes_are_read_with_their_passage_numbers():
    text = ('Quote [1]: "Up to five unused leave days may be carried over." [1]\n'
            "引用 [2]：一线城市每晚不超过六百元\nAnswer: five [1]")
    assert quotes(text) == [(1, "Up to five unused leave days may be carried over."),
                            (2, "一线城市每晚不超过六百元")]


@pytest.mark.parametrize("text", [
    "Quote [1]: up to five unused leave days may be carried over.\nAnswer: Five days [1].",
    "Quote [2]: 一线城市每晚不超过六百元\nAnswer: 六百元 [2]",  # the PDF's line break aside
    "Quote [1]: entitled to 28 days of paid annual leave\nQuote [2]: 其他城市每晚不超过三百五十元"
    "\nAnswer: 28 days [1]",
])
def test_a_copied_quote_is_supported(text):
    assert check(text, PASSAGES).supported, check(text, PASSAGES).reason


@pytest.mark.parametrize(("text", "reason"), [
    ("Answer: 28 days [1].", "no quote"),
    ("Quote [1]: Employees get 28 days of leave each year.\nAnswer: 28 [1]", "in no passage"),
    ("Quote [1]: entitled to 28 days of paid annual leave\nQuote [1]: 一线城市每晚不超过六百元"
     "\nAnswer: 28 [1]", "different passages"),
    ("The warranty on the espresso machine lasts five years.", "no quote"),
    ("Quote [1]: 28 days\nAnswer: 28 [1]", "too short"),
    ("Quote [1]: entitled to 28 days of paid annual leave\nAnswer: 28 days, 600 yuan [1][2]",
     "without quoting"),
])
def test_a_quote_that_is_not_in_its_passage_is_not_supported(text, reason):
    verdict = check(text, PASSAGES)
    assert not verdict.supported and reason in verdict.reason


def test_typographic_quotes_and_dashes_do_not_make_a_copy_a_paraphrase():
    passages = [Hit("a", 1.0, {"text": "Python’s bytes may hold “null” bytes – so C’s strlen() "
                                       "fails."})]
    assert check("Quote [1]: Python's bytes may hold \"null\" bytes - so C's strlen() fails.",
                 passages).supported


def test_a_quote_under_the_wrong_number_is_renumbered_to_the_passage_that_holds_it():
    a, _ = answerer("Quote [2]: entitled to 28 days of paid annual leave\n"
                    "Answer: 28 days [2].")
    text = a.complete("How many days of paid annual leave?", PASSAGES)
    expected = "Quote [1]: entitled to 28 days of paid annual leave\nAnswer: 28 days [1]."
    assert text.split() == expected.split() and a.last_check == ""


def test_an_answer_copied_from_a_passage_is_its_own_quote():
    a, _ = answerer("Up to five unused leave days may be carried over.")
    text = a.complete("How many leave days carry over?", PASSAGES)
    assert text == "Up to five unused leave days may be carried over. [1]"


class ScriptedLLM:
    """Streams a fixed reply token by token and records how far it was read."""

    def __init__(self, reply: str) -> None:
        self.tokens = [t for t in reply.replace("\n", " \n ").split(" ") if t]
        self.sent = 0
        self.closed = False

    def stream_chat(self, messages):
        try:
            for i, token in enumerate(self.tokens):
                self.sent = i + 1
                yield SimpleNamespace(delta=(" " if i else "") + token)
        finally:
            self.closed = True


def answerer(reply: str, **kwargs) -> tuple[LLMAnswerer, ScriptedLLM]:
    llm = ScriptedLLM(reply)
    return LLMAnswerer(llm, check_quotes=True, fallback=ExtractiveAnswerer(), **kwargs), llm


def test_a_supported_answer_streams_on_after_its_quote():
    reply = "Quote [1]: entitled to 28 days of paid annual leave\nAnswer: 28 days a year [1]."
    a, llm = answerer(reply)
    parts = list(a.stream("How many days of annual leave?", PASSAGES))
    assert "".join(parts).split() == reply.split()
    assert len(parts) > 3  # the quote held back as one part, then the answer token by token
    assert a.last_check == "" and llm.sent == len(llm.tokens)


def test_an_unsupported_answer_is_stopped_and_the_extractive_answer_given():
    reply = ("Quote [1]: Staff get four weeks off every year\nAnswer: four weeks [1] "
             + "and more words " * 20)
    a, llm = answerer(reply)
    text = "".join(a.stream("How many days of paid annual leave do employees get?", PASSAGES))
    assert "28 days of paid annual leave" in text and text.endswith("[1]")
    assert "four weeks" not in text and "in no passage" in a.last_check
    assert llm.closed and llm.sent < len(llm.tokens)  # generation stopped at "Answer:"


def test_a_wrong_decline_is_overruled_and_a_right_one_kept():
    a, _ = answerer(DECLINE["en"])
    text = a.complete("How many days of paid annual leave do employees get?", PASSAGES)
    assert "28 days" in text and a.last_check == "declined"
    a, _ = answerer(DECLINE["en"])
    assert a.complete("Who founded the company in 1887?", PASSAGES) == DECLINE["en"]
    assert a.last_check == ""


def test_the_gate_declines_without_asking_the_model():
    a, llm = answerer("Quote [1]: entitled to 28 days\nAnswer: 28", gate=True)
    assert a.complete("Who founded the company in 1887?", PASSAGES) == DECLINE["en"]
    assert llm.sent == 0 and a.last_check == "gate"
    with pytest.raises(ConfigError, match="fallback"):
        LLMAnswerer(ScriptedLLM(""), gate=True)
