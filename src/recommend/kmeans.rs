//! Exact one-dimensional k-means, and the silhouette score to pick k.
