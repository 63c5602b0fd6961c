"""Bad input: every file is indexed or skipped with its reason, nothing indexed earlier is lost,
and the exit status tells a script what happened."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from rag.corpus import UnreadableError
from rag.corpus.folder import BLOCK_CHARS, FolderReader
from rag.pipeline import Pipeline
from tests import bad_inputs
from tests.conftest import make_cfg
from tests.test_cli import run

PYPDF_SDIST = "pypdf==7.1.0"


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    return bad_inputs.build(tmp_path_factory.mktemp("bad") / "docs")


def reader(folder, **kwargs) -> FolderReader:
    return FolderReader(str(folder), max_file_mb=1, pdf_passwords=[bad_inputs.PASSWORD], **kwargs)


def test_each_bad_file_is_skipped_with_its_reason(bad_folder):
    docs, skipped = reader(bad_folder).read()
    reasons = {s.path: s.reason for s in skipped}
    indexed = {d.source for d in docs}
    for name, expected in bad_inputs.EXPECTED.items():
        if expected is None:
            assert name in indexed and name not in reasons
        else:
            assert expected in reasons.get(name, ""), (name, reasons.get(name))
    assert set(reasons) | indexed == set(bad_inputs.EXPECTED)  # loop and dot-file: silent
    assert any("每九十天更换一次" in d.text for d in docs
               if d.source == "encrypted-with-password.pdf")


def test_encrypted_pdf_without_a_configured_password_names_the_setting(bad_folder):
    with pytest.raises(UnreadableError, match=r"give its password in corpus.pdf_passwords"):
        list(FolderReader(str(bad_folder)).load("encrypted-with-password.pdf"))


def test_other_encodings_are_read_when_configured(bad_folder):
    docs = list(reader(bad_folder, encodings=["utf-8", "gb18030"]).load("gb18030.txt"))
    assert [d.text for d in docs] == [bad_inputs.CHINESE]


def test_exclude_leaves_files_out_silently(bad_folder):
    sources, skipped = reader(bad_folder, exclude=["*.pdf", "slides.*"]).sources()
    assert not [s for s in sources if s.endswith(".pdf")]
    assert "slides.pptx" not in {s.path for s in skipped}


def test_unknown_encoding_or_extension_is_a_config_error(tmp_path):
    with pytest.raises(ValueError, match="unknown encoding 'utf-9'"):
        FolderReader(str(tmp_path), encodings=["utf-9"])
    with pytest.raises(ValueError, match=r"corpus.extensions \['.doc'\] cannot be read"):
        FolderReader(str(tmp_path), extensions=[".md", ".doc"])


def test_huge_text_file_is_read_in_bounded_memory(tmp_path):
    line = "Line {:07d} of a log that nobody split into smaller files.\n"
    path = tmp_path / "big.txt"
    with path.open("w") as f:  # 31 MB, no paragraph breaks
        for i in range(500_000):
            f.write(line.format(i))
    tracemalloc.start()
    digest, longest = hashlib.sha256(), 0
    for doc in FolderReader(str(tmp_path)).load("big.txt"):
        digest.update(doc.text.encode())
        longest = max(longest, len(doc.text))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()  # all, in order
    assert longest <= BLOCK_CHARS
    assert peak < 12 * BLOCK_CHARS  # a few blocks, never the 31 MB file


def test_pipeline_indexes_the_good_files_and_keeps_what_a_now_broken_file_had(tmp_path):
    docs = tmp_path / "docs"
    bad_inputs.build(docs)
    (docs / "later-corrupted.pdf").write_bytes((bad_inputs.SAMPLE / "company-handbook.pdf")
                                               .read_bytes())
    cfg = make_cfg(f"paths.data={tmp_path}", f"corpus.path={docs}", "progress=false",
                   *bad_inputs.OVERRIDES)
    pipeline = Pipeline.from_config(cfg)
    first = pipeline.index()
    sources = {d for d in pipeline.store.ids().values()}
    pipeline.close()
    assert {s.split("#")[0] for s in sources} == {
        "good.txt", "encrypted-with-password.pdf", "later-corrupted.pdf", "sparse-rows.xlsx",
        "with-scripts.html", "scanned.pdf", "notice.png"}
    assert {s.path for s in first.skipped} == {
        n for n, e in bad_inputs.EXPECTED.items() if e is not None}

    data = (docs / "later-corrupted.pdf").read_bytes()
    (docs / "later-corrupted.pdf").write_bytes(data[:500])  # truncated by a failed copy
    pipeline = Pipeline.from_config(cfg)
    second = pipeline.index()
    pipeline.close()
    assert "later-corrupted.pdf" in {s.path for s in second.skipped}
    assert second.removed == 0 and second.kept > 0
    assert second.points == first.points  # its chunks from the first run are all still there


def test_index_command_prints_the_summary_and_exits_1_when_files_were_skipped(bad_folder,
                                                                               tmp_path):
    proc = run("-m", "rag.index", f"corpus.path={bad_folder}", "progress=false",
               *bad_inputs.OVERRIDES, data_dir=tmp_path, check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    # good.txt + 4 PDF pages + the sheet (its one block of rows) + the web page + the scanned
    # PDF's page + the picture of a notice (both by OCR)
    assert "indexed 9 documents from 6 files" in proc.stderr
    skipped = [n for n, e in bad_inputs.EXPECTED.items()
               if e is not None and not e.startswith("unsupported")]
    assert f"skipped {len(skipped)}:" in proc.stderr
    assert "not read (unsupported type; corpus.exclude silences them): 1 .svg" in proc.stderr
    for name in skipped:
        line = next(ln for ln in proc.stderr.splitlines() if f"  {name}: " in ln)
        assert bad_inputs.EXPECTED[name] in line

    ok = run("-m", "rag.index", f"corpus.path={bad_folder}", "progress=false",
             "corpus.exclude=[huge.txt,broken-link.md,binary.txt,gb18030.txt,"
             "zero-bytes.md,not-really.pdf,truncated.pdf,image-only.pdf,encrypted-other*,"
             "slides.pptx,archive-named.docx,password-protected.docx,photo.png,blank.png,"
             "zero-bytes.png]",
             *bad_inputs.OVERRIDES, data_dir=tmp_path, check=False)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert ok.returncode == 0  # an unsupported file type alone is not a failure
    assert "skipped" not in ok.stderr and ": 0 new, 0 removed" in ok.stderr
    assert "1 .svg" in ok.stderr


@pytest.fixture(scope="module")
def pypdf_resources(tmp_path_factory) -> Path:
    """pypdf's own test PDFs (encrypted, image-only, odd encodings), from its sdist on PyPI."""
    where = tmp_path_factory.mktemp("pypdf")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "-q", "-d", str(where), PYPDF_SDIST], check=True, capture_output=True)
    archive = next(where.glob("pypdf-*.tar.gz"))
    subprocess.run(["tar", "xzf", str(archive), "-C", str(where)], check=True)
    return next(where.glob("pypdf-*/resources"))


