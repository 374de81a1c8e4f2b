//! Frequent itemsets and one-consequent association rules mined from shop orders: the
