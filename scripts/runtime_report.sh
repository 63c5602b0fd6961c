#!/usr/bin/env bash
# Quality of each encoder runtime on InsuranceQA en (27,413 passages): torch vs ONNX float32 vs
# ONNX int8, with dense retrieval alone (the encoder isolated) and with the default hybrid plan,
# on the 2,000 valid questions (where the default runtime was chosen) and the 2,000 test
# questions (docs/results/runtime/, docs/benchmarks.md). make runtime-report
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SPLITS=${SPLITS:-"valid test"}
for split in $SPLITS; do
  out=data/multirun/runtime_en/$split
  rm -rf "$out"
  common=(experiment=en dataset=insuranceqa_en dataset.split=$split paths.index=data/eval-index/insuranceqa_en
          store.exact_below=1000000 progress=false)
  for retriever in dense hybrid; do
    "$PY" -m rag.eval -m "${common[@]}" retriever=$retriever embedder.backend=torch,onnx \
      embedder.quantize=null hydra.sweep.dir="$out/$retriever/fp32"
    "$PY" -m rag.eval -m "${common[@]}" retriever=$retriever embedder.backend=onnx \
      embedder.quantize=int8 hydra.sweep.dir="$out/$retriever/int8"
    "$PY" -m rag.report "$out/$retriever/fp32" "$out/$retriever/int8" \
      --baseline "embedder.backend=torch" --out docs/results/runtime/$split/$retriever
  done
done
