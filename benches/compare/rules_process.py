"""`laris rules` against pyfim, each as a whole process (start-up, reading the basket file,
mining, writing CSV), alternating the runs so that other load on the machine hits all alike.

    cargo build --release
    python3 benches/compare/rules_process.py [RUNS] [BASELINE_LARIS]

The laris binary is target/release/laris, or $LARIS_BIN when set (a CARGO_TARGET_DIR build).
Groceries, support 0.001, confidence 0.1. BASELINE_LARIS (optional) is an older `laris`
binary run in the same rotation. Prints each one's median wall time and its ratio to pyfim's
whole process; pyfim's library call alone (`fim.arules` in this process) is printed too.
"""
import os, statistics, subprocess, sys, time
from pathlib import Path

root = Path(__file__).resolve().parents[2]
baskets_path = root / "tests/fixtures/groceries/groceries_baskets.csv"
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
laris = [("laris", Path(os.environ.get("LARIS_BIN", root / "target/release/laris")))]
if len(sys.argv) > 2:
    laris.append(("laris baseline", Path(sys.argv[2])))

def laris_cmd(binary):
    return [str(binary), "--config", str(root / "config/laris.toml"), "rules", "--baskets", str(baskets_path),
            "--min-support", "0.001", "--min-confidence", "0.1"]

cmds = {name: laris_cmd(b) for name, b in laris}
cmds["pyfim (whole process)"] = [sys.executable, str(root / "benches/compare/pyfim_rules.py"), str(baskets_path), "0.001", "0.1"]

import fim
baskets = [line.rstrip("\n").split(",") for line in baskets_path.read_text().splitlines() if line]
times = {name: [] for name in cmds}
times["pyfim arules (library call)"] = []
lines = {}
for _ in range(runs):
    for name, cmd in cmds.items():
        t = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
        times[name].append(time.perf_counter() - t)
        lines[name] = r.stdout.count(b"\n") - 1
    t = time.perf_counter()
    n = len(fim.arules(baskets, supp=0.1, conf=10, zmin=2, report="sc", mode="o"))
    times["pyfim arules (library call)"].append(time.perf_counter() - t)
    lines["pyfim arules (library call)"] = n

base = statistics.median(times["pyfim (whole process)"])
for name, ts in times.items():
    m = statistics.median(ts)
    print(f"{name:30s} median {m*1000:7.1f} ms  rules {lines[name]:6d}  / pyfim process {m/base:5.2f}")
