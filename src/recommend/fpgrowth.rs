//! Frequent itemsets and one-consequent association rules mined from shop orders: the
//! cross-selling half of seed 000 ("produk yang sering dibeli bersamaan", rules
//! `P_i => P_j` ranked by support and confidence, eq. 5–6), which Laris turns into bundle
//! offers ranked by lift. This module owns the mining only: it takes baskets of dense item
//! indices and returns itemsets and rules with their counts and measures; mapping product
//! ids to indices, thresholds from config and the bundle offers themselves live elsewhere.
//!
//! Why FP-Growth rather than seed 000's Apriori: Apriori generates candidate itemsets level by
//! level and rescans every basket for each level, while FP-Growth reads the baskets twice
//! (count items, then build one compressed prefix tree) and grows itemsets from conditional
//! trees without generating candidates. Both produce exactly the same itemsets, so results
//! are checked against R arules' apriori on the Groceries benchmark
//! (`tests/fpgrowth_groceries.rs`), but FP-Growth keeps a model rebuild cheap when a shop
//! lowers its minimum support to find bundles among rarely bought products.
//!
//! Thresholds follow arules: an itemset is frequent when `count / n >= min_support` over all
//! `n` transactions (empty ones included), and a rule `A => {b}` needs `|A| >= 1`
//! (arules' `minlen = 2`). All three thresholds are inclusive.

use std::borrow::Cow;
use std::cmp::Ordering;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

/// Items are dense indices 0..n_items (the caller maps product ids to indices).
pub type Item = u32;

/// What a mined itemset or rule must reach to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MiningThresholds {
    /// Minimum share of all transactions containing the whole itemset (rule: `A ∪ {b}`).
    pub min_support: f64,
    /// Minimum `support(A ∪ {b}) / support(A)`.
    pub min_confidence: f64,
    /// Minimum `confidence / support({b})`; 0 keeps every rule, 1 keeps only positive association.
    pub min_lift: f64,
    /// Largest itemset mined (a rule has at most `max_len - 1` antecedent items); 0 mines nothing.
    pub max_len: usize,
}

/// A frequent itemset with the number of transactions containing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Itemset {
    /// Sorted ascending, no duplicates.
    pub items: Vec<Item>,
    /// Transactions containing every item of `items`.
    pub count: u32,
    /// `count / n_transactions`.
    pub support: f64,
}

/// An association rule `antecedent => {consequent}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Sorted ascending, never empty.
    pub antecedent: Vec<Item>,
    pub consequent: Item,
    /// Transactions containing the antecedent and the consequent.
    pub count: u32,
    /// `support(A ∪ {b})`.
    pub support: f64,
    /// `support(A ∪ {b}) / support(A)`.
    pub confidence: f64,
    /// `confidence / support({b})`.
    pub lift: f64,
    /// `support(A)`.
    pub coverage: f64,
}

/// Absolute slack on threshold comparisons. Supports, confidences and lifts computed from
/// counts are correctly rounded, so an exact tie such as `3/10 >= 0.3` already holds; the
/// slack only forgives a threshold that picked up rounding noise on its way from config
/// (`0.1 + 0.2`). It is far below `1 / n` for any realistic `n`, so it never admits a count
/// that is really too small.
const THRESHOLD_EPSILON: f64 = 1e-12;

/// Whether `count` of `n_transactions` reaches `min_support`, compared as arules does
/// (`count / n >= min_support`, not `count >= min_support * n`: `0.3 * 10` is
/// `3.0000000000000004` in floating point, so the product form would demand 4 of 10).
pub fn meets_support(count: u32, n_transactions: usize, min_support: f64) -> bool {
    n_transactions > 0 && count as f64 / n_transactions as f64 >= min_support - THRESHOLD_EPSILON
}

/// The smallest count, at least 1, that [`meets_support`]; `n + 1` when none does.
fn min_count(n_transactions: usize, min_support: f64) -> u64 {
    let n = n_transactions as u64;
    let meets = |c: u64| c <= n && meets_support(c as u32, n_transactions, min_support);
    if min_support.is_nan() || !meets(n) {
        return n + 1;
    }
    // Start at the float estimate and correct it by the exact comparison in either direction.
    let mut c = (min_support * n as f64).ceil().clamp(1.0, n as f64) as u64;
    while c > 1 && meets(c - 1) {
        c -= 1;
    }
    while !meets(c) {
        c += 1;
    }
    c
}

