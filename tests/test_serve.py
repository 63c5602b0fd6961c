"""rag.serve as a client meets it: a real uvicorn process on a free loopback port over the
sample corpus (a copy), asked through httpx (REST and SSE), the official openai client and the
official mcp client (HTTP and stdio)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from rag.serve import check_bind, is_loopback
from rag.server.process import ServerProcess
from tests.conftest import ROOT, SAMPLE

QUESTION = "How long is the warranty on the espresso machine?"
UNANSWERABLE = "What is the CEO's salary?"
KEY = "test-key-123"


class Server(ServerProcess):
    """rag.serve over a copy of the sample corpus, its data under tmp."""

    def __init__(self, tmp: Path, *overrides: str, env: dict | None = None) -> None:
        corpus = tmp / "docs"
        if not corpus.exists():
            shutil.copytree(SAMPLE, corpus)
        port_log = tmp / f"server-{len(list(tmp.glob('server-*.log')))}.log"
        super().__init__(corpus, tmp / "data", port_log, *overrides, env=env)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("serve"), "serve.max_upload_mb=0.05", "serve.max_files=3")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def points(client) -> int:
    return client.get("/healthz").json()["points"]


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# ---- REST ----------------------------------------------------------------------------------


def test_search_returns_passages_with_their_sources(client):
    body = client.post("/v1/search", json={"query": QUESTION, "top_k": 3}).json()
    assert len(body["passages"]) == 3
    first = body["passages"][0]
    assert first["source"] == "aurora-espresso-manual.md"
    assert any("two-year" in p["text"] for p in body["passages"][:2])
    assert {"id", "score", "page", "doc_id"} <= set(first)
    assert body["timings_ms"]["search_ms"] > 0


def test_answer_is_the_same_json_as_rag_query(client, server, tmp_path):
    body = client.post("/v1/answer", json={"question": QUESTION}).json()
    n = body["citations"][0]["n"]
    assert "two-year" in body["answer"] and f"[{n}]" in body["answer"]
    assert body["citations"][0]["source"] == "aurora-espresso-manual.md"
    assert not body["declined"]
    cli = subprocess.run([sys.executable, "-m", "rag.query", QUESTION, "--json",
                          f"corpus.path={server.corpus}", "progress=false"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "RAG_DATA_DIR": str(tmp_path)})
    assert cli.returncode == 0, cli.stderr[-2000:]
    expected = json.loads(cli.stdout)
    assert set(body) == set(expected)
    assert body["answer"] == expected["answer"] and body["citations"] == expected["citations"]


def test_streamed_answer_arrives_as_events_in_order(client):
    with client.stream("POST", "/v1/answer", json={"question": QUESTION, "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        r.read()
    events = sse_events(r)
    kinds = [k for k, _ in events]
    assert kinds[0] == "retrieval" and kinds[-2:] == ["citations", "done"]
    assert set(kinds[1:-2]) == {"delta"}
    streamed = "".join(d["text"] for k, d in events if k == "delta")
    citations = events[-2][1]
    assert streamed == citations["answer"] and "two-year" in streamed
    cited_ids = {c["id"] for c in citations["citations"]}
    assert cited_ids <= {p["id"] for p in events[0][1]["passages"]}
    assert events[-1][1]["timings_ms"]["first_token_ms"] > 0


def test_unanswerable_question_is_declined_without_citations(client):
    body = client.post("/v1/answer", json={"question": UNANSWERABLE}).json()
    assert body["declined"] and body["citations"] == []


# ---- OpenAI-compatible ---------------------------------------------------------------------


def test_openai_client_gets_the_cited_answer_streaming_and_not(server, client):
    from openai import NotFoundError, OpenAI

    ai = OpenAI(base_url=server.url + "/v1", api_key="unused")
    assert [m.id for m in ai.models.list()] == ["rag"]
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "Hi!"},
                {"role": "user", "content": QUESTION}]
    done = ai.chat.completions.create(model="rag", messages=messages)
    text = done.choices[0].message.content
    extra = done.model_extra["rag"]
    n = extra["citations"][0]["n"]
    assert "two-year" in text and f"[{n}]" in text
    assert f"Sources:\n[{n}] aurora-espresso-manual.md" in text
    assert extra["citations"][0]["source"] == "aurora-espresso-manual.md"
    rest = client.post("/v1/answer", json={"question": QUESTION}).json()
    assert text.startswith(rest["answer"])  # the same answer as the REST API

    chunks = list(ai.chat.completions.create(model="rag", messages=messages, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["rag"]["citations"] == extra["citations"]
    with pytest.raises(NotFoundError, match="GET /v1/models"):
        ai.chat.completions.create(model="gpt-4o", messages=messages)


def test_docs_page_loads_its_assets_from_the_server(client):
    """#33: /docs pulled Swagger UI from a CDN, so it was blank without internet."""
    import re

    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/") for a in assets), assets  # nothing off-host
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 1000, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "rag"


