#!/usr/bin/env bash
# Re-runs the committed comparison in docs/results/insuranceqa_{en,zh}/ (make eval-report).
# Full corpus (27,413 passages), all 2,000 test questions, the packaged offline models.
# Sequential jobs share one index directory per language, so configurations with the same
# index fingerprint reuse it; embeddings come from data/cache after the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LANGS=${LANGS:-"en zh"}

for lang in $LANGS; do
  out=data/multirun/insuranceqa_${lang}_report
  rm -rf "$out"
  # exact search: the comparison is between retrieval plans, not HNSW approximation
  common=(experiment=en dataset=insuranceqa_$lang paths.index=data/eval-index/insuranceqa_$lang
          store.exact_below=1000000 progress=false)
  "$PY" -m rag.eval -m "${common[@]}" retriever=sparse hydra.sweep.dir="$out/bm25"
  "$PY" -m rag.eval -m "${common[@]}" retriever=dense retriever.mrl_dim=null,256,128,64 \
    hydra.sweep.dir="$out/dense"
  "$PY" -m rag.eval -m "${common[@]}" retriever=hybrid retriever.mrl_dim=128 \
    retriever.fusion=rrf retriever.rrf_k=60,10 retriever.dense_weight=1,3 \
    hydra.sweep.dir="$out/hybrid_rrf"
  "$PY" -m rag.eval -m "${common[@]}" retriever=hybrid retriever.mrl_dim=128 \
    retriever.fusion=dbsf hydra.sweep.dir="$out/hybrid_dbsf"
  runs=("$out/bm25" "$out/dense" "$out/hybrid_rrf" "$out/hybrid_dbsf")
  baseline="retriever.mrl_dim=null"  # the better single retriever: dense in English
  if [ "$lang" = zh ]; then  # MiniLM cannot read Chinese: BM25 is the one to beat
    baseline="retriever=sparse"
    # characters as terms, no dictionary
    "$PY" -m rag.eval -m "${common[@]}" sparse=bm25_char retriever=sparse \
      hydra.sweep.dir="$out/bm25_char"
    runs+=("$out/bm25_char")
  fi
  "$PY" -m rag.report "${runs[@]}" --baseline "$baseline" \
    --out "docs/results/insuranceqa_$lang"
done
