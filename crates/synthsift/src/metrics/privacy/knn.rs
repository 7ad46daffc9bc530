//! Exact nearest and second-nearest neighbour distances (Euclidean).
//!
//! Method, chosen by measurement on the shared data (≈150k × 150k per pass,
//! 4–25 encoded dimensions, see the module docs of `privacy`): identical
//! reference rows are merged first (encoded tables hold many exact
//! duplicates, and a duplicate means "nearest = second nearest"), then a
//! k-d tree over the distinct rows is searched for every query row, in
//! parallel over fixed chunks of queries. The search is exact: a subtree is
//! skipped only when its cell is farther than the current second-best
//! distance (plus a slack covering the rounding of the cell bound).
//! Distances are sums of squared coordinate differences in dimension order,
//! in f64, then a square root — the same arithmetic as scikit-learn's
//! trees, so exact ties stay exact ties.
//!
//! Speed-ups, all exact (measured on the shared sequential data, 18 dims,
//! 154k × 154k, 7 column groups: whole privacy part 54 s → 29 s wall on 2
//! idle cores, every figure of the JSON output unchanged): queries are
//! processed in the order of the tree leaf they fall into, each query's
//! bound starts at its exact distances to the previous query's two
//! neighbours (a nearby query has nearby neighbours, so far cells are
//! skipped from the start), a query row equal to the previous one copies
//! its result, and a leaf row is dropped as soon as its partial sum reaches
//! the bound.
//!
//! From [`TILE_DIMS`] dimensions on, [`dcr_nndr`] uses distance tiles
//! instead (`tiles`), which report the same distances.

use rayon::prelude::*;

const LEAF: usize = 12;

struct Node {
    start: u32,
    end: u32,
    /// Split dimension, or `u32::MAX` for a leaf.
    dim: u32,
    split: f64,
    left: u32,
    right: u32,
}

/// A k-d tree over distinct reference rows with their multiplicities.
pub struct KdTree {
    d: usize,
    points: Vec<f64>,
    counts: Vec<u32>,
    nodes: Vec<Node>,
    /// Largest absolute coordinate, to size the rounding slack of the search.
    max_abs: f64,
}

impl KdTree {
    /// Builds the tree over the `n × d` row-major `data`.
    pub fn new(data: &[f64], d: usize) -> KdTree {
        let (points, counts) = distinct_rows(data, d);
        let max_abs = points.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let mut tree = KdTree {
            d,
            points,
            counts,
            nodes: Vec::new(),
            max_abs,
        };
        let m = tree.counts.len();
        if m > 0 {
            tree.build(0, m);
        }
        tree
    }

