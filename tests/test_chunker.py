"""Chunks measured with the embedder's real tokenizer (the packaged MiniLM's tokenizer.json)."""

from __future__ import annotations

import pytest

from rag.chunker import MarkdownHeaderChunker, RecursiveTokenChunker
from rag.corpus.folder import FolderReader
from rag.documents import Document
from rag.models import load_tokenizer
from tests.conftest import MINILM, SAMPLE

ENGLISH = " ".join(
    f"Sentence {i} explains how the pump primes the boiler before brewing espresso."
    for i in range(80)
)
CHINESE = "".join(f"第{i}条：出差住宿费用按照城市等级报销，超出部分需要审批。" for i in range(80))
UNBROKEN = "x" * 3000 + "长" * 1500  # no separator at all: must still be cut to budget


def real_tokens(text: str) -> int:
    return len(load_tokenizer(MINILM).encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize("size,overlap", [(200, 32), (64, 8), (16, 0)])
def test_no_chunk_exceeds_its_token_budget(size, overlap):
    chunker = RecursiveTokenChunker(MINILM, chunk_size=size, chunk_overlap=overlap)
    docs = FolderReader(str(SAMPLE)).read()[0] + [
        Document(ENGLISH, "en.txt"), Document(CHINESE, "zh.txt"), Document(UNBROKEN, "u.txt"),
        Document(ENGLISH + "\n\n" + CHINESE, "mixed.txt"),
    ]
    chunks = chunker.split(docs)
    assert len(chunks) > len(docs)
    worst = max(real_tokens(c.text) for c in chunks)
    assert worst <= size
    assert worst >= size * 0.6  # and the budget is used, not wasted on tiny chunks


def test_chunks_cover_the_document_text():
    chunker = RecursiveTokenChunker(MINILM, chunk_size=48, chunk_overlap=0)
    pieces = chunker.split_text(CHINESE)
    assert "".join(pieces) == CHINESE  # Chinese: nothing lost, nothing added


def test_chinese_splits_at_sentence_punctuation():
    chunker = RecursiveTokenChunker(MINILM, chunk_size=60, chunk_overlap=0)
    pieces = chunker.split_text(CHINESE)
    assert all(p.endswith(("。", "；", "！", "？")) for p in pieces[:-1]), pieces[:3]


def test_overlap_repeats_text_between_neighbours():
    chunker = RecursiveTokenChunker(MINILM, chunk_size=50, chunk_overlap=20)
    a, b = chunker.split_text(ENGLISH)[:2]
    assert b.startswith(a.split(".")[-2].strip())  # the last full sentence of a starts b


def test_markdown_chunker_keeps_sections_apart_and_records_them():
    docs = [d for d in FolderReader(str(SAMPLE)).read()[0] if d.source.endswith(".md")]
    chunks = MarkdownHeaderChunker(MINILM, chunk_size=200, chunk_overlap=0).split(docs)
    warranty = [c for c in chunks if "two-year limited warranty" in c.text]
    assert len(warranty) == 1
    assert warranty[0].metadata["section"].endswith("> Warranty")
    assert "descale" not in warranty[0].text.lower().split("warranty", 1)[0]
    assert all(real_tokens(c.text) <= 200 for c in chunks)


def test_invalid_overlap_is_refused():
    with pytest.raises(ValueError, match="chunk_overlap"):
        RecursiveTokenChunker(MINILM, chunk_size=10, chunk_overlap=10)


def test_markdown_sections_are_exact_slices_with_header_paths():
    from rag.chunker import markdown_sections

    text = ("intro\n# A\nalpha\n```\n# not a header\n```\n## B ##\nbeta\n"
            "#### deep\nstill B\n# C\ngamma")
    sections = markdown_sections(text, levels=3)
    assert "".join(t for t, _ in sections) == text
    assert [p for _, p in sections] == [[], ["A"], ["A", "B"], ["C"]]
    assert "# not a header" in sections[1][0] and "#### deep" in sections[2][0]


def test_context_headers_name_the_section_a_chunk_starts_in_and_are_indexed_not_quoted():
    text = ("# Espresso\n\nIntro.\n\n## Cleaning\n\n" + ENGLISH + "\n\n## Warranty\n\n"
            "Two years, parts and labour.\n\n```\n# not a heading\n```\nMore warranty text.")
    doc = Document(text=text, source="manuals/aurora-x2.md")
    chunks = RecursiveTokenChunker(MINILM, chunk_size=64, chunk_overlap=0,
                                   context=True).split([doc])
    by_text = {c.text: c for c in chunks}
    assert chunks[0].context == "aurora-x2 > Espresso"  # the file name, not its folder
    cleaning = [c for c in chunks if "pump primes" in c.text]
    assert len(cleaning) > 2 and {c.context for c in cleaning} == {
        "aurora-x2 > Espresso > Cleaning"}
    warranty = next(c for t, c in by_text.items() if "parts and labour" in t)
    assert warranty.context == "aurora-x2 > Espresso > Warranty"  # not the fenced '# not a'
    assert warranty.indexed_text == f"{warranty.context}\n\n{warranty.text}"
    assert warranty.payload()["text"] == warranty.text  # what answers quote: no header
    assert warranty.payload()["context"] == warranty.context
    plain = RecursiveTokenChunker(MINILM, chunk_size=64, chunk_overlap=0).split([doc])
    assert [c.text for c in plain] == [c.text for c in chunks]  # same cuts, only the header
    assert all(c.indexed_text == c.text and "context" not in c.payload() for c in plain)
    # a renamed section makes new points (its vectors were encoded under the old name)
    assert {c.point_id for c in plain}.isdisjoint(c.point_id for c in chunks)


def test_a_pdf_page_continues_the_section_of_the_page_before():
    pages = [Document("## 1.4 Where to ask\n\nAsk on the list.", "guide.pdf", page=11,
                      headings=("Getting started",)),
             Document("More places to ask.\n\n# First steps\n\nStart here.", "guide.pdf",
                      page=12, headings=("Getting started", "1.4 Where to ask"))]
    chunks = RecursiveTokenChunker(MINILM, chunk_size=8, chunk_overlap=0,
                                   context=True).split(pages)
    context = {c.text.split("\n")[0]: c.context for c in chunks}
    assert context["More places to ask."] == "guide > Getting started > 1.4 Where to ask"
    assert context["Start here."] == "guide > First steps"  # a new chapter drops the old path


def test_the_pdf_reader_carries_headings_across_pages(tmp_path):
    from rag.corpus.pdf import read_pdf
    from tests.conftest import SAMPLE

    pages = read_pdf(SAMPLE / "company-handbook.pdf", "company-handbook.pdf", [])
    assert pages[0].headings == ()  # nothing before the first page
    assert pages[1].headings == ("Employee Handbook",)  # page 1's heading, still in force
    assert pages[2].headings == ("Annual Leave",)
