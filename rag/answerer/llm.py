"""An LLM answerer over any llama-index LLM (OpenAI-compatible endpoint, local GGUF, ...)."""

from __future__ import annotations

from collections.abc import Iterator

from rag.answerer.prompt import build_messages, select_passages
from rag.store import Hit


class LLMAnswerer:
    def __init__(self, llm, context_tokens: int = 3000, max_passages: int = 8) -> None:
        self.llm = llm  # a llama_index.core.llms.LLM, built by Hydra from the nested config
        self.context_tokens = context_tokens
        self.max_passages = max_passages

    def warm_up(self) -> None:
        """Load a local model now; a remote endpoint is not called until a question comes."""
        if hasattr(self.llm, "warm_up"):
            self.llm.warm_up()

    def select(self, question: str, hits: list[Hit]) -> list[Hit]:
        return select_passages(hits, self.context_tokens, self.max_passages)

    def _messages(self, question: str, passages: list[Hit]):
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=m["role"], content=m["content"])
                for m in build_messages(question, passages, self.context_tokens)]

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]:
        for chunk in self.llm.stream_chat(self._messages(question, passages)):
            if chunk.delta:
                yield chunk.delta

    def complete(self, question: str, passages: list[Hit]) -> str:
        return self.llm.chat(self._messages(question, passages)).message.content or ""
