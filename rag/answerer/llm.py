"""An LLM answerer over any llama-index LLM (OpenAI-compatible endpoint, local GGUF, ...).

With ``check_quotes`` the model quotes before it answers (prompt.py) and the quotes are
checked against the passages they name (support.py) as soon as the answer line starts: a
supported answer streams on token by token; an unsupported one is stopped there and the
fallback answerer (extractive: it quotes by construction) answers instead. A decline is
overruled the same way when the fallback finds an answer: small models decline too often.
With ``gate`` the fallback also decides whether the passages answer at all: when it declines,
so does the answer, and the model is not asked (a small model answers what it cannot).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from rag.answerer import is_decline
from rag.answerer.citations import parse_citations, renumber_citations
from rag.answerer.prompt import build_messages, select_passages
from rag.answerer.support import answer_started, check
from rag.errors import ConfigError
from rag.store import Hit

log = logging.getLogger(__name__)


class LLMAnswerer:
    def __init__(self, llm, context_tokens: int = 3000, max_passages: int = 8,
                 check_quotes: bool = False, fallback=None, gate: bool = False) -> None:
        self.llm = llm  # a llama_index.core.llms.LLM, built by Hydra from the nested config
        self.context_tokens = context_tokens
        self.max_passages = max_passages
        self.check_quotes = check_quotes
        self.fallback = fallback  # an answerer for when the model's answer is not supported
        if gate and fallback is None:
            raise ConfigError("answerer.gate needs answerer.fallback (the answerer that decides)")
        self.gate = gate
        self._last = threading.local()  # per thread: a server answers on several

    @property
    def last_check(self) -> str:
        """Why this thread's last answer is not the model's ("" when it is)."""
        return getattr(self._last, "reason", "")

    @last_check.setter
    def last_check(self, reason: str) -> None:
        self._last.reason = reason

    def use(self, embedder=None, reranker=None) -> None:
        if self.fallback is not None and hasattr(self.fallback, "use"):
            self.fallback.use(embedder=embedder, reranker=reranker)

    def warm_up(self) -> None:
        """Load a local model now; a remote endpoint is not called until a question comes."""
        if hasattr(self.llm, "warm_up"):
            self.llm.warm_up()

    def close(self) -> None:
        if hasattr(self.llm, "close"):
            self.llm.close()

    def select(self, question: str, hits: list[Hit]) -> list[Hit]:
        return select_passages(hits, self.context_tokens, self.max_passages)

    def _messages(self, question: str, passages: list[Hit]):
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=m["role"], content=m["content"])
                for m in build_messages(question, passages, self.context_tokens)]

    def _model_deltas(self, question: str, passages: list[Hit]) -> Iterator[str]:
        for chunk in self.llm.stream_chat(self._messages(question, passages)):
            if chunk.delta:
                yield chunk.delta

    def stream(self, question: str, passages: list[Hit]) -> Iterator[str]:
        self.last_check = ""
        fallback = None  # the fallback's answer, once computed
        if self.gate:
            fallback = self.fallback.complete(question, passages)
            if is_decline(fallback):
                self.last_check = "gate"
                yield fallback
                return
        deltas = self._model_deltas(question, passages)
        if not self.check_quotes:
            yield from deltas
            return
        held = ""  # the quotes, held back until they are checked
        for delta in deltas:
            held += delta
            if answer_started(held):
                break
        verdict = check(held, passages)
        if verdict.supported and verdict.renumber:
            # the model named the wrong passage: the rest is read whole to renumber it
            yield renumber_citations(held + "".join(deltas), verdict.renumber)
            return
        if verdict.supported:
            yield held
            if verdict.verbatim is not None and not parse_citations(held, len(passages)):
                yield f" [{verdict.verbatim}]"  # a copied answer cites where it was copied from
            yield from deltas
            return
        deltas.close()  # stops the generation: its answer would not be shown
        declined = not answer_started(held) and is_decline(held)
        reason = "declined" if declined else verdict.reason
        yield from self._fall_back(question, passages, held, reason, fallback)

    def _fall_back(self, question: str, passages: list[Hit], said: str, reason: str,
                   fallback: str | None) -> Iterator[str]:
        if self.fallback is None:
            yield said  # nothing better to offer: the model's words, as they are
            return
        if fallback is None:  # the gate has not computed it already
            fallback = self.fallback.complete(question, passages)
        if reason == "declined" and is_decline(fallback):
            yield said  # both decline: the model's own words
            return
        self.last_check = reason
        log.info("LLM answer not used (%s): extractive answer instead of %r", reason,
                 said[:300])
        yield fallback

    def complete(self, question: str, passages: list[Hit]) -> str:
        if self.check_quotes or self.gate:
            return "".join(self.stream(question, passages))
        return self.llm.chat(self._messages(question, passages)).message.content or ""
