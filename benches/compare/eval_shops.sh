#!/usr/bin/env bash
# Offline evaluation on the synthetic shops of examples/gen_eval_shops.rs: generates both
# shops (Seller Center CSV exports), builds Laris, imports each shop with `laris import` and
# runs `laris eval --format markdown` on it, then the plain item-kNN peer check
# (itemknn_peer.py, when python3 is there). Works from a fresh clone:
#
#   benches/compare/eval_shops.sh [OUT_DIR]        # default OUT_DIR: target/eval-shops
#
# Everything it writes goes under OUT_DIR (its data/ store is recreated on every run):
# OUT_DIR/{longtail,komputer}/ the exports, OUT_DIR/{shop}-eval.md the reports.
# Environment: SEED (generator and eval seed, 42), CARGO_TARGET_DIR (cargo's, target).
set -euo pipefail

# The models evaluated, and the pairs given a paired t-test (each pair A,B: A − B).
MODELS="hybrid,blend,personal,item_knn,popular_in_category,repurchase,similar,bundles,best_sellers,random"
COMPARE="blend,item_knn blend,best_sellers hybrid,item_knn hybrid,best_sellers personal,repurchase personal,best_sellers"
SHOPS="longtail komputer"
SEED="${SEED:-42}"

cd "$(dirname "$0")/../.."
OUT="${1:-target/eval-shops}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
export LARIS_LOG_LEVEL="${LARIS_LOG_LEVEL:-warn}"

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

t=$(now)
cargo build --release --locked --bin laris --example gen_eval_shops
echo "build: $(took "$t")"

mkdir -p "$OUT"
rm -rf "$OUT/data"
t=$(now)
"$TARGET_DIR/release/examples/gen_eval_shops" --out "$OUT" --seed "$SEED" --shop all
echo "generate: $(took "$t")"

laris=("$TARGET_DIR/release/laris" --config "$OUT/laris.toml" --data-dir "$OUT/data")
for shop in $SHOPS; do
    t=$(now)
    "${laris[@]}" import --shop "$shop" \
        --products "$OUT/$shop/produk.csv" --orders "$OUT/$shop/laporan-penjualan.csv"
    echo "import $shop (with the model rebuild): $(took "$t")"
    t=$(now)
    compare=()
    for pair in $COMPARE; do compare+=(--compare "$pair"); done
    "${laris[@]}" eval --shop "$shop" --seed "$SEED" --models "$MODELS" --top-n 5 \
        "${compare[@]}" --format markdown > "$OUT/$shop-eval.md"
    echo "eval $shop: $(took "$t") -> $OUT/$shop-eval.md"
    echo
    cat "$OUT/$shop-eval.md"
    echo
    if command -v python3 > /dev/null; then
        t=$(now)
        python3 benches/compare/itemknn_peer.py "$OUT/$shop/baskets.csv" \
            --customers "$OUT/$shop/basket_customers.csv" --seed "$SEED"
        echo "itemknn_peer $shop: $(took "$t")"
        echo
    fi
done
