"""Crash safety and concurrency: an index run killed (SIGKILL) at any point is completed by the
next run with no duplicate and no missing chunk; a second writer or a reader is told the index
is busy, never shown a stack trace."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from rag.pipeline import Pipeline
from tests.conftest import ROOT, make_cfg
from tests.test_cli import run

TOPICS = ["espresso", "travel", "security", "leave", "training", "payroll", "laptops", "office"]

# Small blocks and batches so that one run makes several embed blocks and upsert batches.
SETTINGS = ["progress=false", "embedder.batch_size=8", "index_batch_size=16",
            "store.exact_below=10"]


def make_corpus(folder, files: int = 24, version: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        topic = TOPICS[i % len(TOPICS)]
        paragraphs = [
            f"Policy {i}.{p} (revision {version}) on {topic}: employees in team {i} follow rule "
            f"{p} for {topic}, which was agreed on day {i * 7 + p} and applies to {p + 2} sites."
            for p in range(6)
        ]
        (folder / f"{topic}-{i:02d}.md").write_text("\n\n".join(paragraphs) + "\n")


def config(tmp_path, *extra):
    return make_cfg(f"paths.data={tmp_path}", f"corpus.path={tmp_path / 'docs'}",
                    "chunker.chunk_size=48", "chunker.chunk_overlap=0", *SETTINGS, *extra)


def expected_ids(cfg) -> set[str]:
    """The point ids the corpus should have, from the reader and chunker alone."""
    pipeline = Pipeline.from_config(cfg)
    documents, _ = pipeline.corpus.read()
    return {c.point_id for c in pipeline.chunker.split(documents)}


def stored_ids(cfg) -> tuple[set[str], int]:
    pipeline = Pipeline.from_config(cfg)
    pipeline.open_index()
    ids, count = set(pipeline.store.ids()), pipeline.store.count()
    pipeline.close()
    return ids, count


def kill_at(tmp_path, point: str, n: int, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path)}
    args = [f"corpus.path={tmp_path / 'docs'}", "chunker.chunk_size=48", "chunker.chunk_overlap=0",
            *SETTINGS, *extra]
    return subprocess.run([sys.executable, "-m", "tests.kill_driver", point, str(n), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def resume_and_check(tmp_path, *extra) -> dict:
    cfg = config(tmp_path, *extra)
    pipeline = Pipeline.from_config(cfg)
    report = pipeline.index()
    pipeline.close()
    ids, count = stored_ids(cfg)
    want = expected_ids(cfg)
    assert ids == want  # nothing missing, nothing stale
    assert count == len(want)  # and no point twice
    assert report.chunks == len(want)
    return {"embedded": report.embedded, "encoded": report.encoded, "total": len(want)}


@pytest.mark.parametrize("point,n", [
    ("create", 1),
    ("embed", 2),
    ("upsert-before", 5),
    ("upsert-during", 3),
    ("upsert-after", 6),
    ("optimize", 1),
])
def test_first_index_killed_then_resumed_is_complete(tmp_path, point, n):
    make_corpus(tmp_path / "docs")
    killed = kill_at(tmp_path, point, n)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    after = resume_and_check(tmp_path)
    assert after["encoded"] < after["total"] or point == "create"  # the cache kept its work


def test_update_killed_while_pruning_then_resumed_is_complete(tmp_path):
    make_corpus(tmp_path / "docs")
    resume_and_check(tmp_path)
    make_corpus(tmp_path / "docs", files=16, version=1)  # 16 files changed, 8 deleted
    killed = kill_at(tmp_path, "delete", 1)
    assert killed.returncode == -signal.SIGKILL
    resume_and_check(tmp_path)


def test_killed_run_resumed_by_the_index_command(tmp_path):
    make_corpus(tmp_path / "docs")
    assert kill_at(tmp_path, "upsert-after", 4).returncode == -signal.SIGKILL
    proc = run("-m", "rag.index", f"corpus.path={tmp_path / 'docs'}", "chunker.chunk_size=48",
               "chunker.chunk_overlap=0", *SETTINGS, data_dir=tmp_path)
    assert "0 removed" in proc.stderr
    ids, count = stored_ids(config(tmp_path))
    assert ids == expected_ids(config(tmp_path)) and count == len(ids)


@pytest.mark.slow
def test_killed_at_random_moments_then_resumed_is_complete(tmp_path):
    rng = random.Random(5)
    for attempt in range(8):
        data = tmp_path / f"run{attempt}"
        make_corpus(data / "docs", files=40)
        env = {**os.environ, "RAG_DATA_DIR": str(data)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.index", f"corpus.path={data / 'docs'}",
             "chunker.chunk_size=48", "chunker.chunk_overlap=0", *SETTINGS],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(3, 12))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resume_and_check(data)


def hold_index(tmp_path) -> subprocess.Popen:
    """An index run that has the index open and keeps it (until killed)."""
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kill_driver", "hold", "1",
         f"corpus.path={tmp_path / 'docs'}", *SETTINGS],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().strip() == "OPEN"
    return proc


def test_second_writer_and_reader_are_told_the_index_is_busy(tmp_path):
    make_corpus(tmp_path / "docs", files=4)
    run("-m", "rag.index", f"corpus.path={tmp_path / 'docs'}", *SETTINGS, data_dir=tmp_path)
    holder = hold_index(tmp_path)
    try:
        for job in (["rag.index"], ["rag.query", "What is rule 3 for espresso?"]):
            proc = run("-m", *job, f"corpus.path={tmp_path / 'docs'}", *SETTINGS,
                       data_dir=tmp_path, check=False)
            assert proc.returncode == 3, proc.stderr[-2000:]
            assert "busy: index" in proc.stderr and "in use by another process" in proc.stderr
            assert "Traceback" not in proc.stderr

        # With lock_timeout the second run waits; killing the holder releases the index.
        env = {**os.environ, "RAG_DATA_DIR": str(tmp_path)}
        waiting = subprocess.Popen(
            [sys.executable, "-m", "rag.index", f"corpus.path={tmp_path / 'docs'}", *SETTINGS,
             "lock_timeout=120"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        time.sleep(8)
        assert waiting.poll() is None  # still waiting for the holder
    finally:
        holder.kill()
        holder.wait()
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err[-2000:]
    assert ": 0 new, 0 removed" in err
