#!/usr/bin/env python3
"""A peer check, independent of Laris: is the co-purchase and repurchase structure of a
basket file findable by the plainest models?

    python3 benches/compare/itemknn_peer.py BASKETS [--customers FILE] [--test-fraction 0.2]
                                             [--n 5] [--k 100] [--seed 42]

BASKETS: one basket per line, items comma-separated, in time order (what
`examples/gen_eval_shops.rs` writes to DIR/{shop}/baskets.csv). The latest `--test-fraction`
of the baskets are the test set, the rest train.

- Basket completion: in each test basket with >= 2 distinct items one item, drawn by the
  seeded generator, is hidden and the others are the context. `best_sellers`: the items in
  most training baskets; `itemknn`: item-kNN, cosine on the training co-occurrence counts
  (co(i, j) / sqrt(n_i * n_j)), each item's `--k` nearest neighbours (0: all), a candidate
  scored by the sum of its similarities to the context items. Neither recommends a context
  item; itemknn is not padded when it knows fewer than N candidates.
- Next order (with `--customers FILE`, the buyer of each basket, one per line): each test
  basket whose customer has earlier baskets. `repurchase`: the customer's N most-bought
  earlier items (most baskets, then most recent); `best_sellers`: the N items in most
  training baskets. Precision = hits / N against the whole basket.

Prints P@N, hit rate@N and the number of cases for each. Pure Python, no dependencies.
"""

import argparse
import math
import random
import sys
from collections import Counter, defaultdict


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def distinct(items):
    seen = set()
    out = []
    for i in items:
        if i and i not in seen:
            seen.add(i)
            out.append(i)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baskets")
    ap.add_argument("--customers")
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    baskets = [distinct(line.split(",")) for line in read_lines(args.baskets)]
    n_test = max(1, round(args.test_fraction * len(baskets)))
    cut = len(baskets) - n_test
    train, test = baskets[:cut], baskets[cut:]
    N = args.n

    # Training counts and co-occurrences.
    count = Counter()
    co = defaultdict(Counter)
    for b in train:
        count.update(b)
        for x in range(len(b)):
            bx = co[b[x]]
            for y in range(len(b)):
                if x != y:
                    bx[b[y]] += 1
    popular = sorted(count, key=lambda i: (-count[i], i))

    neighbours_cache = {}

    def neighbours(i):
        if i not in neighbours_cache:
            ni = count.get(i, 0)
            sims = [(c / math.sqrt(ni * count[j]), j) for j, c in co.get(i, {}).items()] if ni else []
            sims.sort(key=lambda s: (-s[0], s[1]))
            neighbours_cache[i] = sims[: args.k] if args.k > 0 else sims
        return neighbours_cache[i]

    def best_sellers(context, n):
        out = []
        for i in popular:
            if i not in context:
                out.append(i)
                if len(out) == n:
                    break
        return out

    def itemknn(context, n):
        scores = defaultdict(float)
        for c in context:
            for s, j in neighbours(c):
                if j not in context:
                    scores[j] += s
        return [j for j, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

    rng = random.Random(args.seed)
    results = {"best_sellers": [], "itemknn": []}
    for b in test:
        if len(b) < 2:
            continue
        hidden = b[rng.randrange(len(b))]
        context = set(b) - {hidden}
        for name, model in (("best_sellers", best_sellers), ("itemknn", itemknn)):
            results[name].append(hidden in model(context, N))

    print(f"{args.baskets}: {len(baskets)} baskets, {len(train)} train, {len(test)} test, "
          f"{len(count)} items in training, {sum(map(len, baskets)) / len(baskets):.1f} items per basket")
    cases = len(results["itemknn"])
    print(f"basket completion ({cases} test baskets with >= 2 items, one hidden):")
    for name, hits in results.items():
        h = sum(hits) / max(1, len(hits))
        print(f"  {name:<13} P@{N} {h / N:.4f}  hit@{N} {h:.4f}")

    if args.customers:
        buyers = read_lines(args.customers)
        if len(buyers) != len(baskets):
            sys.exit(f"{args.customers} has {len(buyers)} lines, {args.baskets} {len(baskets)}")
        history = defaultdict(Counter)
        last_seen = defaultdict(dict)
        for t, (b, c) in enumerate(zip(train, buyers)):
            history[c].update(b)
            for i in b:
                last_seen[c][i] = t
        top = popular[:N]
        rep, pop = [], []
        for t, (b, c) in enumerate(zip(test, buyers[cut:]), start=cut):
            h = history[c]
            if h:
                mine = sorted(h, key=lambda i: (-h[i], -last_seen[c][i], i))[:N]
                truth = set(b)
                rep.append(len(truth.intersection(mine)))
                pop.append(len(truth.intersection(top)))
            h.update(b)
            for i in b:
                last_seen[c][i] = t
        print(f"next order ({len(rep)} test baskets whose customer bought before):")
        for name, hits in (("repurchase", rep), ("best_sellers", pop)):
            p = sum(hits) / max(1, len(hits)) / N
            hr = sum(1 for x in hits if x) / max(1, len(hits))
            print(f"  {name:<13} P@{N} {p:.4f}  hit@{N} {hr:.4f}")


if __name__ == "__main__":
    main()