    fn build(&mut self, start: usize, end: usize) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            start: start as u32,
            end: end as u32,
            dim: u32::MAX,
            split: 0.0,
            left: 0,
            right: 0,
        });
        if end - start <= LEAF || self.d == 0 {
            return id;
        }
        let d = self.d;
        // split on the dimension of largest spread
        let (mut best, mut spread) = (0, -1.0);
        for k in 0..d {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for i in start..end {
                let v = self.points[i * d + k];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi - lo > spread {
                spread = hi - lo;
                best = k;
            }
        }
        if spread <= 0.0 {
            return id;
        }
        // median split: reorder rows (with their counts) around the median
        let mid = (start + end) / 2;
        let mut idx: Vec<usize> = (start..end).collect();
        idx.select_nth_unstable_by(mid - start, |&a, &b| {
            self.points[a * d + best].total_cmp(&self.points[b * d + best])
        });
        let split = self.points[idx[mid - start] * d + best];
        let mut pts = Vec::with_capacity((end - start) * d);
        let mut cnt = Vec::with_capacity(end - start);
        for &i in &idx {
            pts.extend_from_slice(&self.points[i * d..(i + 1) * d]);
            cnt.push(self.counts[i]);
        }
        self.points[start * d..end * d].copy_from_slice(&pts);
        self.counts[start..end].copy_from_slice(&cnt);
        let left = self.build(start, mid);
        let right = self.build(mid, end);
        let node = &mut self.nodes[id as usize];
        node.dim = best as u32;
        node.split = split;
        node.left = left;
        node.right = right;
        id
    }

    /// Squared distances to the nearest and second-nearest reference row
    /// (a row present twice gives both). `INFINITY` when there are fewer rows.
    #[cfg(test)]
    fn query2(&self, q: &[f64]) -> (f64, f64) {
        let b = self.query2_seeded(q, &[]);
        (b.d1, b.d2)
    }

    /// [`Self::query2`], with the search bound seeded from the exact
    /// distances to the reference rows `seed` (typically the neighbours of
    /// the previous, nearby query). The seed only narrows the search: the
    /// bound starts just above the second-smallest seed distance, so the
    /// rows found are those the unseeded search finds.
    fn query2_seeded(&self, q: &[f64], seed: &[u32]) -> Best {
        let d = self.d;
        let (mut s1, mut s2) = (f64::INFINITY, f64::INFINITY);
        for &i in seed {
            if i == u32::MAX {
                continue;
            }
            let i = i as usize;
            let s = sq_dist(q, &self.points[i * d..(i + 1) * d]);
            if s < s1 {
                s2 = if self.counts[i] > 1 { s } else { s1 };
                s1 = s;
            } else if s < s2 {
                s2 = s;
            }
        }
        // two placeholder rows just beyond the seeded bound: every row at
        // distance <= s2 still enters, so the true neighbours replace them
        let bound = if s2.is_finite() {
            // the next f64 above s2 (>= 0); `f64::next_up` needs Rust 1.86
            f64::from_bits(s2.abs().to_bits() + 1)
        } else {
            f64::INFINITY
        };
        let mut best = Best {
            d1: bound,
            d2: bound,
            i1: u32::MAX,
            i2: u32::MAX,
        };
        if !self.nodes.is_empty() {
            // the cell bound `rd` is accumulated incrementally and may round
            // above the exact distance of a row inside; a cell is skipped only
            // when it is beyond the bound by more than that rounding can reach
            let scale = q.iter().fold(self.max_abs, |m, x| m.max(x.abs()));
            let slack = 1e-12 * (d as f64 + 8.0) * (2.0 * scale) * (2.0 * scale);
            let mut off = vec![0.0; d];
            self.search(0, q, 0.0, &mut off, slack, &mut best);
        }
        best
    }

    /// Index of the first row of the leaf `q` falls into: an order of the
    /// queries in which consecutive ones are close.
    fn leaf_of(&self, q: &[f64]) -> u32 {
        if self.nodes.is_empty() {
            return 0;
        }
        let mut id = 0usize;
        loop {
            let n = &self.nodes[id];
            if n.dim == u32::MAX {
                return n.start;
            }
            id = if q[n.dim as usize] - n.split < 0.0 {
                n.left
            } else {
                n.right
            } as usize;
        }
    }

    /// `rd` is a lower bound of the squared distance from `q` to the node's
    /// cell, built from the per-dimension offsets `off` (Arya & Mount's
    /// incremental distance), so far cells are skipped sooner than by the
    /// splitting plane alone. (Tight per-node bounding boxes were measured
    /// too: 11% more CPU time on the shared sequential data.)
    fn search(&self, node: u32, q: &[f64], rd: f64, off: &mut [f64], slack: f64, best: &mut Best) {
        let n = &self.nodes[node as usize];
        if n.dim == u32::MAX {
            let d = self.d;
            for i in n.start as usize..n.end as usize {
                let p = &self.points[i * d..(i + 1) * d];
                // partial sums only grow, so a row whose partial sum already
                // reaches the bound cannot enter; checked every 4 dimensions
                let mut s = 0.0;
                let mut k = 0;
                while k < d {
                    let e = (k + 4).min(d);
                    for j in k..e {
                        let t = q[j] - p[j];
                        s += t * t;
                    }
                    if s >= best.d2 {
                        break;
                    }
                    k = e;
                }
                if s < best.d2 {
                    if s < best.d1 {
                        if self.counts[i] > 1 {
                            best.d2 = s;
                            best.i2 = i as u32;
                        } else {
                            best.d2 = best.d1;
                            best.i2 = best.i1;
                        }
                        best.d1 = s;
                        best.i1 = i as u32;
                    } else {
                        best.d2 = s;
                        best.i2 = i as u32;
                    }
                }
            }
            return;
        }
        let dim = n.dim as usize;
        let diff = q[dim] - n.split;
        let (near, far) = if diff < 0.0 {
            (n.left, n.right)
        } else {
            (n.right, n.left)
        };
        self.search(near, q, rd, off, slack, best);
        let old = off[dim];
        let far_rd = rd - old * old + diff * diff;
        if far_rd <= best.d2 + slack {
            off[dim] = diff;
            self.search(far, q, far_rd, off, slack, best);
            off[dim] = old;
        }
    }
}

