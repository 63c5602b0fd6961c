"""A real HTTP server on 127.0.0.1 speaking the OpenAI embeddings protocol (POST
/v1/embeddings) and Cohere's (POST /v2/embed), recording every request. Its vectors are hashed
bags of words, so texts that share words are near: enough for retrieval to be checked. Failures
can be queued (status codes answered before the next success). Used by tests only."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def bag_of_words(text: str, dim: int) -> list[float]:
    v = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        v[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    v[0] += 1e-3  # never the zero vector
    return (v / np.linalg.norm(v)).tolist()


class EmbeddingServer:
    def __init__(self, dim: int = 64, key: str | None = None) -> None:
        self.dim = dim
        self.key = key
        self.requests: list[dict] = []
        self.failures: list[int] = []  # statuses to answer, in order, before succeeding
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body,
                                        "auth": self.headers.get("Authorization")})
                if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
                    return self._send(401, {"error": {"message": "invalid api key"}})
                if server.failures:
                    status = server.failures.pop(0)
                    return self._send(status, {"error": "try later"}, {"Retry-After": "0"})
                if self.path == "/v1/embeddings":
                    return self._send(200, server.openai(body))
                if self.path == "/v2/embed":
                    return self._send(200, server.cohere(body))
                self._send(404, {"error": "no such path"})

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def openai(self, body: dict) -> dict:
        dim = body.get("dimensions") or self.dim
        # answered out of order on purpose: clients must sort by "index"
        data = [{"object": "embedding", "index": i, "embedding": bag_of_words(t, dim)}
                for i, t in enumerate(body["input"])][::-1]
        tokens = sum(len(t.split()) for t in body["input"])
        return {"object": "list", "data": data, "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def cohere(self, body: dict) -> dict:
        dim = body.get("output_dimension") or self.dim
        floats = np.array([bag_of_words(t, dim) for t in body["texts"]])
        out = {}
        for kind in body["embedding_types"]:
            if kind == "float":
                out[kind] = floats.tolist()
            elif kind == "int8":
                out[kind] = np.clip(np.round(floats * 127), -128, 127).astype(int).tolist()
            elif kind == "binary":  # Cohere packs the sign bits, 8 per signed byte
                out[kind] = np.packbits(floats > 0, axis=1).view(np.int8).astype(int).tolist()
        tokens = sum(len(t.split()) for t in body["texts"])
        return {"id": "embed-test", "embeddings": out, "texts": body["texts"],
                "meta": {"billed_units": {"input_tokens": tokens}}}

    def __enter__(self) -> EmbeddingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
