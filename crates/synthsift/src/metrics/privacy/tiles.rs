//! Exact nearest and second-nearest neighbours by blocked distance tiles,
//! for many dimensions (where a k-d tree prunes little).
//!
//! Squared distances are screened in f32 as `‖q‖² + ‖t‖² − 2·q·t`, the dot
//! products of a block of queries with a block of reference rows coming from
//! one `sgemm` call. f32 is off by at most a margin `m` per query (a rounding
//! bound from the dimension and the row norms), so every reference row whose
//! screened value is within `2m` of the running second-smallest screened
//! value is kept as a candidate: no row among the exact two nearest can be
//! screened out. The candidates are then measured exactly, with the same f64
//! formula as the k-d tree ([`super::knn`]), so both paths report the same
//! distances to the last bit. Identical reference rows are merged first and
//! counted, so a duplicated row is both nearest and second nearest.

use rayon::prelude::*;

use super::knn::{distinct_rows, sq_dist};

/// Queries per tile (and per parallel work item).
const QUERY_BLOCK: usize = 64;
/// Reference rows per tile.
const DATA_BLOCK: usize = 2048;

/// Squared distances from each row of `query` (`m × d`) to its nearest and
/// second-nearest row of `data` (`n × d`); `INFINITY` where `data` has fewer rows.
pub(super) fn nearest2(data: &[f64], query: &[f64], d: usize) -> Vec<(f64, f64)> {
    let m = query.len().checked_div(d).unwrap_or(0);
    let n = data.len().checked_div(d).unwrap_or(0);
    if m == 0 || n == 0 {
        return vec![(f64::INFINITY, f64::INFINITY); m];
    }
    let (pts, counts) = distinct_rows(data, d);
    let u = counts.len();
    let pts32: Vec<f32> = pts.iter().map(|&x| x as f32).collect();
    let norms32: Vec<f32> = pts32
        .chunks(d)
        .map(|r| r.iter().map(|x| x * x).sum())
        .collect();
    let max_norm2 = pts
        .chunks(d)
        .map(|r| r.iter().map(|x| x * x).sum::<f64>())
        .fold(0.0, f64::max);
    // Rounding of the screened value, with unit roundoff u = 2⁻²⁴: the
    // conversion to f32 moves it by ≤ 4u(‖q‖² + ‖t‖²), the norms and the dot
    // product (d terms each) by ≤ 2γ_d(‖q‖² + ‖t‖²) with γ_d ≈ d·u, and the
    // three final operations by ≤ 6u of the same. 4(d + 8)u bounds the sum.
    let unit = f64::from(f32::EPSILON) / 2.0;
    let slack = 4.0 * (d as f64 + 8.0) * unit;

    let mut out = vec![(f64::INFINITY, f64::INFINITY); m];
    out.par_chunks_mut(QUERY_BLOCK)
        .enumerate()
        .for_each(|(c, out)| {
            let bq = out.len();
            let q64 = &query[c * QUERY_BLOCK * d..(c * QUERY_BLOCK + bq) * d];
            let q32: Vec<f32> = q64.iter().map(|&x| x as f32).collect();
            let qn: Vec<f32> = q32
                .chunks(d)
                .map(|r| r.iter().map(|x| x * x).sum())
                .collect();
            // twice the margin, rounded up generously into f32
            let band: Vec<f32> = q64
                .chunks(d)
                .map(|r| {
                    let n2 = r.iter().map(|x| x * x).sum::<f64>();
                    (4.0 * slack * (n2 + max_norm2)) as f32
                })
                .collect();
            let mut a1 = vec![f32::INFINITY; bq];
            let mut a2 = vec![f32::INFINITY; bq];
            let mut cand: Vec<Vec<(f32, u32)>> = vec![Vec::new(); bq];
            let mut tile = vec![0f32; bq * DATA_BLOCK];
            for t0 in (0..u).step_by(DATA_BLOCK) {
                let bt = DATA_BLOCK.min(u - t0);
                // SAFETY: a is bq × d row-major (q32), b is d × bt read as the
                // transpose of the bt × d row-major block at t0, c is bq × bt
                // row-major; all three slices hold at least that many values.
                unsafe {
                    matrixmultiply::sgemm(
                        bq,
                        d,
                        bt,
                        1.0,
                        q32.as_ptr(),
                        d as isize,
                        1,
                        pts32[t0 * d..].as_ptr(),
                        1,
                        d as isize,
                        0.0,
                        tile.as_mut_ptr(),
                        bt as isize,
                        1,
                    );
                }
                for i in 0..bq {
                    let dots = &tile[i * bt..(i + 1) * bt];
                    let mut limit = a2[i] + band[i];
                    for (j, &dot) in dots.iter().enumerate() {
                        let a = qn[i] + norms32[t0 + j] - 2.0 * dot;
                        if a <= limit {
                            cand[i].push((a, (t0 + j) as u32));
                            if a < a1[i] {
                                a2[i] = if counts[t0 + j] > 1 { a } else { a1[i] };
                                a1[i] = a;
                            } else if a < a2[i] {
                                a2[i] = a;
                            }
                            limit = a2[i] + band[i];
                        }
                    }
                    if cand[i].len() > 256 {
                        cand[i].retain(|&(a, _)| a <= limit);
                    }
                }
            }
            // exact distances of the candidates, as the k-d tree measures them
            for i in 0..bq {
                let q = &q64[i * d..(i + 1) * d];
                let limit = a2[i] + band[i];
                let (mut d1, mut d2) = (f64::INFINITY, f64::INFINITY);
                for &(a, j) in &cand[i] {
                    if a > limit {
                        continue;
                    }
                    let j = j as usize;
                    let s = sq_dist(q, &pts[j * d..(j + 1) * d]);
                    if s < d1 {
                        d2 = if counts[j] > 1 { s } else { d1 };
                        d1 = s;
                    } else if s < d2 {
                        d2 = s;
                    }
                }
                out[i] = (d1, d2);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn brute(data: &[f64], q: &[f64], d: usize) -> (f64, f64) {
        let mut v: Vec<f64> = data.chunks(d).map(|p| sq_dist(q, p)).collect();
        v.sort_by(f64::total_cmp);
        (v[0], v.get(1).copied().unwrap_or(f64::INFINITY))
    }

    #[test]
    fn equals_brute_force_across_tiles_with_near_ties_and_copies() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (d, scale) in [(1usize, 1.0), (4, 1.0), (17, 1.0), (40, 30.0), (121, 1.0)] {
            // more reference rows than one tile, a ragged last query block
            let n = DATA_BLOCK + 300;
            let mut data: Vec<f64> = (0..n * d)
                .map(|_| scale * (rng.random::<f64>() - 0.5))
                .collect();
            // near ties: rows a hair apart (far below the f32 screen's resolution)
            for r in 0..50 {
                let (src, dst) = (r * d, (n - 1 - r) * d);
                for k in 0..d {
                    data[dst + k] = data[src + k] + if k == 0 { 1e-9 } else { 0.0 };
                }
            }
            let dup = data[d..2 * d].to_vec();
            data.extend_from_slice(&dup);
            let mut query: Vec<f64> = (0..(2 * QUERY_BLOCK + 7) * d)
                .map(|_| scale * (rng.random::<f64>() - 0.5))
                .collect();
            for r in 0..10 {
                let j = rng.random_range(0..n);
                query[r * d..(r + 1) * d].copy_from_slice(&data[j * d..(j + 1) * d]);
            }
            query.extend_from_slice(&data[..d]);
            query.extend_from_slice(&dup);
            let got = nearest2(&data, &query, d);
            for (i, q) in query.chunks(d).enumerate() {
                let (a, b) = brute(&data, q, d);
                assert_eq!(got[i].0.to_bits(), a.to_bits(), "d={d} row {i}");
                assert_eq!(got[i].1.to_bits(), b.to_bits(), "d={d} row {i}");
            }
            assert!(got[..10].iter().all(|g| g.0 == 0.0), "copies, d={d}");
            let last = got.len() - 1;
            assert_eq!(got[last], (0.0, 0.0), "a duplicated row is both nearest");
        }
    }

    #[test]
    fn degenerate_sizes() {
        assert!(nearest2(&[], &[1.0, 2.0], 2)[0].0.is_infinite());
        assert_eq!(
            nearest2(&[1.0, 2.0], &[1.0, 2.0], 2),
            vec![(0.0, f64::INFINITY)]
        );
        assert!(nearest2(&[1.0], &[], 1).is_empty());
    }
}