/// The two nearest rows found so far: squared distances and row indices
/// (`u32::MAX` for none).
#[derive(Clone, Copy)]
struct Best {
    d1: f64,
    d2: f64,
    i1: u32,
    i2: u32,
}

/// The distinct rows of the `n × d` row-major `data` (in lexicographic
/// order) and how often each occurs. Both neighbour searches work on these:
/// a row present twice is its copy's nearest and second-nearest neighbour.
pub(super) fn distinct_rows(data: &[f64], d: usize) -> (Vec<f64>, Vec<u32>) {
    let n = data.len().checked_div(d).unwrap_or(0);
    let row = |i: usize| &data[i * d..(i + 1) * d];
    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_unstable_by(|&a, &b| lex_cmp(row(a), row(b)));
    let mut points = Vec::with_capacity(n * d);
    let mut counts: Vec<u32> = Vec::new();
    let mut prev: Option<usize> = None;
    for &i in &order {
        if prev.is_some_and(|p| row(p) == row(i)) {
            *counts.last_mut().unwrap() += 1;
            continue;
        }
        points.extend_from_slice(row(i));
        counts.push(1);
        prev = Some(i);
    }
    (points, counts)
}

/// Sum of squared coordinate differences in dimension order: the one
/// formula every reported distance comes from.
pub(super) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let t = x - y;
        s += t * t;
    }
    s
}

/// Queries per parallel work item.
const CHUNK: usize = 1024;

/// For each row of `query` (`m × d`), the distance to its nearest row in
/// `data` (`n × d`) and the NNDR `(d1 + 1e-8) / (d2 + 1e-8)`, as
/// mostlyai-qa's `calculate_dcrs_nndrs`.
pub fn dcr_nndr(data: &[f64], query: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let d2 = if d >= TILE_DIMS {
        super::tiles::nearest2(data, query, d)
    } else {
        tree_nearest2(data, query, d)
    };
    let dcr: Vec<f64> = d2.iter().map(|o| o.0.sqrt()).collect();
    let nndr = d2
        .iter()
        .map(|o| (o.0.sqrt() + 1e-8) / (o.1.sqrt() + 1e-8))
        .collect();
    (dcr, nndr)
}

/// From this many dimensions on, distance tiles ([`super::tiles`]) replace the tree.
pub const TILE_DIMS: usize = 32;

/// Squared nearest and second-nearest distances by the k-d tree.
fn tree_nearest2(data: &[f64], query: &[f64], d: usize) -> Vec<(f64, f64)> {
    let tree = KdTree::new(data, d);
    let m = query.len().checked_div(d).unwrap_or(0);
    let qrow = |i: usize| &query[i * d..(i + 1) * d];

    // 1. queries in leaf order (then by value, so copies are adjacent)
    let leaf: Vec<u32> = (0..m)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|i| tree.leaf_of(qrow(i)))
        .collect();
    let mut order: Vec<u32> = (0..m as u32).collect();
    order.par_sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        leaf[a]
            .cmp(&leaf[b])
            .then_with(|| lex_cmp(qrow(a), qrow(b)))
    });

    // 2. search; each query's bound is seeded by the previous query's
    // neighbours, a repeated query row copies the previous result
    let mut sorted = vec![(0.0, 0.0); m];
    sorted
        .par_chunks_mut(CHUNK)
        .zip(order.par_chunks(CHUNK))
        .for_each(|(out, idx)| {
            let mut prev: Option<(usize, Best)> = None;
            for (o, &i) in out.iter_mut().zip(idx) {
                let q = qrow(i as usize);
                let b = match prev {
                    Some((p, b)) if qrow(p) == q => b,
                    Some((_, b)) => tree.query2_seeded(q, &[b.i1, b.i2]),
                    None => tree.query2_seeded(q, &[]),
                };
                *o = (b.d1, b.d2);
                prev = Some((i as usize, b));
            }
        });
    let mut out = vec![(0.0, 0.0); m];
    for (&i, &r) in order.iter().zip(&sorted) {
        out[i as usize] = r;
    }
    out
}

