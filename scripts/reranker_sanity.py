"""Does a cross-encoder checkpoint tell a judged passage from a random one?

    python scripts/reranker_sanity.py CHECKPOINT [CHECKPOINT ...] [--dataset DIR] [--split train]

For the first ``--queries`` questions of a BEIR split: each judged passage against
``--negatives`` passages drawn at random from the corpus. A reranker that has learned anything
wins nearly all of these pairs; one near 0.5 with equal mean scores gives every passage one
score (a head that has not found a signal yet). Cheap enough to run on every checkpoint.
"""

from __future__ import annotations

import argparse
import random


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--dataset", default="data/datasets/insuranceqa_zh")
    ap.add_argument("--split", default="train")
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--negatives", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    args = ap.parse_args()

    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    from rag.corpus.beir import BeirCorpusReader
    from rag.dataset import BeirDataset

    dataset = BeirDataset(args.dataset, split=args.split)
    documents, _ = BeirCorpusReader(f"{args.dataset}/corpus.jsonl", title=False).read()
    corpus = {d.source: d.text for d in documents}
    queries, judged = dataset.queries(), dataset.qrels()
    print("| checkpoint | judged > random | mean score, judged | mean score, random |")
    print("|---|---|---|---|")
    for checkpoint in args.checkpoints:
        rng, ids = random.Random(0), sorted(corpus)
        model = CrossEncoder(checkpoint, max_length=args.max_length,
                             activation_fn=torch.nn.Identity())
        wins, judged_scores, random_scores = 0, [], []
        for q in list(judged)[: args.queries]:
            negatives = [rng.choice(ids) for _ in range(args.negatives)]
            texts = [corpus[next(iter(judged[q]))], *(corpus[d] for d in negatives)]
            score, *others = model.predict([(queries[q], t) for t in texts],
                                           show_progress_bar=False)
            wins += sum(score > s for s in others)
            judged_scores.append(score)
            random_scores.extend(others)
        share = wins / len(random_scores)
        print(f"| {checkpoint} | {share:.3f} | {sum(judged_scores) / len(judged_scores):.4f} | "
              f"{sum(random_scores) / len(random_scores):.4f} |")


if __name__ == "__main__":
    main()