def test_openai_model_lookup_and_usage(server):
    """#33: GET /v1/models/rag was a 404, usage was all zeros and include_usage ignored."""
    from openai import OpenAI

    ai = OpenAI(base_url=server.url + "/v1", api_key="unused")
    assert ai.models.retrieve("rag").id == "rag"
    messages = [{"role": "user", "content": QUESTION}]
    done = ai.chat.completions.create(model="rag", messages=messages)
    u = done.usage
    assert u.prompt_tokens > len(QUESTION.split()) and u.completion_tokens > 0
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    chunks = list(ai.chat.completions.create(model="rag", messages=messages, stream=True,
                                             stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == u.total_tokens
    assert all(c.usage is None for c in chunks[:-1])
    plain = list(ai.chat.completions.create(model="rag", messages=messages, stream=True))
    assert plain[-1].choices and plain[-1].usage is None


def test_a_model_failing_mid_stream_ends_the_stream_with_an_error(tmp_path):
    """#33: the chat stream broke off with no word of why; now an error chunk, then [DONE]."""
    from tests.openai_server import ChatServer

    with ChatServer(["The Aurora X2 ", "has a two-year ", "warranty [1]."], fail_after=2) as llm:
        s = Server(tmp_path, "answerer=openai_like", f"answerer.llm.api_base={llm.url}",
                   "answerer.llm.model=m", "answerer.llm.api_key=sk-test",
                   "answerer.llm.max_retries=0")
        try:
            r = httpx.post(s.url + "/v1/chat/completions", timeout=120, json={
                "model": "rag", "stream": True,
                "messages": [{"role": "user", "content": QUESTION}]})
        finally:
            s.stop()
    events = [e.removeprefix("data: ") for e in r.text.strip().split("\n\n")]
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert "failed mid-stream" in error["message"] and error["code"] == 500
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or ""
                   for e in events[:-2])
    assert text == "The Aurora X2 "  # what the model sent before it failed


# ---- uploads -------------------------------------------------------------------------------


def test_upload_is_indexed_at_once_and_delete_removes_it(client, server):
    before = points(client)
    text = b"The cafeteria on floor 3 opens at 7:15 and closes at 19:30 on weekdays.\n"
    r = client.post("/v1/documents", files=[("files", ("cafeteria hours.md", text))])
    assert r.status_code == 200, r.text
    assert r.json()["indexed"] == ["uploads/cafeteria hours.md"] and r.json()["new_chunks"] == 1
    assert points(client) == before + 1
    hit = client.post("/v1/search", json={"query": "When does the cafeteria open?",
                                          "top_k": 1}).json()["passages"][0]
    assert hit["source"] == "uploads/cafeteria hours.md"
    answer = client.post("/v1/answer", json={"question": "When does the cafeteria open?"}).json()
    assert "7:15" in answer["answer"]
    # the same file again writes nothing twice
    assert client.post("/v1/documents", files=[("files", ("cafeteria hours.md", text))]
                       ).json()["new_chunks"] == 0
    r = client.delete("/v1/documents/uploads/cafeteria hours.md")
    assert r.json() == {"deleted": "uploads/cafeteria hours.md", "chunks": 1}
    assert points(client) == before
    assert not (server.corpus / "uploads" / "cafeteria hours.md").exists()


def test_a_changed_file_uploaded_again_replaces_its_chunks(client):
    """#32: the second upload of a changed file kept the first one's chunks beside the new."""
    before = points(client)
    old = b"# Gym\n\nThe gym door code is 4711.\n"
    new = b"# Gym\n\nThe gym door code is 9052 since the renovation.\n"
    for text in (old, new):
        r = client.post("/v1/documents", files=[("files", ("gym.md", text))])
        assert r.status_code == 200, r.text
    assert r.json()["points"] == points(client) == before + 1  # as a fresh index of the folder
    hits = client.post("/v1/search", json={"query": "gym door code", "top_k": 5}).json()
    texts = [h["text"] for h in hits["passages"] if h["source"] == "uploads/gym.md"]
    assert len(texts) == 1 and "9052" in texts[0] and "4711" not in texts[0]
    client.delete("/v1/documents/uploads/gym.md")


def test_a_broken_pdf_upload_is_reported_and_skipped(client):
    before = points(client)
    r = client.post("/v1/documents", files=[("files", ("broken.pdf", b"%PDF-1.7 not really"))])
    body = r.json()
    assert r.status_code == 200 and body["indexed"] == []
    assert body["skipped"][0]["file"] == "uploads/broken.pdf" and body["skipped"][0]["reason"]
    assert points(client) == before


@pytest.mark.parametrize(("request_kwargs", "status", "says"), [
    ({"method": "POST", "url": "/v1/search", "json": {"query": ""}}, 422, "query"),
    ({"method": "POST", "url": "/v1/search", "json": {"query": " \n\t"}}, 422, "only spaces"),
    ({"method": "POST", "url": "/v1/answer", "json": {"question": "   "}}, 422, "only spaces"),
    ({"method": "POST", "url": "/v1/chat/completions",
      "json": {"model": "rag", "messages": [{"role": "user", "content": "why? " * 40000}]}},
     422, "200,000 characters; the limit is 4,000"),
    ({"method": "POST", "url": "/v1/chat/completions",
      "json": {"model": "rag", "messages": [{"role": "user", "content": "  "}]}}, 422,
     "no user message"),
    ({"method": "GET", "url": "/v1/models/gpt-4o"}, 404, "does not exist here"),
    ({"method": "POST", "url": "/v1/search", "content": b"not json",
      "headers": {"content-type": "application/json"}}, 422, "body: not valid JSON"),
    ({"method": "POST", "url": "/v1/search", "json": {"query": "x", "top_k": 500}}, 422,
     "top_k=500"),
    ({"method": "POST", "url": "/v1/answer", "json": {}}, 422, "question"),
    ({"method": "POST", "url": "/v1/chat/completions",
      "json": {"model": "rag", "messages": [{"role": "system", "content": "x"}]}}, 422,
     "no user message"),
    ({"method": "GET", "url": "/v1/nothing"}, 404, "Not Found"),
    ({"method": "DELETE", "url": "/v1/documents/never-indexed.md"}, 404, "no document"),
    ({"method": "POST", "url": "/v1/documents",
      "files": [("files", ("tool.exe", b"MZ..."))]}, 415, ".exe is not accepted"),
    ({"method": "POST", "url": "/v1/documents",
      "files": [("files", ("big.md", b"word " * 20000))]}, 413,
     "0.10 MB is over the limit"),  # its real size, not the 0.05 MB read before refusing
    ({"method": "POST", "url": "/v1/documents",
      "files": [("files", (f"n{i}.md", b"x")) for i in range(4)]}, 413, "serve.max_files"),
    ({"method": "POST", "url": "/v1/documents",
      "files": [("files", ("...", b"x"))]}, 400, "nothing left"),
    ({"method": "POST", "url": "/v1/documents",
      "files": [("files", ("empty.md", b""))]}, 400, "empty"),
])
def test_bad_requests_get_json_errors_and_lose_nothing(client, server, request_kwargs, status,
                                                       says):
    before = points(client)
    r = client.request(**request_kwargs)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert says in err["message"] and err["code"] == status and err["type"]
    assert points(client) == before
    assert sorted(p.name for p in server.corpus.iterdir()) == sorted(
        [p.name for p in SAMPLE.iterdir()] + (["uploads"] if (server.corpus / "uploads").exists()
                                              else []))


def test_a_traversal_name_is_written_inside_the_upload_folder(client, server):
    r = client.post("/v1/documents",
                    files=[("files", ("../../outside.md", b"Parking is free after 18:00.\n"))])
    assert r.json()["indexed"] == ["uploads/outside.md"]
    assert (server.corpus / "uploads" / "outside.md").is_file()
    assert not (server.corpus.parent / "outside.md").exists()
    client.delete("/v1/documents/uploads/outside.md")


def simultaneously(url: str, bodies: dict[str, dict]) -> dict[str, dict]:
    """POST each body to /v1/search from its own thread, all released at once."""
    start = threading.Barrier(len(bodies))
    out: dict[str, dict] = {}

    def ask(key: str, body: dict) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            start.wait()
            out[key] = c.post("/v1/search", json=body).json()

    threads = [threading.Thread(target=ask, args=item) for item in bodies.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_concurrent_searches_are_batched_and_answered_as_alone(client):
    asked = [QUESTION, "How often should I descale?", "How many days of paid annual leave?",
             "一线城市出差住宿每晚可以报销多少钱？", "Who approves travel?", "grind size",
             "warranty registration", "password rotation"]
    bodies = {q: {"query": q, "top_k": 3 + i % 3} for i, q in enumerate(asked)}
    alone = {q: client.post("/v1/search", json=body).json() for q, body in bodies.items()}
    for _ in range(3):  # the batch a request lands in depends on timing
        together = simultaneously(str(client.base_url), bodies)
        for q in asked:  # each its own passages, its own top_k, as when asked alone
            assert [p["id"] for p in together[q]["passages"]] == \
                [p["id"] for p in alone[q]["passages"]]
            assert [p["score"] for p in together[q]["passages"]] == pytest.approx(
                [p["score"] for p in alone[q]["passages"]], abs=1e-4)
        if max(r["batch"] for r in together.values()) > 1:
            break
    else:
        pytest.fail("eight simultaneous searches never shared a batch")
    assert all(r["batch"] == 1 for r in alone.values())


def test_uploads_while_queries_run_lose_and_duplicate_nothing(client):
    before = points(client)
    failures: list[str] = []
    stop = threading.Event()

    def ask() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=60) as c:
            while not stop.is_set():
                r = c.post("/v1/search", json={"query": QUESTION, "top_k": 3})
                if r.status_code != 200 or not r.json()["passages"]:
                    failures.append(r.text)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    names = [f"note-{i}.md" for i in range(6)]
    try:
        for i, name in enumerate(names):
            text = f"Meeting room {i} seats {4 + i} people and has a screen.\n".encode()
            assert client.post("/v1/documents", files=[("files", (name, text))]).status_code == 200
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    assert points(client) == before + len(names)
    for name in names:
        assert client.delete(f"/v1/documents/uploads/{name}").json()["chunks"] == 1
    assert points(client) == before


# ---- MCP -----------------------------------------------------------------------------------


def _mcp_session(transport, calls: list[tuple[str, dict]]) -> tuple[list[str], list]:
    """The tools a server lists and the results of ``calls`` (name, arguments, or a callable
    that returns them at call time), in one session."""
    import anyio
    from mcp import ClientSession

    async def main():
        async with transport() as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            out = []
            for name, args in calls:
                out.append(await session.call_tool(name, args() if callable(args) else args))
            return tools, out

    return anyio.run(main)


def _mcp_answer(transport) -> tuple[list[str], dict]:
    tools, (result,) = _mcp_session(transport, [("answer", {"question": QUESTION})])
    return tools, result.structured_content


def test_mcp_over_http_and_stdio_give_the_rest_answer(client, server, tmp_path):
    from mcp import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    rest = client.post("/v1/answer", json={"question": QUESTION}).json()
    tools, answer = _mcp_answer(lambda: streamable_http_client(server.url + "/mcp"))
    assert tools == ["answer", "search"]
    assert answer["answer"] == rest["answer"] and answer["citations"] == rest["citations"]
    assert answer["sources"] == [f"[{c['n']}] aurora-espresso-manual.md"
                                 for c in rest["citations"]]

    params = StdioServerParameters(
        command=sys.executable, cwd=str(ROOT),
        args=["-m", "rag.mcp", f"corpus.path={server.corpus}", "progress=false"],
        env={**os.environ, "RAG_DATA_DIR": str(tmp_path)})
    tools, answer = _mcp_answer(lambda: stdio_client(params))
    assert tools == ["answer", "search"]
    assert answer["answer"] == rest["answer"]


def _text(result) -> str:
    return " ".join(c.text for c in result.content if hasattr(c, "text"))


def test_mcp_tools_check_their_arguments_as_rest_does(server):
    """#33: an empty query was searched and top_k=500 silently cut to 50; REST says 422."""
    from mcp.client.streamable_http import streamable_http_client

    _, results = _mcp_session(lambda: streamable_http_client(server.url + "/mcp"), [
        ("search", {"query": "  "}), ("answer", {"question": ""}),
        ("search", {"query": QUESTION, "top_k": 500}), ("search", {"query": QUESTION, "top_k": 0}),
        ("search", {"query": QUESTION, "top_k": 2})])
    assert all(r.is_error for r in results[:4])
    assert "give a question" in _text(results[0]) and "give a question" in _text(results[1])
    assert "top_k=500 is over the server's limit of 50" in _text(results[2])
    assert "top_k=0 must be at least 1" in _text(results[3])
    assert not results[4].is_error and len(results[4].structured_content["passages"]) == 2


def test_mcp_over_stdio_reports_a_busy_index_and_recovers(tmp_path):
    """#33: with the index held by another process, rag.mcp exited and the agent saw only
    'Connection closed'; now a tool call says busy, and works once the index is free."""
    from mcp import StdioServerParameters, stdio_client

    from rag.pipeline import Pipeline
    from tests.conftest import make_cfg

    holder = Pipeline.from_config(make_cfg(f"paths.data={tmp_path}", f"corpus.path={SAMPLE}",
                                           "progress=false"))
    holder.open_index(build_if_missing=True)  # built, and held by this process
    params = StdioServerParameters(
        command=sys.executable, cwd=str(ROOT),
        args=["-m", "rag.mcp", f"corpus.path={SAMPLE}", "progress=false"],
        env={**os.environ, "RAG_DATA_DIR": str(tmp_path)})

    def release() -> dict:
        holder.close()
        return {"query": QUESTION}

    try:
        _, (busy, ok) = _mcp_session(lambda: stdio_client(params),
                                     [("search", {"query": QUESTION}), ("search", release)])
    finally:
        holder.close()
    assert busy.is_error and "busy" in _text(busy) and "another process" in _text(busy)
    assert not ok.is_error
    assert ok.structured_content["passages"][0]["source"] == "aurora-espresso-manual.md"


# ---- safety --------------------------------------------------------------------------------


def test_binding_beyond_loopback_needs_a_key(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    check_bind("0.0.0.0", "a key")
    with pytest.raises(ValueError, match="RAG_API_KEY"):
        check_bind("0.0.0.0", None)
    proc = subprocess.run([sys.executable, "-m", "rag.serve", "serve.host=0.0.0.0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "RAG_API_KEY"}
                          | {"RAG_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2 and "RAG_API_KEY" in proc.stderr


def test_with_a_key_every_endpoint_needs_it(tmp_path):
    server = Server(tmp_path, env={"RAG_API_KEY": KEY})
    try:
        for method, url in [("GET", "/healthz"), ("POST", "/v1/search"), ("GET", "/v1/models"),
                            ("POST", "/v1/chat/completions"), ("POST", "/v1/documents"),
                            ("DELETE", "/v1/documents/x.md"), ("POST", "/mcp")]:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                r = httpx.request(method, server.url + url, headers=headers, json={})
                assert r.status_code == 401, (method, url, r.text)
                assert "RAG_API_KEY" in r.json()["error"]["message"]
        ok = httpx.post(server.url + "/v1/search", json={"query": QUESTION},
                        headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200 and ok.json()["passages"]
        assert httpx.get(server.url + "/").status_code == 200  # the page itself holds no data
    finally:
        server.stop()
