//! Small dense linear algebra: symmetric eigendecomposition (cyclic Jacobi),
//! PCA projection and k-means, enough for category PCA (≤ 256 × 256) and
//! the spectral clustering of encoded columns (≤ a few hundred columns).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Eigenvalues and eigenvectors of the symmetric `n × n` matrix `a`
/// (row-major). Returns `(values, vectors)` sorted by decreasing value;
/// `vectors[k]` is the unit eigenvector of `values[k]`.
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..n {
            diag += a[i * n + i] * a[i * n + i];
            for j in (i + 1)..n {
                off += a[i * n + j] * a[i * n + j];
            }
        }
        if off <= 1e-30 * diag.max(1e-300) || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let app = a[p * n + p];
                let aqq = a[q * n + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| a[y * n + y].total_cmp(&a[x * n + x]));
    let values = order.iter().map(|&k| a[k * n + k]).collect();
    let vectors = order
        .iter()
        .map(|&k| (0..n).map(|i| v[i * n + k]).collect())
        .collect();
    (values, vectors)
}

/// PCA scores of the `m × d` row-major matrix `x` on its first `k`
/// principal components (as `sklearn.decomposition.PCA(k).fit_transform`,
/// up to the sign of each component, which no distance depends on).
/// Returns `m × k` row-major.
pub fn pca_scores(x: &[f64], m: usize, d: usize, k: usize) -> Vec<f64> {
    let mut xc = x.to_vec();
    for j in 0..d {
        let mean = (0..m).map(|i| x[i * d + j]).sum::<f64>() / m as f64;
        for i in 0..m {
            xc[i * d + j] -= mean;
        }
    }
    let mut out = vec![0.0; m * k];
    if m <= d {
        // Gram matrix: scores are u_i * sqrt(lambda_i).
        let mut g = vec![0.0; m * m];
        for i in 0..m {
            for j in i..m {
                let s: f64 = (0..d).map(|t| xc[i * d + t] * xc[j * d + t]).sum();
                g[i * m + j] = s;
                g[j * m + i] = s;
            }
        }
        let (vals, vecs) = symmetric_eigen(&g, m);
        for c in 0..k.min(m) {
            let s = vals[c].max(0.0).sqrt();
            for i in 0..m {
                out[i * k + c] = vecs[c][i] * s;
            }
        }
    } else {
        let mut cov = vec![0.0; d * d];
        for i in 0..m {
            let row = &xc[i * d..(i + 1) * d];
            for a in 0..d {
                let ra = row[a];
                if ra == 0.0 {
                    continue;
                }
                for b in a..d {
                    cov[a * d + b] += ra * row[b];
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                cov[a * d + b] = cov[b * d + a];
            }
        }
        let (_, vecs) = symmetric_eigen(&cov, d);
        for c in 0..k.min(d) {
            for i in 0..m {
                out[i * k + c] = (0..d).map(|t| xc[i * d + t] * vecs[c][t]).sum();
            }
        }
    }
    out
}

/// k-means (k-means++ seeding, Lloyd iterations, best of `n_init` runs by
/// inertia) of `n` points of dimension `d`; returns a label per point.
pub fn kmeans(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    n_init: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let dist2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>();
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..n_init {
        // k-means++
        let mut centers: Vec<Vec<f64>> = vec![row(rng.random_range(0..n)).to_vec()];
        while centers.len() < k {
            let w: Vec<f64> = (0..n)
                .map(|i| {
                    centers
                        .iter()
                        .map(|c| dist2(row(i), c))
                        .fold(f64::INFINITY, f64::min)
                })
                .collect();
            let total: f64 = w.iter().sum();
            let pick = if total <= 0.0 {
                rng.random_range(0..n)
            } else {
                let mut r = rng.random::<f64>() * total;
                let mut pick = n - 1;
                for (i, wi) in w.iter().enumerate() {
                    if r < *wi {
                        pick = i;
                        break;
                    }
                    r -= wi;
                }
                pick
            };
            centers.push(row(pick).to_vec());
        }
        let mut labels = vec![0usize; n];
        for _iter in 0..300 {
            let mut changed = false;
            for (i, label) in labels.iter_mut().enumerate() {
                let mut bl = 0;
                let mut bd = f64::INFINITY;
                for (c, center) in centers.iter().enumerate() {
                    let dd = dist2(row(i), center);
                    if dd < bd {
                        bd = dd;
                        bl = c;
                    }
                }
                if *label != bl {
                    *label = bl;
                    changed = true;
                }
            }
            for (c, center) in centers.iter_mut().enumerate() {
                let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
                if members.is_empty() {
                    continue;
                }
                for t in 0..d {
                    center[t] =
                        members.iter().map(|&i| x[i * d + t]).sum::<f64>() / members.len() as f64;
                }
            }
            if !changed && _iter > 0 {
                break;
            }
        }
        let inertia: f64 = (0..n).map(|i| dist2(row(i), &centers[labels[i]])).sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, labels));
        }
    }
    best.map(|(_, l)| l).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_a_known_matrix() {
        let a = [2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 5.0];
        let (vals, vecs) = symmetric_eigen(&a, 3);
        assert!(
            (vals[0] - 5.0).abs() < 1e-12
                && (vals[1] - 3.0).abs() < 1e-12
                && (vals[2] - 1.0).abs() < 1e-12
        );
        assert!((vecs[1][0].abs() - 0.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn pca_keeps_the_main_direction() {
        // points on a line y = 2x: one component carries all variance
        let x: Vec<f64> = (0..5)
            .flat_map(|i| [i as f64, 2.0 * i as f64, 0.0])
            .collect();
        let s = pca_scores(&x, 5, 3, 2);
        let spread: f64 = (0..5).map(|i| s[i * 2] * s[i * 2]).sum();
        assert!((spread - 10.0 * 5.0).abs() < 1e-9, "{spread}");
        assert!((0..5).all(|i| s[i * 2 + 1].abs() < 1e-9));
    }
}
