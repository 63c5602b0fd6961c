"""The command-line jobs as a user runs them, in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.query import split_argv
from tests.conftest import ROOT, SAMPLE

HEAVY = ("torch", "transformers", "sentence_transformers", "FlagEmbedding", "qdrant_client")


def run(*args, data_dir, check=True, env=None):
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), **(env or {})}
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize("flag", [["--help"], ["--cfg", "job"]])
def test_help_and_cfg_import_no_heavy_library(flag, tmp_path):
    proc = run("-X", "importtime", "-m", "rag.query", *flag, data_dir=tmp_path)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert not {m for m in HEAVY if m in imported}
    assert "embedder" in proc.stdout


def test_split_argv_separates_question_from_hydra_arguments():
    argv = ["What is x=1?", "retriever=dense", "--json", "+foo.bar=2", "-cn", "config", "again"]
    rest, question, as_json = split_argv(argv)
    assert question == "What is x=1? again"
    assert rest == ["retriever=dense", "+foo.bar=2", "-cn", "config"]
    assert as_json


def test_query_with_overrides_on_memory_store(tmp_path):
    proc = run("-m", "rag.query", "How long is the warranty on the espresso machine?",
               "retriever=dense", "retriever.mrl_dim=128", "store=memory", "progress=false",
               f"corpus.path={SAMPLE}", "--json", data_dir=tmp_path)
    out = json.loads(proc.stdout)
    assert out["question"].startswith("How long is the warranty")
    assert [p["source"] for p in out["passages"]][:3] == ["aurora-espresso-manual.md"] * 3
    assert any("two-year limited warranty" in p["text"] for p in out["passages"][:3])
    assert out["timings_ms"]["search_ms"] > 0


def test_index_then_query_chinese_prints_source_page_and_score(tmp_path):
    index = run("-m", "rag.index", "progress=false", f"corpus.path={SAMPLE}", data_dir=tmp_path)
    assert "indexed 7 documents" in index.stderr
    proc = run("-m", "rag.query", "密码多久需要更换一次？", "index_if_missing=false",
               f"corpus.path={SAMPLE}", data_dir=tmp_path)
    first = proc.stdout.split("\n[2]")[0]
    assert "[1] company-handbook.pdf, page 3  score=" in first
    assert "每九十天更换一次" in first


def test_config_mistakes_get_one_clear_line(tmp_path):
    proc = run("-m", "rag.index", "embedder.model=/no/such/model", f"corpus.path={SAMPLE}",
               data_dir=tmp_path, check=False)
    assert proc.returncode == 2
    assert "model '/no/such/model' is neither an existing directory nor a hub id" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run("-m", "rag.query", "anything", "corpus.path=/no/such/folder",
               data_dir=tmp_path, check=False)
    assert proc.returncode == 2 and "corpus.path=" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_old_names_still_work_on_the_command_line(tmp_path):
    from rag.cli import renamed_overrides

    assert renamed_overrides(["llm=local", "llm.llm.model=/m.gguf", "data_dir=/d",
                              "store_dir=/i", "+cache_dir=/c", "llm_x=1", "top_k=3"]) == [
        "answerer=local", "answerer.llm.model=/m.gguf", "paths.data=/d", "paths.index=/i",
        "+paths.cache=/c", "llm_x=1", "top_k=3"]
    proc = run("-m", "rag.query", "--cfg", "job", "llm=none", f"data_dir={tmp_path}/old",
               data_dir=tmp_path)
    assert "answerer: null" in proc.stdout
    assert f"data: {tmp_path}/old" in proc.stdout
    assert "note: llm is now answerer" in proc.stderr


def test_only_rag_errors_become_one_line(caplog):
    """#33: a bug's ValueError (mid-write, say) keeps its traceback; before, every ValueError
    and FileNotFoundError was reported as a fixable mistake with exit status 2."""
    from hydra.errors import InstantiationException

    from rag.cli import take_verbose, user_errors
    from rag.errors import ConfigError

    def failing(exc):
        return user_errors(lambda: (_ for _ in ()).throw(exc))

    take_verbose([])
    with pytest.raises(SystemExit) as exit_:
        failing(ConfigError("retriever.alpha must be between 0 and 1"))()
    assert exit_.value.code == 2
    assert caplog.records[-1].getMessage().startswith("error: retriever.alpha must be")
    assert caplog.records[-1].exc_info is None
    for bug in (ValueError("could not broadcast"), FileNotFoundError("/tmp/x.tmp"),
                _instantiation_failure(ValueError("bad shape"))):
        with pytest.raises(type(bug)):
            failing(bug)()
    wrapped = _instantiation_failure(ConfigError("chunker.chunk_overlap must be >= 0"))
    with pytest.raises(SystemExit):
        failing(wrapped)()
    assert "chunk_overlap" in caplog.records[-1].getMessage()
    assert take_verbose(["-v", "retriever=dense"]) == ["retriever=dense"]
    with pytest.raises(SystemExit):
        failing(ConfigError("x"))()
    assert caplog.records[-1].exc_info is not None  # -v: the traceback is logged
    take_verbose([])
    assert isinstance(wrapped, InstantiationException)


def _instantiation_failure(cause: Exception):
    from hydra.errors import InstantiationException

    exc = InstantiationException("Error in call to target")
    exc.__cause__ = cause
    return exc
