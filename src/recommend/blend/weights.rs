//! The signals the blend sums, and the weights it sums them with.

use serde::{Deserialize, Serialize};

/// Number of signals.
pub const SIGNALS: usize = 8;
/// Signal names, in the order of [`Weights::as_array`].
pub const SIGNAL_NAMES: [&str; SIGNALS] = [
    "co_purchase",
    "co_confidence",
    "content",
    "category_popular",
    "popular",
    "repurchase",
    "due",
    "similar_baskets",
];
/// Positions of the signals in a signal array.
pub mod sig {
    pub const CO_PURCHASE: usize = 0;
    pub const CO_CONFIDENCE: usize = 1;
    pub const CONTENT: usize = 2;
    pub const CATEGORY_POPULAR: usize = 3;
    pub const POPULAR: usize = 4;
    pub const REPURCHASE: usize = 5;
    pub const DUE: usize = 6;
    pub const SIMILAR_BASKETS: usize = 7;
}

/// A weight per signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub co_purchase: f32,
    #[serde(default)]
    pub co_confidence: f32,
    pub content: f32,
    pub category_popular: f32,
    pub popular: f32,
    pub repurchase: f32,
    pub due: f32,
    #[serde(default)]
    pub similar_baskets: f32,
}

impl Weights {
    /// Product pages before any fit: buying patterns first, then likeness and popularity.
    pub const ITEM_DEFAULT: Weights = Weights {
        co_purchase: 1.0,
        co_confidence: 0.3,
        content: 0.3,
        category_popular: 0.2,
        popular: 0.2,
        repurchase: 0.0,
        due: 0.0,
        similar_baskets: 0.3,
    };
    /// A signed-in customer's list before any fit: their own products first.
    pub const PERSONAL_DEFAULT: Weights = Weights {
        co_purchase: 0.5,
        co_confidence: 0.0,
        content: 0.1,
        category_popular: 0.0,
        popular: 0.2,
        repurchase: 1.0,
        due: 0.3,
        similar_baskets: 0.0,
    };
    /// When no blend beats best-sellers: best-sellers, co-purchase breaking their ties.
    pub const BEST_SELLERS: Weights = Weights {
        co_purchase: 0.1,
        co_confidence: 0.0,
        content: 0.0,
        category_popular: 0.0,
        popular: 1.0,
        repurchase: 0.0,
        due: 0.0,
        similar_baskets: 0.0,
    };

    pub fn as_array(&self) -> [f32; SIGNALS] {
        [
            self.co_purchase,
            self.co_confidence,
            self.content,
            self.category_popular,
            self.popular,
            self.repurchase,
            self.due,
            self.similar_baskets,
        ]
    }

    pub fn from_array(a: [f32; SIGNALS]) -> Weights {
        Weights {
            co_purchase: a[0],
            co_confidence: a[1],
            content: a[2],
            category_popular: a[3],
            popular: a[4],
            repurchase: a[5],
            due: a[6],
            similar_baskets: a[7],
        }
    }

    /// Scaled so that the largest weight is 1 (scores rank the same).
    pub(super) fn normalised(self) -> Weights {
        let a = self.as_array();
        let max = a.iter().copied().fold(0.0f32, f32::max);
        if max <= 0.0 {
            return self;
        }
        Weights::from_array(a.map(|w| (w / max * 1000.0).round() / 1000.0))
    }

    /// The weighted sum of a candidate's signals.
    pub fn score(&self, s: &[f32; SIGNALS]) -> f32 {
        self.as_array().iter().zip(s).map(|(w, x)| w * x).sum()
    }
}
