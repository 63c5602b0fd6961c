"""Ask a question: ``python -m rag.query "question" [--json] [overrides]``.

Prints the retrieved passages (source, page, score). Any Hydra override applies, e.g.
``python -m rag.query "..." retriever=dense retriever.mrl_dim=64 store=memory``.
"""

from __future__ import annotations

import json
import re
import sys
import time

import hydra
from omegaconf import DictConfig

from rag.cli import user_errors

# Hydra options that take a value, so their values are not mistaken for the question.
_VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name",
                "-cn", "--config-dir", "-cd", "--info", "-i", "--experimental-rerun"}
_OVERRIDE = re.compile(r"^[+~]{0,2}[\w.@/\-]+=")

_ARGS: dict = {"question": None, "json": False}


def split_argv(argv: list[str]) -> tuple[list[str], str | None, bool]:
    """Pull the free-text question and --json out of argv; the rest is Hydra's."""
    rest, words, as_json = [], [], False
    it = iter(argv)
    for arg in it:
        if arg == "--json":
            as_json = True
        elif arg in _VALUE_FLAGS:
            rest.append(arg)
            value = next(it, None)
            if value is not None:
                rest.append(value)
        elif arg.startswith("-") or _OVERRIDE.match(arg):
            rest.append(arg)
        else:
            words.append(arg)
    return rest, (" ".join(words) or None), as_json


def _print_hits(question: str, hits) -> None:
    from rag.answer import passage_label  # not at module level: --help stays numpy-free

    print(f"Q: {question}\n")
    for rank, hit in enumerate(hits, 1):
        p = hit.payload
        section = f"  [{p['section']}]" if p.get("section") else ""
        scores = f"score={hit.score:.4f}"
        if "retrieval_score" in p:
            scores += f" (retrieval {p['retrieval_score']:.4f})"
        text = " ".join(p.get("text", "").split())
        print(f"[{rank}] {passage_label(hit)}{section}  {scores}")
        print(f"    {text[:300]}{'…' if len(text) > 300 else ''}\n")


def _stream(delta: str) -> None:
    sys.stdout.write(delta)
    sys.stdout.flush()


def _citation_json(n: int, hit) -> dict:
    p = hit.payload
    return {"n": n, "id": hit.id, "source": p.get("source"), "page": p.get("page"),
            "doc_id": p.get("doc_id")}


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    question = _ARGS["question"] or cfg.get("query")
    if not question:
        print('error: give a question, e.g. python -m rag.query "How long is the warranty?"',
              file=sys.stderr)
        sys.exit(2)
    from rag.answer import answer
    from rag.pipeline import Pipeline

    pipeline = Pipeline.from_config(cfg)
    try:
        pipeline.open_index(build_if_missing=cfg.index_if_missing)
        timings: dict = {}
        start = time.perf_counter()
        hits = pipeline.search(question, cfg.top_k, timings)
        # Release the index before the answer, which may take seconds: an embedded engine
        # serves one process at a time.
        pipeline.close()
        result = None
        if not _ARGS["json"]:
            _print_hits(question, hits)
        if pipeline.answerer is not None:
            t = time.perf_counter()
            if not _ARGS["json"]:
                print("Answer:")
            result = answer(pipeline.answerer, question, hits,
                            on_text=None if _ARGS["json"] else _stream)
            timings["answer_ms"] = (time.perf_counter() - t) * 1e3
        timings["total_ms"] = (time.perf_counter() - start) * 1e3
    finally:
        pipeline.close()
    if _ARGS["json"]:
        out = {"question": question,
               "answer": result.text if result else None,
               "citations": [_citation_json(n, h) for n, h in result.cited()] if result else [],
               "citations_attributed": bool(result and result.attributed),
               "passages": [{"id": h.id, "score": h.score, **h.payload} for h in hits],
               "timings_ms": timings}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if result is not None:
        from rag.answer import passage_label

        print("\n")
        if result.attributed:
            print("Sources (attributed by term overlap: the model cited no passage):")
            for n, hit in result.cited():
                print(f"  [{n}] {passage_label(hit)}")
        elif result.citations:
            print("Sources:")
            for n, hit in result.cited():
                print(f"  [{n}] {passage_label(hit)}")
        else:
            print("Sources: (the answer cites no passage)")
    stages = ", ".join(f"{k.removesuffix('_ms')} {v:.1f} ms" for k, v in timings.items())
    print(f"({stages})", file=sys.stderr)


if __name__ == "__main__":
    sys.argv[1:], _ARGS["question"], _ARGS["json"] = split_argv(sys.argv[1:])
    main()
