"""Local LLM speed on this machine: answerer=local (Qwen2.5-Coder-1.5B, `make llm`) and
answerer=smollm2, each answering the sample gold set's questions over the quick start's folder.

    python scripts/bench_llm.py [--split test] [--out docs/results/llm/bench.json]

Per model: load seconds, seconds per answer (p50, p95), prompt and generated tokens per second
as llama.cpp reports them (p50), and how many answers fell back to the extractive answerer.
Threads: every core (2 here). Figures are medians of one run on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.eval import percentiles  # noqa: E402


def bench(answerer: str, questions: list[str], data: Path) -> dict:
    from hydra import compose, initialize_config_dir

    from rag.pipeline import Pipeline

    with initialize_config_dir(str(ROOT / "conf"), version_base=None):
        cfg = compose("config", overrides=[f"answerer={answerer}", f"paths.data={data}",
                                           f"corpus.path={ROOT / 'data/sample'}",
                                           "progress=false"])
    pipeline = Pipeline.from_config(cfg)
    try:
        pipeline.open_index(build_if_missing=True)
        llm = pipeline.answerer.llm
        llm.close()  # open_index warmed it up: load again, timed
        t = time.perf_counter()
        llm.warm_up()
        load = time.perf_counter() - t
        rows = []
        for q in questions:
            r = pipeline.ask(q, 5, stream=lambda _: None)
            timings = llm.timings
            rows.append({"question": q, "seconds": r.timings_ms["answer_ms"] / 1e3,
                         "first_token_s": r.timings_ms.get("first_token_ms", 0) / 1e3,
                         "fallback": r.answer.fallback,
                         "prompt_tokens": timings.get("prompt_n"),
                         "prompt_tps": timings.get("prompt_per_second"),
                         "generated_tokens": timings.get("predicted_n"),
                         "generated_tps": timings.get("predicted_per_second")})
    finally:
        pipeline.close()
    secs = [r["seconds"] for r in rows]
    asked = [r for r in rows if r["prompt_tps"]]  # the gate or a fallback may skip the model
    return {"answerer": answerer, "model": cfg.answerer.llm.model, "load_s": load,
            "answers": len(rows), "seconds_p50": statistics.median(secs),
            "seconds_p95": percentiles(secs)["p95"],
            "prompt_tokens_p50": statistics.median(r["prompt_tokens"] for r in asked),
            "prompt_tps_p50": statistics.median(r["prompt_tps"] for r in asked),
            "generated_tps_p50": statistics.median(r["generated_tps"] for r in asked),
            "fallbacks": sum(bool(r["fallback"]) for r in rows), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test")
    parser.add_argument("--answerers", nargs="+", default=["local", "smollm2"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/results/llm/bench",
                        help="OUT.json and OUT.md: the run with its git SHA, host, cores")
    args = parser.parse_args()
    from rag.dataset import QADataset

    questions = list(QADataset(str(ROOT / "data/qa/sample.jsonl"), split=args.split)
                     .queries().values())
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(a, questions, Path(tmp)) for a in args.answerers]
    print(f"{len(questions)} sample {args.split} questions, {os.cpu_count()} cores")
    table = ["| answerer | load s | s/answer p50 | p95 | prompt tokens p50 | prompt tok/s | "
             "generated tok/s | fallbacks |", "|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['answerer']} | {r['load_s']:.1f} | {r['seconds_p50']:.1f} | "
              f"{r['seconds_p95']:.1f} | {r['prompt_tokens_p50']:.0f} | "
              f"{r['prompt_tps_p50']:.0f} | {r['generated_tps_p50']:.1f} | "
              f"{r['fallbacks']}/{r['answers']} |" for r in results]
    print("\n".join(table))
    from run_record import write_run

    write_run(args.out.with_suffix(""), results, "\n".join(table), settings={
        "split": args.split, "questions": len(questions)})

if __name__ == "__main__":
    main()
