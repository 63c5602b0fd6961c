"""The answer stage: prompt, citations, extractive answers, and a real OpenAI-protocol
endpoint on 127.0.0.1 driven through llama-index by the query command."""

from __future__ import annotations

import json

import pytest

from rag.answerer import DECLINE
from rag.answerer.citations import attribute_citation, cite, parse_citations
from rag.answerer.extractive import ExtractiveAnswerer
from rag.answerer.prompt import approx_tokens, build_messages, select_passages
from rag.store import Hit
from tests.conftest import SAMPLE
from tests.openai_server import ChatServer
from tests.test_cli import run

QUESTION = "How long is the warranty on the espresso machine?"


def hit(text, source="a.md", page=None, score=1.0, i=0):
    return Hit(f"id-{i}", score, {"text": text, "source": source, "page": page})


def test_parse_citations():
    text = "Two years [1], three if registered [1][3]; see also [2, 4] and [9] and [0]."
    assert parse_citations(text, 4) == [1, 3, 2, 4]
    assert parse_citations("两年【1】不算，[2]算", 3) == [2]
    assert parse_citations("no citations", 3) == []


def test_prompt_numbers_passages_with_source_and_page():
    passages = [hit("Warranty is two years.", "manual.md"), hit("28 days.", "hb.pdf", page=2)]
    system, user = build_messages(QUESTION, passages, 1000)
    assert system["role"] == "system" and "[1]" in system["content"]
    assert "do not answer" in system["content"]
    assert "[1] (manual.md)\nWarranty is two years." in user["content"]
    assert "[2] (hb.pdf, page 2)\n28 days." in user["content"]
    assert user["content"].endswith(f"Question: {QUESTION}")
    assert "Quote [n]:" in system["content"]  # quote first: the quote is checked (support.py)


def test_context_is_cut_to_the_token_budget():
    long = [hit("word " * 400, i=i) for i in range(6)]
    chosen = select_passages(long, context_tokens=1200, max_passages=8)
    assert len(chosen) == 2  # ~512 tokens each
    _, user = build_messages(QUESTION, [hit("长" * 5000)], context_tokens=300)
    assert approx_tokens(user["content"]) < 400
    assert approx_tokens("长" * 10) == 10 and approx_tokens("abcd" * 10) == 10


def test_extractive_answer_quotes_the_answering_sentence_and_cites_only_its_passage():
    passages = [hit("## Cleaning\n\nDescale every three months. The warranty on the espresso "
                    "machine lasts two years. Use citric acid.", i=0),
                hit("住宿费用按照城市等级报销。一线城市每晚不超过六百元。", i=1)]
    text = ExtractiveAnswerer(max_passages=2, max_chars=60).complete(QUESTION, passages)
    assert text == "The warranty on the espresso machine lasts two years. [1]"
    assert cite(text, passages) == ([1], False)  # the passage that does not answer is not cited


def test_extractive_answer_quotes_numbers_and_versions_as_written():
    passages = [hit("价格是 2.5 元。版本 3.11.4 发布了，e.g. this works.", i=0)]
    text = ExtractiveAnswerer().complete("版本 3.11.4 发布了吗？", passages)
    assert text == "版本 3.11.4 发布了，e.g. this works. [1]"


def test_extractive_answer_declines_when_the_passages_do_not_answer():
    passages = [hit("The warranty lasts two years from purchase.", i=0)]
    answerer = ExtractiveAnswerer()
    assert answerer.complete("What is the CEO's salary?", passages) == DECLINE["en"]
    assert answerer.complete("公司的年度营收是多少？", passages) == DECLINE["zh"]
    assert cite(DECLINE["en"], passages) == ([], False)  # a decline is never attributed


@pytest.fixture(scope="module")
def sample_pipeline(tmp_path_factory):
    """The quick start's pipeline (default config) over the sample, indexed once."""
    from rag.pipeline import Pipeline
    from tests.conftest import make_cfg

    data = tmp_path_factory.mktemp("data")
    pipeline = Pipeline.from_config(make_cfg(f"paths.data={data}", f"corpus.path={SAMPLE}",
                                             "progress=false"))
    pipeline.index()
    yield pipeline
    pipeline.close()


