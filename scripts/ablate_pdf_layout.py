"""rag.eval with one part of the PDF reader's layout step turned off, to tell which part moved
the PDF figures (docs/results/multilingual.md, "PDF layout"):

    python scripts/ablate_pdf_layout.py no-running|no-headings --config-path=$PWD/conf \\
        dataset=maint_guide_en dataset.part=test store.path=/tmp/ablate-index ...

no-running keeps running headers and footers; no-headings marks no heading (bullets still keep
their lines). Use a store.path of its own: the index name does not know about the ablation.
"""

import sys

import rag.corpus.pdf_layout as layout

part = sys.argv.pop(1)
if part == "no-running":
    layout._running_lines = lambda pages: set()
elif part == "no-headings":
    layout.HEADING_RATIO = float("inf")
else:
    sys.exit(f"unknown part {part!r}: no-running or no-headings")

from rag.eval import main  # noqa: E402  (after the patch: the reader is imported with it)

main()
