#!/usr/bin/env bash
# Re-runs the committed storage comparison in docs/results/quantization_en/ and
# quantization_zh/ (make quantization-report): InsuranceQA en, full corpus, all 2,000 test questions, the
# packaged MiniLM, dense retrieval, the index searched by HNSW as in production (31k points is
# above store.exact_below); float vectors against Qdrant's int8 and binary quantization, each
# searched quantized and rescored from the floats (oversampling 2).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
out=data/multirun/quantization_en
rm -rf "$out"
common=(experiment=en dataset=insuranceqa_en retriever=dense retriever.mrl_dim=null progress=false
        paths.index=data/eval-index/quantization_en)
"$PY" -m rag.eval -m "${common[@]}" store.exact_below=1000000 hydra.sweep.dir="$out/exact"
"$PY" -m rag.eval -m "${common[@]}" store.quantization=null,int8,binary_2bit,binary \
  hydra.sweep.dir="$out/hnsw"
"$PY" -m rag.eval -m "${common[@]}" store.quantization=binary store.rescore=false \
  hydra.sweep.dir="$out/no_rescore"
"$PY" -m rag.report "$out/exact" "$out/hnsw" "$out/no_rescore" \
  --baseline "store.exact_below=1000000" --out docs/results/quantization_en

# The same for Chinese with the multilingual model (e5-small-q4, full 384-d, HNSW).
zh=data/multirun/quantization_zh
rm -rf "$zh"
zh_common=(dataset=insuranceqa_zh embedder=e5_small_q4 retriever=dense retriever.mrl_dim=null
           progress=false paths.index=data/eval-index/quantization_zh)
# the exact float baseline is run here (it came from eval-report-zh's folder, which this
# script did not make: a report must not read another report's runs)
"$PY" -m rag.eval -m "${zh_common[@]}" store.exact_below=1000000 hydra.sweep.dir="$zh/exact"
"$PY" -m rag.eval -m "${zh_common[@]}" store.quantization=null,int8,binary_2bit,binary \
  hydra.sweep.dir="$zh/hnsw"
"$PY" -m rag.report "$zh/exact" "$zh/hnsw" \
  --baseline "store.exact_below=1000000" --out docs/results/quantization_zh