def test_streaming_and_blocking_answers_are_the_same(sample_pipeline):
    streamed: list[str] = []
    shown: list = []
    a = sample_pipeline.ask(QUESTION, 5, stream=streamed.append, on_passages=shown.append)
    b = sample_pipeline.ask(QUESTION, 5)
    assert a.answer.text == b.answer.text == "".join(streamed).strip()
    assert [h.id for h in shown[0]] == [h.id for h in a.passages] == [h.id for h in b.passages]
    assert a.answer.citations and a.answer.cited()[0][1].payload["source"] == \
        "aurora-espresso-manual.md"
    assert set(a.timings_ms) >= {"embed_query_ms", "search_ms", "answer_ms", "total_ms"}


def test_ask_without_an_answer_stage_returns_passages_only(sample_pipeline):
    answerer, sample_pipeline.answerer = sample_pipeline.answerer, None
    try:
        response = sample_pipeline.ask(QUESTION, 3)
    finally:
        sample_pipeline.answerer = answerer
    assert response.answer is None and len(response.passages) == 3
    assert response.to_dict()["answer"] is None and "answer_ms" not in response.timings_ms


REPLY = ["The Aurora X2 ", "has a two-year ", "warranty [1]", ", three years if ",
         "registered [1][2]. ", "Unrelated [9]."]


@pytest.fixture
def chat_server():
    with ChatServer(REPLY) as server:
        yield server


def _query(server, tmp_path, *extra):
    return run("-m", "rag.query", QUESTION, "answerer=openai_like",
               f"answerer.llm.api_base={server.url}", "answerer.llm.model=test-model",
               "answerer.llm.api_key=sk-test", "progress=false",
               f"corpus.path={SAMPLE}", *extra, data_dir=tmp_path)


def test_streamed_answer_through_a_real_openai_endpoint(chat_server, tmp_path):
    proc = _query(chat_server, tmp_path)
    (request,) = chat_server.requests
    body = request["body"]
    assert body["model"] == "test-model" and body["stream"] is True
    assert request["auth"] == "Bearer sk-test"
    system, user = body["messages"]
    assert system["role"] == "system" and "Quote [n]:" in system["content"]
    assert f"Question: {QUESTION}" in user["content"]
    assert "[1] (aurora-espresso-manual.md)" in user["content"]
    assert "two-year limited warranty" in user["content"]
    answer_text = proc.stdout.split("Answer:\n", 1)[1]
    assert answer_text.startswith("".join(REPLY).strip())
    sources = answer_text.split("Sources:\n", 1)[1].splitlines()
    assert sources[0] == "  [1] aurora-espresso-manual.md"
    assert sources[1].startswith("  [2] ") and len(sources) == 2  # [9] is not a passage


def test_json_answer_uses_the_blocking_protocol(chat_server, tmp_path):
    proc = _query(chat_server, tmp_path, "--json")
    out = json.loads(proc.stdout)
    assert chat_server.requests[0]["body"].get("stream") in (None, False)
    assert out["answer"] == "".join(REPLY).strip()
    assert [c["n"] for c in out["citations"]] == [1, 2]
    assert out["citations"][0]["source"] == "aurora-espresso-manual.md"
    assert out["citations"][0]["id"] == out["passages"][0]["id"]
    assert set(out["timings_ms"]) >= {"embed_query_ms", "search_ms", "answer_ms", "total_ms"}


def test_uncited_answer_gets_an_attributed_citation():
    passages = [hit("Grind 18 grams of coffee.", i=0),
                hit("The Aurora X2 comes with a two-year limited warranty.", i=1)]

    uncited = "The warranty of the Aurora lasts two years."
    assert cite(uncited, passages) == ([2], True)
    assert cite(uncited, passages, attribute=False) == ([], False)
    assert attribute_citation("Nothing in common here.", passages) == []
    text = ExtractiveAnswerer().complete("How long is the Aurora X2 warranty?", passages)
    citations, attributed = cite(text, passages)
    assert citations and not attributed


@pytest.mark.slow
def test_local_smollm2_answers_from_the_sample_with_a_citation(tmp_path):
    proc = run("-m", "rag.query", QUESTION, "answerer=smollm2", "progress=false",
               f"corpus.path={SAMPLE}", "--json", data_dir=tmp_path)
    out = json.loads(proc.stdout)
    assert out["answer"].strip()
    assert out["citations"], out["answer"]
    cited = {c["source"] for c in out["citations"]}
    assert cited == {"aurora-espresso-manual.md"}, (out["answer"], cited)