def test_pypdf_resources_are_each_indexed_or_skipped_with_a_reason(pypdf_resources):
    folder = FolderReader(str(pypdf_resources), extensions=[".pdf"],
                          pdf_passwords=["asdfzxcv", "openpassword"])
    sources, skipped = folder.sources()
    outcome = {s.path: s.reason for s in skipped}
    for source in sources:
        try:
            outcome[source] = f"{sum(1 for _ in folder.load(source))} documents"
        except UnreadableError as exc:
            outcome[source] = str(exc)
    print(json.dumps(outcome, indent=1))
    assert len(sources) >= 70
    known = ("encrypted PDF", "no text on any", "malformed or truncated PDF", "not a PDF",
             "unsupported file type")
    for path, result in outcome.items():  # no crash, and every reason is one rag explains
        assert re.fullmatch(r"[1-9]\d* documents", result) or result.startswith(known), path
    assert outcome["encryption/r4-aes-user-password.pdf"] == "1 documents"  # AES, password given
    assert "none of the 2 passwords" in outcome["crazyones-encrypted-256.pdf"]
    assert outcome["git.pdf"].startswith("no text on any")  # a logo: OCR finds no text
    assert outcome["crazyones.pdf"] == "1 documents"
    assert sum(v.endswith(" documents") for v in outcome.values()) >= 55


def one_clear_line(proc, status: int, *fragments: str) -> None:
    assert proc.returncode == status, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("[rag] error:")]
    assert len(errors) == 1, proc.stderr[-2000:]
    for fragment in fragments:
        assert fragment in errors[0]


def test_config_mistakes_get_one_clear_line_and_status_2(tmp_path):
    from tests.conftest import SAMPLE, tiny_sentence_model

    sample = f"corpus.path={SAMPLE}"
    hub = run("-m", "rag.index", sample, "embedder=bge_small_en", data_dir=tmp_path,
              check=False, env={"HF_HUB_OFFLINE": "1"})
    one_clear_line(hub, 2, "'BAAI/bge-small-en-v1.5' is not in the local Hugging Face cache",
                   "pass its directory")
    too_wide = run("-m", "rag.query", "anything", sample, "retriever.mrl_dim=512",
                   data_dir=tmp_path, check=False)
    one_clear_line(too_wide, 2, "retriever.mrl_dim=512 must be smaller than the embedder's "
                                "dimension 384")

    first = run("-m", "rag.index", sample, "progress=false", "store.collection=shared",
                data_dir=tmp_path)
    points = re.search(r"(\d+) points", first.stderr).group(1)
    tiny = tiny_sentence_model(tmp_path)
    other = run("-m", "rag.index", sample, f"embedder.model={tiny}", "retriever.mrl_dim=32",
                "store.collection=shared", data_dir=tmp_path, check=False)
    one_clear_line(other, 2, "was built with dim=384 but this configuration needs dim=64",
                   "Nothing was written")
    again = run("-m", "rag.index", sample, "progress=false", "store.collection=shared",
                data_dir=tmp_path)
    assert f": 0 new, 0 removed, {points} points" in again.stderr  # the index is as it was


def test_a_file_that_cannot_be_opened_is_reported(tmp_path):
    (tmp_path / "notes.txt").mkdir()  # what open() fails on even as root: a directory
    with pytest.raises(UnreadableError, match=r"cannot read the file \(Is a directory\)"):
        list(FolderReader(str(tmp_path)).load("notes.txt"))
