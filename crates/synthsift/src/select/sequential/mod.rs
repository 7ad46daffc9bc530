//! Sequential selection: choose N whole sequences of a pool so that the
//! *expected* reference metric over the metric's random draw (one row of
//! each sequence among its first `len − 1` plus the next row, with a
//! `Sequence Length` column; plus coherence) matches the training data.
//!
//! See [`model`] for the objective. The search:
//! 1. *initial set* — a seeded random N-subset of the eligible sequences;
//! 2. *swap epochs* — every epoch scores every sequence (in parallel) by the
//!    exact objective change of removing it (inside) or adding it
//!    (outside) alone; the best fraction of each side forms the candidate
//!    pools; batches of random leaver/joiner pairs from these pools are
//!    scored exactly in parallel against the frozen residuals, then the
//!    improving ones are re-checked and applied one by one (best first),
//!    with a small annealing temperature that falls to zero.
//!
//! Everything random comes from a `ChaCha8Rng` seeded from
//! [`SeqOptions::seed`]; parallel work only computes pure scores, so the
//! result does not depend on the number of threads (only on the time
//! budget, unless `max_rounds` bounds the work).

pub mod model;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use model::{group_by_hash, sequence_fingerprints, Model, SeqBins, SeqCodes};

use super::membership::Membership;
use super::{Progress, StageReport};

/// Options of [`select_sequential`].
#[derive(Debug, Clone)]
pub struct SeqOptions {
    /// Number of sequences to select (N).
    pub size: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Wall-clock budget of the selection.
    pub time_budget: Duration,
    /// Column triples in the objective (all when there are fewer).
    pub max_triples: usize,
    /// Fraction of each side (by score) that forms the candidate pools.
    pub pool_fraction: f64,
    /// Proposals scored per batch.
    pub batch: usize,
    /// Batches per epoch (between re-scorings).
    pub batches_per_epoch: usize,
    /// Initial annealing temperature, in units of the smallest weight of a
    /// trivariate cell for one sequence (falls linearly to zero).
    pub temperature: f64,
    /// Cap on epochs (reproducible runs independent of speed).
    pub max_rounds: Option<usize>,
    /// Start every epoch with leavers and joiners paired by score rank.
    pub ranked_pairs: bool,
    /// Draws per proposal until a pair's (stale) solo scores sum below
    /// zero (1: no filter).
    pub prefilter_tries: usize,
    /// Fraction of the row marginals a proposal is first scored on; it is
    /// dropped when the change over them does not pass (1: no screen).
    /// Only the parallel screening uses it; moves are applied on exact
    /// deltas.
    pub screen_fraction: f64,
    /// Share of random proposals whose leaver is drawn from the joiner's
    /// `Sequence Length` bin.
    pub same_length: f64,
}

impl SeqOptions {
    /// Defaults for selecting `size` sequences.
    pub fn new(size: usize) -> SeqOptions {
        SeqOptions {
            size,
            seed: 1,
            time_budget: Duration::from_secs(50),
            max_triples: 2_000,
            pool_fraction: 1.0,
            batch: 4096,
            batches_per_epoch: 16,
            temperature: 30.0,
            max_rounds: None,
            ranked_pairs: false,
            prefilter_tries: 1,
            screen_fraction: 1.0,
            same_length: 0.9,
        }
    }
}

/// Why a sequential selection could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeqSelectError {
    #[error("the selection size must be at least 1 sequence")]
    EmptySelection,
    #[error("the pool has {pool} sequences, fewer than the {size} to select")]
    PoolTooSmall { pool: usize, size: usize },
    #[error("only {eligible} of the pool's {pool} sequences are eligible (not copies of training sequences), fewer than the {size} to select")]
    TooFewEligible {
        eligible: usize,
        pool: usize,
        size: usize,
    },
    #[error("the training data has no sequences")]
    EmptyTraining,
}

/// The result of [`select_sequential`].
#[derive(Debug, Clone)]
pub struct SeqSelection {
    /// Selected pool sequences, sorted ascending, distinct.
    pub sequences: Vec<usize>,
    pub stages: Vec<StageReport>,
    /// Final normalised objective (≈ 1 − expected overall accuracy).
    pub objective: f64,
    /// Per family (uni, bi, tri, next-row, categories per sequence,
    /// sequences per category), the mean total variation distance.
    pub families: [f64; model::FAMILIES],
    /// Swaps applied.
    pub swaps: usize,
}