/// All itemsets with support >= `min_support` (`count / n >= min_support`, as arules
/// compares), up to `max_len` items, sorted by length and then by items. Transactions may
/// contain duplicates (each item counts once per transaction); empty transactions count in
/// `n`. Itemsets that occur in no transaction are never reported, even at `min_support = 0`.
///
/// # Panics
/// If there are more than `u32::MAX` transactions.
pub fn frequent_itemsets(transactions: &[Vec<Item>], min_support: f64, max_len: usize) -> Vec<Itemset> {
    let n = transactions.len();
    assert!(
        u32::try_from(n).is_ok(),
        "at most u32::MAX transactions can be mined, got {n}"
    );
    let min_count = min_count(n, min_support);
    if max_len == 0 || min_count > n as u64 {
        return Vec::new();
    }
    let min_count = min_count as u32;

    // Pass 1: item counts, each item once per transaction.
    let n_items = transactions
        .iter()
        .flatten()
        .map(|&i| i as usize + 1)
        .max()
        .unwrap_or(0);
    let mut item_counts = vec![0u32; n_items];
    let mut last_seen = vec![usize::MAX; n_items];
    for (t, transaction) in transactions.iter().enumerate() {
        for &item in transaction {
            let i = item as usize;
            if last_seen[i] != t {
                last_seen[i] = t;
                item_counts[i] += 1;
            }
        }
    }

    // The tree works in rank space: rank 0 is the most frequent item (ties by index), so
    // every root-to-leaf path lists ranks ascending and shared prefixes are as long as they
    // can be.
    let mut rank_to_item: Vec<Item> = (0..n_items as Item)
        .filter(|&i| item_counts[i as usize] >= min_count)
        .collect();
    rank_to_item.sort_by_key(|&i| (std::cmp::Reverse(item_counts[i as usize]), i));
    let mut item_to_rank = vec![NONE; n_items];
    for (rank, &item) in rank_to_item.iter().enumerate() {
        item_to_rank[item as usize] = rank as u32;
    }

    // Pass 2: every transaction's frequent items, deduplicated, in rank order. Inserting
    // the paths in lexicographic order, identical ones merged, means a path always
    // continues from the most recently created child, so insertion never scans siblings.
    let mut paths: Vec<Vec<u32>> = transactions
        .iter()
        .map(|transaction| {
            let mut path: Vec<u32> = transaction
                .iter()
                .map(|&i| item_to_rank[i as usize])
                .filter(|&r| r != NONE)
                .collect();
            path.sort_unstable();
            path.dedup();
            path
        })
        .filter(|path| !path.is_empty())
        .collect();
    paths.sort_unstable();
    let mut tree = FpTree::new(rank_to_item.len());
    for same in paths.chunk_by(|a, b| a == b) {
        tree.insert(&same[0], same.len() as u32);
    }

    let miner = || Miner {
        min_count,
        max_len,
        n_transactions: n,
        rank_to_item: &rank_to_item,
        found: Vec::new(),
        scratch: Scratch {
            counts: vec![0; rank_to_item.len()],
            ..Scratch::default()
        },
        spare_trees: Vec::new(),
        chain: Vec::new(),
    };
    let mut found = if tree.single_path(&mut Vec::new()) {
        let mut miner = miner();
        miner.mine(&tree, &mut Vec::new());
        miner.found
    } else {
        // Each frequent item's conditional tree is mined on its own, so the items are shared
        // out among the cores; the sort below makes the order the same as one thread's.
        let parts: Vec<Vec<Itemset>> = (0..tree.heads.len() as u32)
            .into_par_iter()
            .with_max_len(1)
            .map_init(miner, |miner, rank| {
                miner.mine_rank(&tree, rank, &mut Vec::new());
                std::mem::take(&mut miner.found)
            })
            .collect();
        parts.concat()
    };
    found.par_sort_unstable_by(|a, b| {
        a.items
            .len()
            .cmp(&b.items.len())
            .then_with(|| a.items.cmp(&b.items))
    });
    found
}

/// Marks "no node" / "not a frequent item" in the arena's u32 links.
const NONE: u32 = u32::MAX;

/// One FP-tree node. Links are arena indices so the tree is a plain `Vec` with no `Rc`.
#[derive(Debug, Clone, Copy)]
struct Node {
    rank: u32,
    count: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    /// Next node with the same rank (the header table's node-link chain).
    next_same: u32,
}

/// An FP-tree over ranks `0..heads.len()`; node 0 is the root (its rank is meaningless).
#[derive(Debug)]
struct FpTree {
    nodes: Vec<Node>,
    /// Header table: first node of each rank's node-link chain.
    heads: Vec<u32>,
    /// Header table: total count of each rank, i.e. the support of `suffix ∪ {rank}`.
    totals: Vec<u32>,
}

impl FpTree {
    fn new(n_ranks: usize) -> Self {
        let root = Node {
            rank: NONE,
            count: 0,
            parent: NONE,
            first_child: NONE,
            next_sibling: NONE,
            next_same: NONE,
        };
        FpTree {
            nodes: vec![root],
            heads: vec![NONE; n_ranks],
            totals: vec![0; n_ranks],
        }
    }

    /// Empties the tree for reuse over ranks `0..n_ranks`, keeping its allocations.
    fn reset(&mut self, n_ranks: usize) {
        self.nodes.truncate(1);
        self.nodes[0].first_child = NONE;
        self.heads.clear();
        self.heads.resize(n_ranks, NONE);
        self.totals.clear();
        self.totals.resize(n_ranks, 0);
    }

