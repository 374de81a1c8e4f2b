//! The blended ranker: one score per candidate product, a weighted sum of normalised signals,
//! with the weights fitted per shop at every rebuild on the shop's own orders.
//!
//! **Signals** (each in [0, 1]):
//!
//! | signal | what it measures | where it comes from |
//! |---|---|---|
//! | `co_purchase` | bought in the same basket as the context | Σ of the [`super::copurchase`] scores (shrunk cosine) over the context products, divided by the best candidate's |
//! | `co_confidence` | often joins the context's baskets | Σ of the confidences c(i, j)/n(i) over the context products, divided by the best candidate's: unlike the cosine it favours partners that are popular in their own right, and the fit decides how much of each |
//! | `content` | alike in what it is | the similar-products lists ([`super::similar`]), pairs with real evidence only, mean over the context |
//! | `category_popular` | a best-seller in the context's categories | ln(1 + units) over the category's best |
//! | `popular` | a best-seller of the shop | ln(1 + units) over the shop's best |
//! | `repurchase` | the customer's own product, bought often | ln(1 + orders with it) over their most-bought product's |
//! | `similar_baskets` | in the earlier baskets most like the context | the 500 baskets (of the latest 2,000 holding each context product) with the most overlap / √(sizes) vote for their other products; votes over the best vote |
//! | `due` | the customer's own product, due again | elapsed days since they last bought it against the product's usual interval: min(r, 1/r) |
//!
//! A query has a *context* (the viewed product and the cart; in evaluation the rest of a
//! basket) and, for a signed-in customer, their *history*. Candidates are the co-purchase
//! neighbours and similar products of the context (and of the history), the best-sellers of
//! the context's categories and of the shop, and the history itself.
//!
//! **The fit** ([`fit`](fit())). The shop's purchases are split in time: the earlier 80 % build the
//! signals, the latest 20 % are validation. Two kinds of validation case, as `laris eval`
//! makes them: *basket completion* (one product of a basket hidden, drawn by a fixed seed; the
//! rest is the context; for product pages) and *next order* (a customer's earlier purchases
//! predict the order; for the personal list, repurchases allowed). The signals of every
//! candidate of every case are computed once; a coordinate search then tries each weight on a
//! grid, keeps the value with the best mean NDCG@5 (ties: the smaller weight), and repeats
//! until nothing improves. The fitted weights are shrunk toward the defaults by
//! cases / (cases + 200), so a shop with little data stays near them; a signal that never
//! fires on the shop's validation cases (no product has a similar product with real evidence,
//! no categories) gets weight 0. If the fitted blend does
//! not beat best-sellers on validation, the list serves best-sellers plus co-purchase
//! (`popular` 1, `co_purchase` 0.1) and the fit says so. Deterministic: the same orders give
//! the same weights.

mod data;
mod fit;
mod rank;
mod weights;

pub use data::{add_to_history, histories_at, Basket, BlendData, Csr, HistoryItem};
pub use fit::{fit, BlendFit, BlendMode, Figures, ListFit, FIT_N};
pub use rank::{candidates, content_evidence, rank, rank_candidates, Candidate, Query, Ranked};
pub use weights::{sig, Weights, SIGNALS, SIGNAL_NAMES};
