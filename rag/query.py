"""Ask a question: ``python -m rag.query "question" [--json] [overrides]``.

Prints the retrieved passages (source, page, score). Any Hydra override applies, e.g.
``python -m rag.query "..." retriever=dense retriever.mrl_dim=64 store=memory``.
"""

from __future__ import annotations

import json
import re
import sys

import hydra
from omegaconf import DictConfig

from rag.cli import renamed_overrides, user_errors

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
    from rag.answerer import passage_label  # not at module level: --help stays numpy-free

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


def _print_sources(answer) -> None:
    print("\n")
    if answer.attributed:
        print("Sources (attributed by term overlap: the model cited no passage):")
    elif answer.citations:
        print("Sources:")
    else:
        print("Sources: (the answer cites no passage)")
    for line in answer.sources():
        print(f"  {line}")


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    question = _ARGS["question"] or cfg.get("query")
    if not question:
        print('error: give a question, e.g. python -m rag.query "How long is the warranty?"',
              file=sys.stderr)
        sys.exit(2)
    from rag.pipeline import Pipeline

    as_json = _ARGS["json"]
    pipeline = Pipeline.from_config(cfg)

    def show_passages(hits) -> None:
        _print_hits(question, hits)
        if pipeline.answerer is not None:
            print("Answer:")

    try:
        pipeline.open_index(build_if_missing=cfg.index_if_missing)
        response = pipeline.ask(question, cfg.top_k, stream=None if as_json else _stream,
                                on_passages=None if as_json else show_passages)
    finally:
        pipeline.close()
    if as_json:
        print(json.dumps(response.to_dict(), ensure_ascii=False, indent=2))
        return
    if response.answer is not None:
        _print_sources(response.answer)
    stages = ", ".join(f"{k.removesuffix('_ms')} {v:.1f} ms"
                       for k, v in response.timings_ms.items())
    print(f"({stages})", file=sys.stderr)


if __name__ == "__main__":
    rest, _ARGS["question"], _ARGS["json"] = split_argv(sys.argv[1:])
    sys.argv[1:] = renamed_overrides(rest)
    main()
