"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol, streaming
(server-sent events) and not, that records every request. Used by tests only."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatServer:
    def __init__(self, reply_chunks: list[str], fail_after: int | None = None) -> None:
        self.reply_chunks = reply_chunks
        self.fail_after = fail_after  # streamed deltas before an error event (a model crash)
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body,
                                        "auth": self.headers.get("Authorization")})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self.send_response(404)
                    self.end_headers()
                    return
                if body.get("stream"):
                    self._stream(body)
                else:
                    self._complete(body)

            def _base(self, body):
                return {"id": "chatcmpl-test", "created": int(time.time()),
                        "model": body["model"]}

            def _complete(self, body):
                payload = {**self._base(body), "object": "chat.completion", "choices": [{
                    "index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "".join(server.reply_chunks)}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                deltas = [{"role": "assistant", "content": ""}] + [
                    {"content": c} for c in server.reply_chunks]
                for i, delta in enumerate(deltas):
                    if i == server.fail_after:
                        error = {"error": {"message": "model crashed", "type": "server_error"}}
                        self.wfile.write(f"data: {json.dumps(error)}\n\n".encode())
                        self.wfile.flush()
                        return
                    chunk = {**self._base(body), "object": "chat.completion.chunk", "choices": [{
                        "index": 0, "delta": delta,
                        "finish_reason": "stop" if i == len(deltas) - 1 else None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