/// The objective, its residuals and the current selection.
pub struct SeqState<'a> {
    pub model: &'a Model,
    pub pool: &'a SeqCodes,
    /// target − counts
    pub r: Vec<f64>,
}

impl SeqState<'_> {
    fn delta(&self, changes: &[(u32, f64)], buf: &mut Vec<(u32, f64)>) -> f64 {
        self.model.delta(self.pool, &self.r, changes, buf)
    }
}

/// Chooses `opts.size` sequences of `pool` whose expected metric
/// marginals match `training`'s (both coded with the same [`SeqBins`]).
pub fn select_sequential(
    bins: &SeqBins,
    training: &SeqCodes,
    pool: &SeqCodes,
    eligible: Option<&[bool]>,
    opts: &SeqOptions,
    progress: &dyn Fn(Progress),
) -> Result<SeqSelection, SeqSelectError> {
    let start = Instant::now();
    let n = opts.size;
    if n == 0 {
        return Err(SeqSelectError::EmptySelection);
    }
    if training.is_empty() {
        return Err(SeqSelectError::EmptyTraining);
    }
    if pool.len() < n {
        return Err(SeqSelectError::PoolTooSmall {
            pool: pool.len(),
            size: n,
        });
    }
    let n_eligible = eligible.map_or(pool.len(), |e| e.iter().filter(|&&x| x).count());
    if n_eligible < n {
        return Err(SeqSelectError::TooFewEligible {
            eligible: n_eligible,
            pool: pool.len(),
            size: n,
        });
    }
    let mut model = Model::new(bins, opts.max_triples, opts.seed);
    let targets = model.targets(training, n);
    let r = targets.clone();
    tracing::info!(
        marginals = ?model.counts,
        cells = r.len(),
        secs = start.elapsed().as_secs_f64(),
        "sequential objective set up"
    );
    let deadline = start + opts.time_budget;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut stages = Vec::new();

    // 1. Initial set: a random N-subset of the eligible sequences.
    let t0 = Instant::now();
    let mut candidates: Vec<u32> = (0..pool.len() as u32)
        .filter(|&i| eligible.is_none_or(|e| e[i as usize]))
        .collect();
    for k in 0..n {
        let j = rng.random_range(k..candidates.len());
        candidates.swap(k, j);
    }
    candidates.truncate(n);
    let mut mem = Membership::new(pool.len(), eligible, &candidates);
    drop(candidates);
    let mut state = SeqState {
        model: &model,
        pool,
        r,
    };
    for &s in &mem.inside {
        model.apply(pool, &mut state.r, s as usize, 1.0);
    }
    let obj0 = model.objective(&state.r);
    super::log_stage(&mut stages, "initial:random", f64::NAN, obj0, t0, n);
    progress(Progress {
        stage: "initial",
        done: 1,
        total: 1,
        objective: obj0,
    });

    // 2. Swap epochs.
    let t0 = Instant::now();
    let (swaps, best) = search(&mut state, &mut mem, opts, deadline, &mut rng, progress);
    if let Some(best) = best {
        // Back to the best selection seen (exact residuals rebuilt).
        mem = Membership::new(pool.len(), eligible, &best);
        state.r.copy_from_slice(&targets);
        for &s in &mem.inside {
            model.apply(pool, &mut state.r, s as usize, 1.0);
        }
        tracing::info!("restored the best selection seen");
    }
    let obj = model.objective(&state.r);
    super::log_stage(&mut stages, "swap", obj0, obj, t0, swaps);

    let families = model.family_objectives(&state.r);
    tracing::info!(
        objective = obj,
        ?families,
        swaps,
        secs = start.elapsed().as_secs_f64(),
        "sequential selection done"
    );
    let mut sequences: Vec<usize> = mem.inside.iter().map(|&i| i as usize).collect();
    sequences.sort_unstable();
    Ok(SeqSelection {
        sequences,
        stages,
        objective: obj,
        families,
        swaps,
    })
}

