//! Settings of the recommendation models that the config holds: how much each block of a
//! product vector counts, and how co-purchase neighbours are ranked. Plain values, checked
//! when the config loads; `recommend` builds its models from them.

use serde::{Deserialize, Serialize};

/// How much each block of a product vector counts. A block's share of the cosine of two
/// products is its weight divided by the sum of the weights of the blocks they have.
///
/// The defaults make "what it is" (category, attributes such as form and flavour, the words
/// of its name) count twice as much as "how much of it, for how much" (price, pack): seed 000's
/// shop sells serundeng, tepung and sambal at similar prices, and a shopper looking at
/// Serundeng Lengkuas wants other serundeng first, the cheaper or bigger one second. Price and
/// pack still break ties between otherwise alike products, which is what an up-sell needs.
/// A weight of 0 turns its block off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureWeights {
    pub category: f32,
    pub price: f32,
    pub pack: f32,
    pub attributes: f32,
    pub name: f32,
}

impl Default for FeatureWeights {
    fn default() -> Self {
        Self {
            category: 1.0,
            price: 0.5,
            pack: 0.5,
            attributes: 1.0,
            name: 1.0,
        }
    }
}

/// A feature weight that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureWeightsError {
    #[error(
        "feature weight {block} = {value} is not usable: use a finite number ≥ 0 (0 turns the block off)"
    )]
    Invalid { block: &'static str, value: f32 },
    #[error("every feature weight is 0: give at least one of category, price, pack, attributes, name a positive weight")]
    AllZero,
}

impl FeatureWeights {
    /// Checks the weights as read from config: each finite and ≥ 0, at least one positive.
    pub fn validate(&self) -> Result<(), FeatureWeightsError> {
        for block in Block::ALL {
            let value = self.of(block);
            if !value.is_finite() || value < 0.0 {
                return Err(FeatureWeightsError::Invalid {
                    block: block.label(),
                    value,
                });
            }
        }
        if Block::ALL.iter().all(|&b| self.of(b) == 0.0) {
            return Err(FeatureWeightsError::AllZero);
        }
        Ok(())
    }

    /// The weight of one block.
    pub fn of(&self, block: Block) -> f32 {
        match block {
            Block::Price => self.price,
            Block::Pack => self.pack,
            Block::Category => self.category,
            Block::Attributes => self.attributes,
            Block::Name => self.name,
        }
    }

    /// The weight actually used: a negative or non-finite weight (which `validate` refuses)
    /// turns its block off rather than poisoning every vector.
    pub fn effective(&self, block: Block) -> f64 {
        let w = self.of(block);
        if w.is_finite() && w > 0.0 {
            f64::from(w)
        } else {
            0.0
        }
    }
}

/// The blocks a product vector is made of, in index order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Block {
    Price,
    Pack,
    Category,
    Attributes,
    Name,
}

impl Block {
    pub const ALL: [Block; 5] = [
        Block::Price,
        Block::Pack,
        Block::Category,
        Block::Attributes,
        Block::Name,
    ];

    /// The name used in config and error messages.
    pub fn label(self) -> &'static str {
        match self {
            Block::Price => "price",
            Block::Pack => "pack",
            Block::Category => "category",
            Block::Attributes => "attributes",
            Block::Name => "name",
        }
    }
}

/// How neighbours are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoSimilarity {
    /// Cosine on co-occurrence counts, shrunk by c / (c + λ).
    #[default]
    Cosine,
    /// Lower bound of the lift, among pairs met at least `min_count` times.
    Lift,
}