    /// Adds a path of strictly ascending ranks with multiplicity `count`.
    fn insert(&mut self, ranks: &[u32], count: u32) {
        let mut current = 0usize;
        for &rank in ranks {
            let mut child = self.nodes[current].first_child;
            while child != NONE && self.nodes[child as usize].rank != rank {
                child = self.nodes[child as usize].next_sibling;
            }
            if child == NONE {
                child = self.nodes.len() as u32;
                self.nodes.push(Node {
                    rank,
                    count: 0,
                    parent: current as u32,
                    first_child: NONE,
                    next_sibling: self.nodes[current].first_child,
                    next_same: self.heads[rank as usize],
                });
                self.nodes[current].first_child = child;
                self.heads[rank as usize] = child;
            }
            self.nodes[child as usize].count += count;
            self.totals[rank as usize] += count;
            current = child as usize;
        }
    }

    /// The nodes of `rank`, following the header table's node-link chain.
    fn nodes_of(&self, rank: u32) -> impl Iterator<Item = &Node> + '_ {
        let mut next = self.heads[rank as usize];
        std::iter::from_fn(move || {
            let node = self.nodes.get(next as usize)?;
            next = node.next_same;
            Some(node)
        })
    }

    /// Ranks above `node` up to the root, nearest first (so descending).
    fn ancestors(&self, node: &Node) -> impl Iterator<Item = u32> + '_ {
        let mut next = node.parent;
        std::iter::from_fn(move || {
            // Stop at the root, whose parent is NONE.
            let up = self.nodes[next as usize];
            (up.parent != NONE).then(|| {
                next = up.parent;
                up.rank
            })
        })
    }

    /// Makes `out` the conditional tree of `rank`: the prefix paths of its nodes, each
    /// weighted by the node's count, keeping only the ranks frequent among those paths.
    /// Returns false (and leaves `out` as it was) if no rank is. Each prefix path is walked
    /// up the tree once, counted and copied into `scratch` on the way; the tree is then built
    /// from the copies. `scratch.counts` must be at least `rank` long and all zero; it is
    /// handed back all zero.
    fn conditional(&self, rank: u32, min_count: u32, scratch: &mut Scratch, out: &mut FpTree) -> bool {
        let Scratch {
            counts,
            prefixes,
            ends,
            path,
        } = scratch;
        let counts = &mut counts[..rank as usize];
        prefixes.clear();
        ends.clear();
        for node in self.nodes_of(rank) {
            for up in self.ancestors(node) {
                counts[up as usize] += node.count;
                prefixes.push(up);
            }
            ends.push((prefixes.len() as u32, node.count));
        }
        let any = counts.iter().any(|&c| c >= min_count);
        if any {
            out.reset(rank as usize);
            let mut start = 0;
            for &(end, count) in ends.iter() {
                // Copied nearest first (descending ranks); the tree wants them ascending.
                path.clear();
                path.extend(
                    prefixes[start..end as usize]
                        .iter()
                        .rev()
                        .filter(|&&r| counts[r as usize] >= min_count),
                );
                out.insert(path, count);
                start = end as usize;
            }
        }
        counts.fill(0);
        any
    }

    /// Whether the nodes below the root form one chain; if so, `path` holds them
    /// (rank, count), root side first.
    fn single_path(&self, path: &mut Vec<(u32, u32)>) -> bool {
        path.clear();
        let mut current = self.nodes[0].first_child;
        while current != NONE {
            let node = self.nodes[current as usize];
            if node.next_sibling != NONE {
                return false;
            }
            path.push((node.rank, node.count));
            current = node.first_child;
        }
        true
    }
}

/// Scratch space for [`FpTree::conditional`], reused across one miner's recursion.
#[derive(Debug, Default)]
struct Scratch {
    /// A count per rank, kept all zero between uses.
    counts: Vec<u32>,
    /// The prefix paths of one rank's nodes, one after another, each nearest node first.
    prefixes: Vec<u32>,
    /// Where each prefix path in `prefixes` ends, with its node's count.
    ends: Vec<(u32, u32)>,
    /// One prefix path's frequent ranks, ascending.
    path: Vec<u32>,
}

/// Recursion state shared by every conditional tree of one mining run.
struct Miner<'a> {
    min_count: u32,
    max_len: usize,
    n_transactions: usize,
    rank_to_item: &'a [Item],
    found: Vec<Itemset>,
    scratch: Scratch,
    /// Conditional trees no longer in use, kept for their allocations: one per depth of
    /// the recursion is all it ever holds.
    spare_trees: Vec<FpTree>,
    /// Scratch for [`FpTree::single_path`].
    chain: Vec<(u32, u32)>,
}