fn lex_cmp(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn brute(data: &[f64], q: &[f64], d: usize) -> (f64, f64) {
        let mut v: Vec<f64> = data
            .chunks(d)
            .map(|p| p.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .collect();
        v.sort_by(f64::total_cmp);
        (v[0], v[1])
    }

    #[test]
    fn matches_brute_force_with_duplicates() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for d in [1usize, 3, 8] {
            // coarse grid values give many duplicates and ties
            let data: Vec<f64> = (0..600 * d)
                .map(|_| rng.random_range(0..5) as f64 / 4.0)
                .collect();
            let query: Vec<f64> = (0..200 * d)
                .map(|_| rng.random_range(0..9) as f64 / 8.0)
                .collect();
            let tree = KdTree::new(&data, d);
            for q in query.chunks(d) {
                assert_eq!(tree.query2(q), brute(&data, q, d));
            }
        }
    }

    /// Every query path (seeded, copied, leaf-ordered) against brute force
    /// on coarse grid data: many duplicate rows, copies and ties.
    #[test]
    fn dcr_nndr_matches_brute_force_in_1_to_100_dims() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for d in [1usize, 2, 3, 5, 8, 13, 18, 24, 31, 47, 64, 100] {
            let levels = if d <= 3 { 4 } else { 2 };
            let n = 400;
            let mut data: Vec<f64> = (0..n * d)
                .map(|_| rng.random_range(0..=levels) as f64 / levels as f64 - 0.5)
                .collect();
            // a row present twice: nearest == second nearest for its copy
            let dup = data[..d].to_vec();
            data.extend_from_slice(&dup);
            let mut query: Vec<f64> = (0..300 * d)
                .map(|_| rng.random_range(0..=2 * levels) as f64 / (2 * levels) as f64 - 0.5)
                .collect();
            // exact copies of reference rows, and repeated query rows
            for r in 0..20 {
                let j = rng.random_range(0..n);
                query[r * d..(r + 1) * d].copy_from_slice(&data[j * d..(j + 1) * d]);
            }
            let rep = query[..5 * d].to_vec();
            query.extend_from_slice(&rep);
            query.extend_from_slice(&dup);
            let (dcr, nndr) = dcr_nndr(&data, &query, d);
            for (i, q) in query.chunks(d).enumerate() {
                let (a, b) = brute(&data, q, d);
                assert_eq!(dcr[i].to_bits(), a.sqrt().to_bits(), "d={d} row {i}");
                let want = (a.sqrt() + 1e-8) / (b.sqrt() + 1e-8);
                assert_eq!(nndr[i].to_bits(), want.to_bits(), "d={d} row {i}");
            }
            assert!(dcr[..20].iter().all(|&x| x == 0.0), "exact copies, d={d}");
            let last = dcr.len() - 1;
            assert_eq!(dcr[last], 0.0);
            assert_eq!(nndr[last], 1.0, "duplicated reference row: d1 == d2");
        }
    }

    #[test]
    fn a_copy_has_distance_zero() {
        let data = [0.0, 0.0, 1.0, 1.0, 2.0, 0.5];
        let (dcr, nndr) = dcr_nndr(&data, &[1.0, 1.0], 2);
        assert_eq!(dcr, vec![0.0]);
        assert!(nndr[0] < 1e-7);
    }
}
