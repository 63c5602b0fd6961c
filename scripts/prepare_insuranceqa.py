"""Write InsuranceQA (pip package insuranceqa-data==1.2) as two BEIR datasets, English and
Chinese, under data/datasets/insuranceqa_{en,zh}/. Research-only licence: never committed.

    python scripts/prepare_insuranceqa.py [data/datasets]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _clean(text: str) -> str:
    return " ".join(text.split())


def main(root: Path) -> None:
    try:
        import insuranceqa_data as iqa
    except ImportError:
        sys.exit("pip install insuranceqa-data==1.2 first (make data does it)")
    answers = iqa.load_answers()
    splits = {"test": iqa.load_test(), "valid": iqa.load_valid(), "train": iqa.load_train()}
    for lang in ("en", "zh"):
        out = root / f"insuranceqa_{lang}"
        (out / "qrels").mkdir(parents=True, exist_ok=True)
        with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
            for aid in sorted(answers, key=int):
                text = _clean(answers[aid][lang])
                if text:
                    f.write(json.dumps({"_id": aid, "title": "", "text": text},
                                       ensure_ascii=False) + "\n")
        with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
            for split, questions in splits.items():
                for key in sorted(questions, key=int):
                    f.write(json.dumps({"_id": f"{split}-{key}",
                                        "text": _clean(questions[key][lang])},
                                       ensure_ascii=False) + "\n")
        for split, questions in splits.items():
            with (out / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as f:
                f.write("query-id\tcorpus-id\tscore\n")
                for key in sorted(questions, key=int):
                    for aid in questions[key]["answers"]:
                        f.write(f"{split}-{key}\t{aid}\t1\n")
        print(f"{out}: {len(answers)} passages, "
              + ", ".join(f"{len(q)} {s} questions" for s, q in splits.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/datasets"))