impl Miner<'_> {
    /// Reports `suffix ∪ {x}` for every frequent rank `x` of `tree` (whose paths are the
    /// transactions containing `suffix`) and recurses into the conditional trees.
    fn mine(&mut self, tree: &FpTree, suffix: &mut Vec<u32>) {
        let mut chain = std::mem::take(&mut self.chain);
        let single = tree.single_path(&mut chain);
        if single {
            // Every combination of a chain's nodes is frequent, with the count of its
            // deepest node: no conditional trees needed.
            self.combinations(&chain, suffix);
        }
        self.chain = chain;
        if single {
            return;
        }
        for rank in (0..tree.heads.len() as u32).rev() {
            self.mine_rank(tree, rank, suffix);
        }
    }

    /// Reports `suffix ∪ {rank}` if it is frequent in `tree`, and recurses into the
    /// conditional tree of `rank`: one step of [`Miner::mine`]'s loop.
    fn mine_rank(&mut self, tree: &FpTree, rank: u32, suffix: &mut Vec<u32>) {
        let count = tree.totals[rank as usize];
        if count < self.min_count {
            return;
        }
        suffix.push(rank);
        self.emit(suffix, count);
        if suffix.len() < self.max_len {
            let mut conditional = self.spare_trees.pop().unwrap_or_else(|| FpTree::new(0));
            if tree.conditional(rank, self.min_count, &mut self.scratch, &mut conditional) {
                self.mine(&conditional, suffix);
            }
            self.spare_trees.push(conditional);
        }
        suffix.pop();
    }

    /// Emits `suffix` extended by each non-empty combination of `path` (ascending depth),
    /// up to `max_len` items. Counts only shrink down a path, so the last node chosen
    /// carries the count.
    fn combinations(&mut self, path: &[(u32, u32)], suffix: &mut Vec<u32>) {
        for (i, &(rank, count)) in path.iter().enumerate() {
            if count < self.min_count {
                // Deeper nodes only have smaller counts.
                break;
            }
            suffix.push(rank);
            self.emit(suffix, count);
            if suffix.len() < self.max_len {
                self.combinations(&path[i + 1..], suffix);
            }
            suffix.pop();
        }
    }

    fn emit(&mut self, ranks: &[u32], count: u32) {
        let mut items: Vec<Item> = ranks.iter().map(|&r| self.rank_to_item[r as usize]).collect();
        items.sort_unstable();
        self.found.push(Itemset {
            items,
            count,
            support: count as f64 / self.n_transactions as f64,
        });
    }
}

/// `items` sorted without duplicates: borrowed when it already is (as [`frequent_itemsets`]
/// returns itemsets), copied and normalised otherwise.
fn sorted_distinct(items: &[Item]) -> Cow<'_, [Item]> {
    if items.windows(2).all(|w| w[0] < w[1]) {
        Cow::Borrowed(items)
    } else {
        let mut items = items.to_vec();
        items.sort_unstable();
        items.dedup();
        Cow::Owned(items)
    }
}

/// Rules `A => {b}` from the frequent itemsets (`|A ∪ {b}| >= 2`, as arules' `minlen = 2`):
/// confidence = support(A∪b)/support(A), lift = confidence/support(b), coverage = support(A).
/// Keeps the rules meeting `min_confidence` and `min_lift`, built from itemsets that meet
/// `min_support` and `max_len` (so itemsets mined once at a low support can serve stricter
/// thresholds). Supports are looked up among `itemsets`, which must therefore hold every
/// subset of the itemsets given (as [`frequent_itemsets`] returns); a rule whose antecedent
/// or consequent is missing is skipped. Sorted by lift descending, confidence descending,
/// then antecedent and consequent ascending.
pub fn association_rules(itemsets: &[Itemset], n_transactions: usize, t: &MiningThresholds) -> Vec<Rule> {
    if n_transactions == 0 {
        return Vec::new();
    }
    let n = n_transactions as f64;
    // Keyed by the itemsets' own slices when they are sorted without duplicates, as
    // `frequent_itemsets` returns them; only other input is copied and normalised.
    let mut counts: FxHashMap<Cow<'_, [Item]>, u32> = FxHashMap::default();
    counts.reserve(itemsets.len());
    counts.extend(itemsets.iter().map(|s| (sorted_distinct(&s.items), s.count)));
    // Every candidate needs its consequent's count: an array saves half the hash look-ups.
    let n_items = counts
        .keys()
        .flat_map(|items| items.iter())
        .map(|&i| i as usize + 1)
        .max()
        .unwrap_or(0);
    let mut singleton_counts = vec![None; n_items];
    for (items, &count) in &counts {
        if let [item] = items[..] {
            singleton_counts[item as usize] = Some(count);
        }
    }

    // Each itemset's rules on their own, shared out among the cores; the sort below makes the
    // order the same as one thread's.
    let entries: Vec<(&Cow<'_, [Item]>, &u32)> = counts.iter().collect();
    let parts: Vec<Vec<Rule>> = entries
        .par_iter()
        .with_min_len(256)
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut rules, mut antecedent): (Vec<Rule>, Vec<Item>), &(items, &count)| {
                if items.len() < 2
                    || items.len() > t.max_len
                    || !meets_support(count, n_transactions, t.min_support)
                {
                    return (rules, antecedent);
                }
                for (skip, &consequent) in items.iter().enumerate() {
                    antecedent.clear();
                    antecedent.extend(
                        items
                            .iter()
                            .enumerate()
                            .filter(|&(j, _)| j != skip)
                            .map(|(_, &i)| i),
                    );
                    let (Some(&antecedent_count), Some(consequent_count)) = (
                        counts.get(&Cow::Borrowed(antecedent.as_slice())),
                        singleton_counts[consequent as usize],
                    ) else {
                        continue;
                    };
                    if antecedent_count == 0 || consequent_count == 0 {
                        continue;
                    }
                    // Each ratio straight from integer counts, rounded once, so that equal
                    // ratios give equal floats and the sort below breaks ties the same way
                    // every time.
                    let confidence = count as f64 / antecedent_count as f64;
                    let lift = (count as u64 * n_transactions as u64) as f64
                        / (antecedent_count as u64 * consequent_count as u64) as f64;
                    if confidence < t.min_confidence - THRESHOLD_EPSILON
                        || lift < t.min_lift - THRESHOLD_EPSILON
                    {
                        continue;
                    }
                    rules.push(Rule {
                        antecedent: antecedent.clone(),
                        consequent,
                        count,
                        support: count as f64 / n,
                        confidence,
                        lift,
                        coverage: antecedent_count as f64 / n,
                    });
                }
                (rules, antecedent)
            },
        )
        .map(|(rules, _)| rules)
        .collect();
    // One copy into a vector of the exact size, not a copy per pairwise merge.
    let mut rules = parts.concat();
    rules.par_sort_unstable_by(rule_order);
    rules
}