fn search(
    state: &mut SeqState<'_>,
    mem: &mut Membership,
    opts: &SeqOptions,
    deadline: Instant,
    rng: &mut ChaCha8Rng,
    progress: &dyn Fn(Progress),
) -> (usize, Option<Vec<u32>>) {
    let model = state.model;
    let pool = state.pool;
    let start = Instant::now();
    let total_ms = deadline.saturating_duration_since(start).as_millis().max(1) as f64;
    // Smallest step: one trivariate marginal's weight for a whole sequence.
    let unit = model
        .row
        .iter()
        .zip(&model.row_w)
        .filter(|(m, _)| m.fam as usize == model::TRI)
        .map(|(_, &w)| w)
        .fold(f64::INFINITY, f64::min);
    let unit = if unit.is_finite() { unit } else { 1e-9 };
    // Screening runs on a single-precision copy of the residuals (half the
    // cache footprint); every accepted move is re-checked in full precision.
    let mut r32: Vec<f32> = state.r.iter().map(|&x| x as f32).collect();
    let mut solo = vec![f32::INFINITY; pool.len()];
    let order = model.screen_order(opts.seed);
    let n_screen = ((order.len() as f64 * opts.screen_fraction).ceil() as usize).min(order.len());
    let mut swaps = 0usize;
    let mut epoch = 0usize;
    let mut objective = model.objective(&state.r);
    // The best selection seen at an epoch end (annealing may end above it).
    let mut best = (objective, mem.inside.clone());
    loop {
        if Instant::now() >= deadline || opts.max_rounds.is_some_and(|m| epoch >= m) {
            break;
        }
        epoch += 1;
        let elapsed = start.elapsed().as_millis() as f64;
        let frac_left = (1.0 - elapsed / total_ms).clamp(0.0, 1.0);
        let temperature = match opts.max_rounds {
            Some(m) => opts.temperature * (1.0 - epoch as f64 / m as f64).max(0.0),
            None => opts.temperature * frac_left,
        } * unit;

        // Score both sides against the current residuals.
        let t_epoch = Instant::now();
        let rr = &r32;
        let score = |list: &[u32], sign: f64| -> Vec<(f64, u32)> {
            list.par_iter()
                .map_init(
                    || Vec::with_capacity(64),
                    |buf, &s| (model.delta(pool, rr, &[(s, sign)], buf), s),
                )
                .collect()
        };
        if mem.outside.is_empty() {
            break;
        }
        let targeted = opts.pool_fraction < 1.0 || opts.prefilter_tries > 1;
        let (mut leave, mut join) = if targeted {
            (score(&mem.inside, -1.0), score(&mem.outside, 1.0))
        } else {
            // Uniform random pairs: no scores needed.
            (
                mem.inside.iter().map(|&s| (0.0, s)).collect(),
                mem.outside.iter().map(|&s| (0.0, s)).collect(),
            )
        };
        for &(d, s) in leave.iter().chain(&join) {
            solo[s as usize] = d as f32;
        }
        let pick = |v: &mut Vec<(f64, u32)>| -> Vec<u32> {
            let k = ((v.len() as f64 * opts.pool_fraction).ceil() as usize).clamp(1, v.len());
            v.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v.truncate(k);
            v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v.iter().map(|e| e.1).collect::<Vec<u32>>()
        };
        let leavers = pick(&mut leave);
        let joiners = pick(&mut join);
        let score_secs = t_epoch.elapsed().as_secs_f64();

        let mut accepted_epoch = 0usize;
        let mut proposed = 0usize;
        for batch in 0..opts.batches_per_epoch {
            // The first batch pairs leavers and joiners by rank of their
            // solo scores (best with best); the others are random pairs from
            // the candidate pools whose (stale) solo scores promise an
            // improvement.
            let n_ranked = if batch == 0 && opts.ranked_pairs {
                leavers.len().min(joiners.len()).min(opts.batch)
            } else {
                0
            };
            let proposals: Vec<(u32, u32, f64)> = (0..opts.batch)
                .map(|k| {
                    if k < n_ranked {
                        return (leavers[k], joiners[k], 0.0);
                    }
                    if !targeted {
                        // Current members, so no proposal is stale.
                        let j = mem.outside[rng.random_range(0..mem.outside.len())];
                        let mut l = mem.inside[rng.random_range(0..mem.inside.len())];
                        if rng.random::<f64>() < opts.same_length {
                            // Prefer a leaver of the joiner's length bin.
                            let lj = pool.length_code(j as usize);
                            for _ in 0..16 {
                                if pool.length_code(l as usize) == lj {
                                    break;
                                }
                                l = mem.inside[rng.random_range(0..mem.inside.len())];
                            }
                        }
                        let u: f64 = rng.random::<f64>();
                        let thr = if temperature > 0.0 {
                            -temperature * u.max(1e-300).ln()
                        } else {
                            0.0
                        };
                        return (l, j, thr);
                    }
                    let mut pair = (0, 0);
                    for _ in 0..opts.prefilter_tries.max(1) {
                        let l = leavers[rng.random_range(0..leavers.len())];
                        let j = joiners[rng.random_range(0..joiners.len())];
                        pair = (l, j);
                        if solo[l as usize] + solo[j as usize] < 0.0 {
                            break;
                        }
                    }
                    let u: f64 = rng.random::<f64>();
                    // Accept when delta < threshold (0 once cold).
                    let thr = if temperature > 0.0 {
                        -temperature * u.max(1e-300).ln()
                    } else {
                        0.0
                    };
                    (pair.0, pair.1, thr)
                })
                .collect();
            proposed += proposals.len();
            let rr = &r32;
            let mem_ref = &*mem;
            let mut scored: Vec<(f64, usize)> = proposals
                .par_iter()
                .enumerate()
                .map_init(
                    || Vec::with_capacity(64),
                    |buf, (k, &(l, j, thr))| {
                        if !mem_ref.contains(l) || mem_ref.contains(j) {
                            return (f64::INFINITY, k);
                        }
                        let changes = [(l, -1.0), (j, 1.0)];
                        let d = if n_screen < order.len() {
                            match model
                                .screened_delta(pool, rr, &changes, buf, &order, n_screen, thr)
                            {
                                Some(d) => d,
                                None => return (f64::INFINITY, k),
                            }
                        } else {
                            model.delta(pool, rr, &changes, buf)
                        };
                        (d - thr, k)
                    },
                )
                .filter(|e| e.0 < 1e-12)
                .collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut buf = Vec::with_capacity(64);
            for &(_, k) in &scored {
                let (l, j, thr) = proposals[k];
                if !mem.contains(l) || mem.contains(j) {
                    continue;
                }
                let d = state.delta(&[(l, -1.0), (j, 1.0)], &mut buf);
                if d < thr - 1e-15 {
                    model.apply_both(pool, &mut state.r, &mut r32, l as usize, -1.0);
                    model.apply_both(pool, &mut state.r, &mut r32, j as usize, 1.0);
                    mem.swap(l, j);
                    solo[l as usize] = f32::INFINITY;
                    solo[j as usize] = f32::INFINITY;
                    objective += d;
                    swaps += 1;
                    accepted_epoch += 1;
                }
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        if objective < best.0 {
            best = (objective, mem.inside.clone());
        }
        let done = start.elapsed().as_millis() as u64;
        progress(Progress {
            stage: "swap",
            done: done.min(total_ms as u64),
            total: total_ms as u64,
            objective,
        });
        // Converged: no swap accepted although the proposals covered every
        // pair of the candidate pools several times over.
        if accepted_epoch == 0
            && temperature == 0.0
            && proposed >= 4 * leavers.len() * joiners.len()
        {
            tracing::info!(epoch, "no improving swap left among the candidates");
            break;
        }
        tracing::debug!(
            epoch,
            proposed,
            accepted_epoch,
            objective,
            temperature,
            score_secs,
            epoch_secs = t_epoch.elapsed().as_secs_f64(),
            "epoch"
        );
    }
    tracing::info!(epochs = epoch, swaps, "swap epochs done");
    (swaps, (objective > best.0 + 1e-12).then_some(best.1))
}
