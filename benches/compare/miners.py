"""Mining Groceries at support 0.001 / confidence 0.1: laris vs pyfim (C) vs mlxtend, one run.

    cargo build --release && python3 benches/compare/miners.py

Prints the median wall time of each over several runs. laris is timed as the whole
`laris rules` process (start-up, reading the file, writing CSV to /dev/null), the others as
the library call only, so the comparison is conservative for laris.
"""
import statistics, subprocess, sys, time
from pathlib import Path

root = Path(__file__).resolve().parents[2]
baskets_path = root / "tests/fixtures/groceries/groceries_baskets.csv"
baskets = [line.rstrip("\n").split(",") for line in baskets_path.read_text().splitlines() if line]
laris = root / "target/release/laris"

def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t)
    return statistics.median(times), out

def run_laris():
    r = subprocess.run([str(laris), "--config", str(root / "config/laris.toml"), "rules", "--baskets", str(baskets_path),
                        "--min-support", "0.001", "--min-confidence", "0.1"], capture_output=True, text=True, check=True)
    return r.stdout.count("\n") - 1

def run_laris_mining():
    r = subprocess.run([str(laris), "--config", str(root / "config/laris.toml"), "rules", "--baskets", str(baskets_path),
                        "--min-support", "0.001", "--min-confidence", "0.1", "--timing"], capture_output=True, text=True, check=True)
    return float(r.stderr.strip().split(" in ")[-1].split()[0]) / 1000, r.stdout.count("\n") - 1

results = {}
mining = [run_laris_mining() for _ in range(11)]
results["laris mining (in process)"] = (statistics.median(t for t, _ in mining), mining[0][1])
results["laris rules (whole process)"] = median_time(run_laris, 11)

try:
    import fim
    def run_fim():
        rules = fim.arules(baskets, supp=0.1, conf=10, zmin=2, report="sc", mode="o")
        return len(rules)
    results["pyfim arules (C)"] = median_time(run_fim, 11)
except ImportError:
    print("pyfim not installed: pip install pyfim", file=sys.stderr)

try:
    import pandas as pd
    from mlxtend.preprocessing import TransactionEncoder
    from mlxtend.frequent_patterns import fpgrowth, association_rules
    te = TransactionEncoder(); df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    def run_mlxtend():
        sets = fpgrowth(df, min_support=0.001, use_colnames=True)
        rules = association_rules(sets, metric="confidence", min_threshold=0.1)
        return len(rules)
    results["mlxtend fpgrowth + association_rules"] = median_time(run_mlxtend, 3)
except ImportError:
    print("mlxtend not installed: pip install mlxtend", file=sys.stderr)

base = results["laris mining (in process)"][0]
for name, (t, n) in results.items():
    print(f"{name:40s} median {t*1000:8.1f} ms  rules {n:6d}  time / laris mining {t/base:6.2f}")
print("(mlxtend counts rules with multi-item right-hand sides too; laris and pyfim have one-item right-hand sides as arules)")