/// Strongest first: lift, then confidence, both descending; then antecedent
/// (lexicographically) and consequent ascending. No two rules compare equal.
fn rule_order(a: &Rule, b: &Rule) -> Ordering {
    b.lift
        .total_cmp(&a.lift)
        .then_with(|| b.confidence.total_cmp(&a.confidence))
        .then_with(|| a.antecedent.cmp(&b.antecedent))
        .then_with(|| a.consequent.cmp(&b.consequent))
}

/// Convenience: [`frequent_itemsets`] at `t.min_support` and `t.max_len`, then
/// [`association_rules`].
pub fn mine_rules(transactions: &[Vec<Item>], t: &MiningThresholds) -> (Vec<Itemset>, Vec<Rule>) {
    let itemsets = frequent_itemsets(transactions, t.min_support, t.max_len);
    let rules = association_rules(&itemsets, transactions.len(), t);
    (itemsets, rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::cmp::Ordering;
    use std::collections::HashMap;

    /// Five baskets over bread (0), milk (1), butter (2) and jam (3):
    ///
    /// ```text
    /// T1 {bread, milk}         item counts: bread 4, milk 4, butter 3, jam 2
    /// T2 {bread, milk, butter}  supports:    0.8      0.8     0.6       0.4
    /// T3 {bread, butter}
    /// T4 {milk, jam}           pairs: {bread,milk} 3 (T1,T2,T5) = 0.6
    /// T5 {all four}                   {bread,butter} 3 (T2,T3,T5) = 0.6
    ///                                 {milk,butter} 2 (T2,T5)     = 0.4
    ///                                 {milk,jam} 2 (T4,T5)        = 0.4
    ///                                 {bread,jam}, {butter,jam}: 1 (T5) = 0.2, infrequent
    ///                          triples: {bread,milk,butter} 2 (T2,T5) = 0.4;
    ///                                   the others hold only T5 = 0.2.
    /// ```
    ///
    /// At min support 0.4 (count >= 2): 4 singletons + 4 pairs + 1 triple = 9 itemsets.
    /// The 11 rules (conf = supp(A∪b)/supp(A), lift = conf/supp(b), coverage = supp(A)):
    ///
    /// ```text
    /// rule                    supp  conf  lift        coverage
    /// {milk,butter} => bread  0.4   1     1/0.8 = 1.25  0.4
    /// {butter} => bread       0.6   1     1.25          0.6
    /// {jam} => milk           0.4   1     1.25          0.4
    /// {bread} => butter       0.6   0.75  0.75/0.6 = 1.25  0.8
    /// {milk} => jam           0.4   0.5   0.5/0.4 = 1.25   0.8   (dropped at conf 0.6)
    /// {bread,milk} => butter  0.4   2/3   (2/3)/0.6 = 10/9  0.6
    /// {bread} => milk         0.6   0.75  0.75/0.8 = 0.9375 0.8
    /// {milk} => bread         0.6   0.75  0.9375        0.8
    /// {bread,butter} => milk  0.4   2/3   (2/3)/0.8 = 5/6  0.6
    /// {butter} => milk        0.4   2/3   5/6           0.6
    /// {milk} => butter        0.4   0.5   0.5/0.6 = 5/6  0.8   (dropped at conf 0.6)
    /// ```
    fn hand_baskets() -> Vec<Vec<Item>> {
        vec![
            vec![0, 1],
            vec![0, 1, 2],
            vec![0, 2],
            vec![1, 3],
            vec![0, 1, 2, 3],
        ]
    }

    /// (antecedent, consequent, count, support, confidence, lift, coverage)
    type ExpectedRule = (Vec<Item>, Item, u32, f64, f64, f64, f64);

    const BREAD: Item = 0;
    const MILK: Item = 1;
    const BUTTER: Item = 2;
    const JAM: Item = 3;

    fn thresholds(min_support: f64, min_confidence: f64, min_lift: f64, max_len: usize) -> MiningThresholds {
        MiningThresholds {
            min_support,
            min_confidence,
            min_lift,
            max_len,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    fn summary(itemsets: &[Itemset]) -> Vec<(Vec<Item>, u32)> {
        itemsets.iter().map(|s| (s.items.clone(), s.count)).collect()
    }

    #[test]
    fn hand_example_itemsets_have_the_counts_and_supports_worked_out_by_hand() {
        let itemsets = frequent_itemsets(&hand_baskets(), 0.4, 10);
        let expected: Vec<(Vec<Item>, u32, f64)> = vec![
            (vec![BREAD], 4, 0.8),
            (vec![MILK], 4, 0.8),
            (vec![BUTTER], 3, 0.6),
            (vec![JAM], 2, 0.4),
            (vec![BREAD, MILK], 3, 0.6),
            (vec![BREAD, BUTTER], 3, 0.6),
            (vec![MILK, BUTTER], 2, 0.4),
            (vec![MILK, JAM], 2, 0.4),
            (vec![BREAD, MILK, BUTTER], 2, 0.4),
        ];
        assert_eq!(itemsets.len(), expected.len(), "{itemsets:?}");
        for (got, (items, count, support)) in itemsets.iter().zip(&expected) {
            assert_eq!(&got.items, items);
            assert_eq!(got.count, *count, "{items:?}");
            assert!(close(got.support, *support), "{got:?}");
        }
    }

    #[test]
    fn hand_example_rules_have_the_measures_worked_out_by_hand_in_lift_order() {
        let (_, rules) = mine_rules(&hand_baskets(), &thresholds(0.4, 0.6, 0.0, 10));
        let expected: Vec<ExpectedRule> = vec![
            (vec![MILK, BUTTER], BREAD, 2, 0.4, 1.0, 1.25, 0.4),
            (vec![BUTTER], BREAD, 3, 0.6, 1.0, 1.25, 0.6),
            (vec![JAM], MILK, 2, 0.4, 1.0, 1.25, 0.4),
            (vec![BREAD], BUTTER, 3, 0.6, 0.75, 1.25, 0.8),
            (vec![BREAD, MILK], BUTTER, 2, 0.4, 2.0 / 3.0, 10.0 / 9.0, 0.6),
            (vec![BREAD], MILK, 3, 0.6, 0.75, 0.9375, 0.8),
            (vec![MILK], BREAD, 3, 0.6, 0.75, 0.9375, 0.8),
            (vec![BREAD, BUTTER], MILK, 2, 0.4, 2.0 / 3.0, 5.0 / 6.0, 0.6),
            (vec![BUTTER], MILK, 2, 0.4, 2.0 / 3.0, 5.0 / 6.0, 0.6),
        ];
        assert_eq!(rules.len(), expected.len(), "{rules:#?}");
        for (rule, (antecedent, consequent, count, support, confidence, lift, coverage)) in
            rules.iter().zip(&expected)
        {
            assert_eq!(
                (&rule.antecedent, rule.consequent, rule.count),
                (antecedent, *consequent, *count),
                "{rule:?}"
            );
            assert!(close(rule.support, *support), "{rule:?}");
            assert!(close(rule.confidence, *confidence), "{rule:?}");
            assert!(close(rule.lift, *lift), "{rule:?}");
            assert!(close(rule.coverage, *coverage), "{rule:?}");
        }
    }

    #[test]
    fn confidence_threshold_is_inclusive_and_zero_keeps_all_eleven_rules() {
        let (itemsets, _) = mine_rules(&hand_baskets(), &thresholds(0.4, 0.0, 0.0, 10));
        let all = association_rules(&itemsets, 5, &thresholds(0.4, 0.0, 0.0, 10));
        assert_eq!(all.len(), 11);
        let at_three_quarters = association_rules(&itemsets, 5, &thresholds(0.4, 0.75, 0.0, 10));
        assert_eq!(at_three_quarters.len(), 6);
        assert!(at_three_quarters.iter().all(|r| r.confidence >= 0.75));
    }

    #[test]
    fn min_lift_drops_rules_below_it_and_keeps_exact_ties() {
        let (_, rules) = mine_rules(&hand_baskets(), &thresholds(0.4, 0.6, 1.0, 10));
        assert_eq!(rules.len(), 5);
        assert!(rules.iter().all(|r| r.lift >= 1.0));
        let (_, rules) = mine_rules(&hand_baskets(), &thresholds(0.4, 0.0, 1.25, 10));
        let kept: Vec<(Vec<Item>, Item)> = rules
            .iter()
            .map(|r| (r.antecedent.clone(), r.consequent))
            .collect();
        assert_eq!(
            kept,
            vec![
                (vec![MILK, BUTTER], BREAD),
                (vec![BUTTER], BREAD),
                (vec![JAM], MILK),
                (vec![BREAD], BUTTER),
                (vec![MILK], JAM)
            ]
        );
    }

    #[test]
    fn a_repeated_item_counts_once_per_transaction() {
        let baskets = vec![vec![0, 0, 1], vec![0], vec![1, 1, 1], vec![1, 0, 1]];
        let itemsets = frequent_itemsets(&baskets, 0.0, 10);
        assert_eq!(
            summary(&itemsets),
            vec![(vec![0], 3), (vec![1], 3), (vec![0, 1], 2)]
        );
        let (_, rules) = mine_rules(&baskets, &thresholds(0.0, 0.0, 0.0, 10));
        assert!(rules.iter().all(|r| close(r.confidence, 2.0 / 3.0)), "{rules:?}");
    }

    #[test]
    fn empty_transactions_count_in_the_denominator() {
        let baskets = vec![vec![0], vec![], vec![], vec![0, 1]];
        let itemsets = frequent_itemsets(&baskets, 0.25, 10);
        assert_eq!(
            summary(&itemsets),
            vec![(vec![0], 2), (vec![1], 1), (vec![0, 1], 1)]
        );
        assert!(close(itemsets[0].support, 0.5));
        assert!(close(itemsets[2].support, 0.25));
        // Half of four baskets, not half of the two non-empty ones.
        assert_eq!(summary(&frequent_itemsets(&baskets, 0.5, 10)), vec![(vec![0], 2)]);
        let (_, rules) = mine_rules(&baskets, &thresholds(0.25, 0.0, 0.0, 10));
        let to_zero = rules.iter().find(|r| r.consequent == 0).unwrap();
        assert!(close(to_zero.lift, 1.0 / 0.5), "{to_zero:?}");
    }

    #[test]
    fn max_len_caps_the_itemsets_and_therefore_the_rules() {
        let baskets = hand_baskets();
        assert!(frequent_itemsets(&baskets, 0.4, 0).is_empty());
        let singletons = frequent_itemsets(&baskets, 0.4, 1);
        assert_eq!(singletons.len(), 4);
        assert!(singletons.iter().all(|s| s.items.len() == 1));
        let (pairs, rules) = mine_rules(&baskets, &thresholds(0.4, 0.0, 0.0, 2));
        assert_eq!(pairs.len(), 8);
        assert_eq!(rules.len(), 8);
        assert!(rules.iter().all(|r| r.antecedent.len() == 1));
        // A single-path tree goes through the shortcut; it must respect max_len too.
        let chain = vec![vec![0, 1, 2, 3]; 3];
        assert_eq!(frequent_itemsets(&chain, 0.5, 2).len(), 4 + 6);
        assert_eq!(frequent_itemsets(&chain, 0.5, 3).len(), 4 + 6 + 4);
        assert_eq!(frequent_itemsets(&chain, 0.5, 10).len(), 15);
    }

    #[test]
    fn support_threshold_compares_count_over_n_like_arules() {
        // 0.005 * 9835 = 49.175 and 0.001 * 9835 = 9.835: arules needs 50 and 10.
        assert_eq!(min_count(9835, 0.005), 50);
        assert_eq!(min_count(9835, 0.001), 10);
        // 0.3 * 10 is 3.0000000000000004 in floating point, but 3 / 10 >= 0.3 holds.
        assert_eq!(min_count(10, 0.3), 3);
        // A threshold carrying rounding noise still means 3 of 10.
        assert_eq!(min_count(10, 0.1 + 0.2), 3);
        assert_eq!(min_count(10, 0.0), 1);
        assert_eq!(min_count(10, 1.0), 10);
        assert_eq!(min_count(10, 1.5), 11);
        assert_eq!(min_count(10, f64::NAN), 11);
        assert_eq!(min_count(0, 0.1), 1);
        let baskets: Vec<Vec<Item>> = (0..10).map(|t| if t < 3 { vec![7] } else { vec![] }).collect();
        assert_eq!(summary(&frequent_itemsets(&baskets, 0.3, 10)), vec![(vec![7], 3)]);
        assert!(frequent_itemsets(&baskets, 0.31, 10).is_empty());
    }

    #[test]
    fn no_transactions_or_an_impossible_support_yield_nothing() {
        let t = thresholds(0.1, 0.0, 0.0, 10);
        assert_eq!(mine_rules(&[], &t), (vec![], vec![]));
        assert!(frequent_itemsets(&hand_baskets(), 1.01, 10).is_empty());
        assert!(association_rules(&frequent_itemsets(&hand_baskets(), 0.4, 10), 0, &t).is_empty());
    }

    #[test]
    fn rules_respect_a_stricter_support_than_the_itemsets_were_mined_at() {
        let itemsets = frequent_itemsets(&hand_baskets(), 0.2, 10);
        let strict = association_rules(&itemsets, 5, &thresholds(0.5, 0.0, 0.0, 10));
        assert!(strict.iter().all(|r| r.count >= 3), "{strict:?}");
        assert_eq!(strict.len(), 4);
    }

    #[test]
    fn a_rule_whose_antecedent_support_is_missing_is_skipped() {
        let itemset = |items: Vec<Item>, count: u32| Itemset {
            items,
            count,
            support: count as f64 / 5.0,
        };
        // {1, 2} is missing, so {1, 2} => 0 cannot be scored; the other rules can.
        let itemsets = vec![
            itemset(vec![0], 4),
            itemset(vec![1], 3),
            itemset(vec![2], 3),
            itemset(vec![0, 1], 3),
            itemset(vec![0, 2], 3),
            itemset(vec![0, 1, 2], 2),
        ];
        let rules = association_rules(&itemsets, 5, &thresholds(0.0, 0.0, 0.0, 10));
        let mut kept: Vec<(Vec<Item>, Item)> = rules
            .iter()
            .map(|r| (r.antecedent.clone(), r.consequent))
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            vec![
                (vec![0], 1),
                (vec![0], 2),
                (vec![0, 1], 2),
                (vec![0, 2], 1),
                (vec![1], 0),
                (vec![2], 0)
            ]
        );
    }

    /// Counts every subset of every transaction directly: the definition, with no tree.
    fn brute_force(transactions: &[Vec<Item>], min_support: f64, max_len: usize) -> Vec<(Vec<Item>, u32)> {
        let mut counts: HashMap<Vec<Item>, u32> = HashMap::new();
        for t in transactions {
            let mut items = t.clone();
            items.sort_unstable();
            items.dedup();
            for mask in 1u32..(1 << items.len()) {
                if mask.count_ones() as usize > max_len {
                    continue;
                }
                let subset: Vec<Item> = (0..items.len())
                    .filter(|&b| mask & (1 << b) != 0)
                    .map(|b| items[b])
                    .collect();
                *counts.entry(subset).or_default() += 1;
            }
        }
        let mut frequent: Vec<(Vec<Item>, u32)> = counts
            .into_iter()
            .filter(|&(_, c)| meets_support(c, transactions.len(), min_support))
            .collect();
        frequent.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
        frequent
    }

    #[test]
    fn fp_growth_agrees_with_brute_force_counting_on_random_baskets() {
        let mut rng = ChaCha8Rng::seed_from_u64(20240601);
        for round in 0..60 {
            let n_items = rng.gen_range(1..=10u32);
            let n_tx = rng.gen_range(0..=80usize);
            // Skewed item popularity so that trees have shared prefixes and single paths.
            let transactions: Vec<Vec<Item>> = (0..n_tx)
                .map(|_| {
                    let len = rng.gen_range(0..=n_items as usize + 2);
                    (0..len)
                        .map(|_| rng.gen_range(0..n_items).min(rng.gen_range(0..n_items)))
                        .collect()
                })
                .collect();
            for &min_support in &[0.0, 0.05, 0.1, 0.25, 0.5] {
                for &max_len in &[1usize, 2, 3, 10] {
                    let ours = frequent_itemsets(&transactions, min_support, max_len);
                    assert_eq!(
                        summary(&ours),
                        brute_force(&transactions, min_support, max_len),
                        "round {round}, support {min_support}, max_len {max_len}: {transactions:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn rules_come_out_in_the_same_order_every_time() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let transactions: Vec<Vec<Item>> = (0..200)
            .map(|_| (0..rng.gen_range(1..6)).map(|_| rng.gen_range(0..8)).collect())
            .collect();
        let t = thresholds(0.02, 0.1, 0.0, 4);
        let (_, first) = mine_rules(&transactions, &t);
        assert!(first.len() > 20);
        for _ in 0..5 {
            assert_eq!(mine_rules(&transactions, &t).1, first);
        }
        assert!(first
            .windows(2)
            .all(|w| rule_order(&w[0], &w[1]) == Ordering::Less));
    }

    #[test]
    fn thresholds_and_rules_round_trip_through_json() {
        let t = thresholds(0.01, 0.2, 1.0, 3);
        let back: MiningThresholds = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let (_, rules) = mine_rules(&hand_baskets(), &thresholds(0.4, 0.6, 0.0, 10));
        let back: Vec<Rule> = serde_json::from_str(&serde_json::to_string(&rules).unwrap()).unwrap();
        assert_eq!(back, rules);
    }
}
