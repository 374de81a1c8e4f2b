"""pyfim as a whole process, the counterpart of `laris rules`: read a basket file, mine the
one-consequent rules with arules, write `lhs,rhs,count,support,confidence,lift` CSV to stdout.

    python3 benches/compare/pyfim_rules.py BASKETS MIN_SUPPORT MIN_CONFIDENCE > rules.csv
"""
import sys

import fim

path, supp, conf = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
with open(path) as f:
    baskets = [line.rstrip("\n").split(",") for line in f if line.strip()]
n = len(baskets)
rules = fim.arules(baskets, supp=supp * 100, conf=conf * 100, zmin=2, report="acl", mode="o")
out = ["lhs,rhs,count,support,confidence,lift"]
for rhs, lhs, count, confidence, lift in rules:
    out.append(f"{'|'.join(sorted(lhs))},{rhs},{count},{count / n},{confidence},{lift}")
sys.stdout.write("\n".join(out) + "\n")
