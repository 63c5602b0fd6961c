"""Transformer encoders run by onnxruntime and the `tokenizers` library: encoding a query
imports neither torch nor transformers (about 6 s of a cold start).

    exported(model_dir, cache_dir, head, quantize)   the ONNX file, made on first use
    OnnxEncoder(path, model_dir, ...)                 tokenise, batch by length, run

A model is exported once with torch (``head="hidden"``: an encoder's last hidden state, pooled
by the caller; ``head="logits"``: a sequence classifier, i.e. a cross-encoder) into
``<cache>/<model>-<weights hash>/`` (~/.cache/rag/onnx unless ``onnx_dir`` is set): retrained
weights hash differently, so a stale export is never used. ``quantize="int8"`` quantises the
weights per output channel (onnxruntime's dynamic quantisation: activations are quantised on
the fly, per batch).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.errors import ConfigError
from rag.models import cache_home, weights_signature

QUANTIZE = (None, "int8")


def check_runtime(stage: str, backend: str, quantize: str | None) -> None:
    """A stage's backend / quantize settings, refused with the fix before anything loads."""
    if backend not in ("torch", "onnx"):
        raise ConfigError(f"{stage}.backend={backend!r}: use torch or onnx")
    if quantize and backend != "onnx":
        raise ConfigError(f"{stage}.quantize needs {stage}.backend=onnx")
    if quantize not in QUANTIZE:
        raise ConfigError(f"{stage}.quantize={quantize!r}: use null (float32) or int8")


def exported(model_dir: Path, cache_dir: str | Path | None = None, head: str = "hidden",
             quantize: str | None = None) -> Path:
    """The model's ONNX file (exported, then quantised, when not there yet), under
    ``cache_dir`` or else the user's cache (~/.cache/rag/onnx)."""
    if quantize not in QUANTIZE:
        raise ConfigError(f"quantize={quantize!r}: use null (float32) or int8")
    root = Path(cache_dir) if cache_dir else cache_home() / "onnx"
    folder = root / f"{model_dir.name}-{weights_signature(model_dir)}"
    fp32 = folder / f"{head}.onnx"
    if not fp32.exists():
        _export(model_dir, fp32, head)
    if quantize is None:
        return fp32
    out = folder / f"{head}-{quantize}.onnx"
    if not out.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        # per-channel scales: one scale per weight matrix cost MiniLM up to 0.13 of cosine to
        # its float vectors, per output channel 0.013 (tests/test_onnx.py)
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        tmp.replace(out)  # a crash mid-way leaves no half-written model behind
    return out


def _export(model_dir: Path, out: Path, head: str) -> None:
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification

    from rag.embedder import quiet_loading

    quiet_loading()
    kind = {"hidden": AutoModel, "logits": AutoModelForSequenceClassification}[head]
    model = kind.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask"]
    if getattr(model.config, "type_vocab_size", 0) > 1:  # BERT's segments: pairs need them
        names.append("token_type_ids")

    class Wrapped(torch.nn.Module):  # keyword arguments, one tensor out
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            output = self.model(**dict(zip(names, inputs, strict=True)))
            return output.last_hidden_state if head == "hidden" else output.logits

    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"output": {0: "batch"}}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(Wrapped(), example, str(tmp), input_names=names,
                          output_names=["output"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    tmp.replace(out)


def _pad_id(model_dir: Path, tokenizer) -> int:
    config = model_dir / "tokenizer_config.json"
    pad = json.loads(config.read_text()).get("pad_token") if config.exists() else None
    if isinstance(pad, dict):
        pad = pad.get("content")
    for token in (pad, "[PAD]", "<pad>"):
        if token and tokenizer.token_to_id(token) is not None:
            return tokenizer.token_to_id(token)
    return 0


class OnnxEncoder:
    """One ONNX session and the model's own tokenizer.json."""

    def __init__(self, path: Path, model_dir: Path, max_length: int, batch_size: int = 32,
                 threads: int | None = None, quantized: bool = False) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: one per physical core
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()  # padded here, per batch of similar lengths
        self.tokenizer.enable_truncation(max_length)
        self.pad_id = _pad_id(model_dir, self.tokenizer)
        # int8 activations are quantised with one range per batch: a text's output would
        # depend on the texts batched with it (a server's concurrent queries, a corpus's
        # neighbours), so a quantised model runs one text at a time
        self.batch_size = 1 if quantized else batch_size

    def run(self, items: Sequence[str | tuple[str, str]]
            ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(positions in ``items``, model output, attention mask) per batch. Texts are sorted
        by token count first, so a batch pads to the length of similar texts, not the longest
        of all."""
        encodings = self.tokenizer.encode_batch(list(items))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in part)
            ids = np.full((len(part), width), self.pad_id, dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, i in enumerate(part):
                e = encodings[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
                types[row, : len(e.ids)] = e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = types
            yield part, self.session.run(None, feed)[0], mask
