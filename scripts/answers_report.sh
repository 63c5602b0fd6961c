#!/usr/bin/env bash
# Answer quality on the gold question-answer sets (data/qa, docs/gold-answers.md), with
# retrieval fixed: the first extractive answerer (answerer=overlap), the current one
# (answerer=extractive) and the packaged SmolLM2 (answerer=smollm2). English: the Python FAQ
# with the default pipeline; Chinese: the maint-guide PDF with experiment=zh.
#
#   bash scripts/answers_report.sh tune [en|zh]   # choose the extractive settings on tune
#   bash scripts/answers_report.sh test [en|zh|sample]   # every answerer on the test split
#
# Needs make data. tune: about 25 minutes; test: about an hour (SmolLM2 takes ~9 s an answer).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
phase=${1:?usage: answers_report.sh tune|test [en|zh]}
langs=${2:-en zh}
out=data/multirun/answers
# English was measured with the MiniLM stack (experiment=en, the default until #30)
declare -A SETS=([en]="dataset=python_faq_qa experiment=en"
                [zh]="dataset=maint_guide_zh_qa experiment=zh"
                [sample]="dataset=sample_qa experiment=en")
# the extractive answerer's decline threshold is on the embedder's similarity scale: MiniLM
# (experiment=en) and e5 (experiment=zh, answerer=extractive_zh) each get their own grid
declare -A EXTRACTIVE=([en]=extractive [zh]=extractive_zh [sample]=extractive)
declare -A MIN_SCORE=([en]=0.3,0.35,0.4,0.45 [zh]=0.6,0.65,0.675,0.7,0.75)

report() {  # the table, and every answer to read beside it
  "$PY" -m rag.report "$out/test_$1"/* --baseline answerer=overlap --out "docs/results/answers_$1"
  for job in "$out/test_$1"/*/*/; do
    name=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['choices']['answerer'])" \
      "$job/results.json")
    cp "$job/answers.json" "docs/results/answers_$1/answers-$name.json"
  done
}

if [[ $phase == tune ]]; then
  for lang in $langs; do
    rm -rf "$out/tune_$lang"
    # shellcheck disable=SC2086
    "$PY" -m rag.eval -m ${SETS[$lang]} dataset.split=tune answerer=${EXTRACTIVE[$lang]} \
      answerer.semantic_weight=0.5,0.7 answerer.min_score=${MIN_SCORE[$lang]} \
      answerer.min_coverage=0,0.1 progress=false \
      hydra.sweep.dir="$out/tune_$lang"
    # chosen by "correct": the gold answer given, or a decline when there is none
    "$PY" -m rag.report "$out/tune_$lang" --metric answer_correct \
      --baseline answerer.semantic_weight=0.7 --out "docs/results/answers_tune_$lang"
  done
elif [[ $phase == test ]]; then
  for lang in ${2:-en zh sample}; do
    rm -rf "$out/test_$lang"
    # two sweeps, so the quick rows can be read while the LLM is still answering
    # shellcheck disable=SC2086
    "$PY" -m rag.eval -m ${SETS[$lang]} dataset.split=test progress=false \
      answerer=overlap,${EXTRACTIVE[$lang]} hydra.sweep.dir="$out/test_$lang/extractive"
    # shellcheck disable=SC2086
    "$PY" -m rag.eval -m ${SETS[$lang]} dataset.split=test progress=false \
      answerer=smollm2 hydra.sweep.dir="$out/test_$lang/local"
    report "$lang"
  done
else
  echo "usage: answers_report.sh tune|test [en|zh]" >&2; exit 2
fi