# The README's quick-start questions and what each answer must lead with (and cite).
QUICK_START = [
    ("How long is the warranty on the espresso machine?",
     "The Aurora X2 comes with a two-year limited warranty",
     "aurora-espresso-manual.md"),
    ("一线城市出差住宿每晚可以报销多少钱？", "一线城市每晚不超过六百元",
     "travel-expense-policy-zh.md"),
    ("How many days of paid annual leave do employees get?",
     "28 days of paid annual leave", "company-handbook.pdf"),
    ("密码多久需要更换一次？", "每九十天更换一次", "company-handbook.pdf"),
]


@pytest.mark.parametrize(("question", "says", "source"), QUICK_START,
                         ids=[q for q, _, _ in QUICK_START])
def test_quick_start_questions_are_answered_from_the_right_passage(sample_pipeline, question,
                                                                   says, source):
    answer = sample_pipeline.ask(question, 5).answer
    first = answer.text.split("\n\n")[0]
    assert says in first, answer.text
    if question.startswith("How long"):  # the sentence that answers leads
        assert first.startswith(says)
    assert answer.citations and not answer.declined  # from whichever rank it was retrieved at
    assert {h.payload["source"] for _, h in answer.cited()} == {source}
    for part in answer.text.split("\n\n"):  # every quote is the passage's own words
        quote, n = part.rsplit(" [", 1)
        passage = answer.passages[int(n.rstrip("]")) - 1].payload["text"]
        assert quote in " ".join(passage.split()) or quote in passage, (quote, passage)


@pytest.mark.parametrize("question", ["What is the CEO's salary?",
                                      "Who is the president of France?", "公司的年度营收是多少？"])
def test_unanswerable_questions_over_the_sample_are_declined(sample_pipeline, question):
    answer = sample_pipeline.ask(question, 5).answer
    assert answer.declined and answer.citations == [], answer.text
    assert answer.text in DECLINE.values()


def test_a_quote_never_skips_a_sentence_of_its_passage():
    """Two sentences that answer, one between them that does not: quoting both as one quote
    puts words side by side that the passage never did (seen on the sample under e5 chunks)."""
    text = ("The warranty lasts two years from purchase. Descaling uses citric acid only. "
            "Registering extends the warranty to three years.")
    answer = ExtractiveAnswerer(semantic_weight=0.0, keep_ratio=0.1).complete(
        "How many years does the warranty last after purchase?", [hit(text)])
    quote = answer.rsplit(" [", 1)[0]
    assert quote in text
    assert quote.startswith("The warranty lasts two years")
    # the neighbour that answers is still quoted when it is adjacent
    both = ExtractiveAnswerer(semantic_weight=0.0, keep_ratio=0.1).complete(
        "How many years does the warranty last after purchase?",
        [hit("The warranty lasts two years from purchase. Registering extends the warranty "
             "to three years. Descaling uses citric acid only.")])
    assert "two years from purchase. Registering extends" in both


TABLE = ("# sheet Allowances\n\n| City tier | Hotel per night | Meals per day |\n"
         "| --- | --- | --- |\n| Tier 1 | 600 CNY | 100 CNY |\n| Tier 2 | 450 CNY | 80 CNY |\n"
         "| Other cities | 350 CNY | 60 CNY |")


@pytest.mark.parametrize(("question", "row"), [
    ("What is the hotel allowance per night in tier 2 cities?", "| Tier 2 | 450 CNY | 80 CNY |"),
    ("How much is the meal allowance in other cities?", "| Other cities | 350 CNY | 60 CNY |"),
])
def test_a_table_answer_quotes_the_header_and_the_row_that_answers(question, row):
    """A sheet's rows arrive as one Markdown table; the answer is the row the question asks
    for under its header, each part exactly as the passage has it, not the flattened table."""
    passages = [Hit("1", 1.0, {"text": TABLE, "source": "allowances.xlsx"}),
                Hit("2", 0.5, {"text": "Book trains when the trip is under four hours.",
                               "source": "policy.md"})]
    text = ExtractiveAnswerer().complete(question, passages)
    assert text == f"| City tier | Hotel per night | Meals per day | … {row} [1]"
    header, quoted = text.removesuffix(" [1]").split(" … ")
    assert header in TABLE and quoted in TABLE  # exact quotes, joined by an ellipsis


def test_table_rows_are_sentences_of_their_own():
    from rag.text import sentences

    got = sentences("Rates below.\n| a | b |\n| --- | --- |\n| x | 1 |\nMore text here.")
    assert got == ["Rates below.", "| a | b |", "| --- | --- |", "| x | 1 |", "More text here."]
