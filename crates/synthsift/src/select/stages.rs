//! The stages of the flat pipeline.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::membership::Membership;
use super::model::{Marginals, State};
use super::{Ctx, Progress};

/// Rows per parallel work item: fixed, so that reductions are deterministic.
const CHUNK: usize = 1 << 14;

/// Fraction of the stage's budget used: by rounds when a round cap is set (so
/// that the schedule, and the result, do not depend on speed), else by time.
fn stage_done(ctx: &Ctx, t0: Instant, budget: std::time::Duration, rounds0: Option<usize>) -> f64 {
    match (rounds0, ctx.rounds_left) {
        (Some(r0), Some(left)) if r0 > 0 => (1.0 - left as f64 / r0 as f64).clamp(0.0, 1.0),
        _ => (t0.elapsed().as_secs_f64() / budget.as_secs_f64().max(1e-9)).min(1.0),
    }
}

/// Smallest objective change that counts as an improvement.
/// The weight of one cell of the lightest marginal family: the objective's
/// smallest step, which the tolerance and the temperatures are measured in.
fn unit_weight(state: &State) -> f64 {
    state
        .marg
        .w
        .iter()
        .copied()
        .filter(|&x| x > 0.0)
        .fold(f64::INFINITY, f64::min)
}

fn eps(state: &State) -> f64 {
    unit_weight(state) * 1e-3
}

/// A seeded random `n`-subset of the eligible rows.
pub(crate) fn random_initial(
    n_pool: usize,
    eligible: Option<&[bool]>,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    let mut cand: Vec<u32> = (0..n_pool as u32)
        .filter(|&i| eligible.is_none_or(|e| e[i as usize]))
        .collect();
    let (chosen, _) = cand.partial_shuffle(rng, n);
    chosen.to_vec()
}

/// IPF of row weights to the uni- and bivariate targets, then systematic
/// (expectation) rounding to about `oversize · n` rows.
pub(crate) fn ipf_initial(
    ctx: &Ctx,
    marg: &Marginals,
    targets: &[f32],
    eligible: Option<&[bool]>,
    n: usize,
    oversize: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    let rows = ctx.rows;
    let cand: Vec<u32> = (0..rows.n_rows() as u32)
        .filter(|&i| eligible.is_none_or(|e| e[i as usize]))
        .collect();
    let total = (oversize.max(1.0) * n as f64).min(cand.len() as f64);
    let scale = total / n as f64;
    let mut w = vec![total / cand.len() as f64; cand.len()];
    // Marginals fitted: all univariate and bivariate ones, as (range, cell fn).
    let n_fit = marg.uni.len() + marg.bi.len();
    let cell_of = |k: usize, row: &[u8]| -> usize {
        if k < marg.uni.len() {
            let u = marg.uni[k];
            u.off as usize + row[u.a as usize] as usize
        } else {
            let p = marg.bi[k - marg.uni.len()];
            (p.off + row[p.a as usize] as u32 * p.sa + row[p.b as usize] as u32) as usize
        }
    };
    let sweeps = ctx.opts.ipf_sweeps;
    'outer: for sweep in 0..sweeps {
        for k in 0..n_fit {
            if ctx.out_of_time() {
                tracing::warn!(sweep, "IPF stopped by the time budget");
                break 'outer;
            }
            let (s, e) = marg.ranges[k];
            let len = e - s;
            let parts: Vec<Vec<f64>> = cand
                .par_chunks(CHUNK)
                .zip(w.par_chunks(CHUNK))
                .map(|(ic, wc)| {
                    let mut h = vec![0.0f64; len];
                    for (&i, &wi) in ic.iter().zip(wc) {
                        h[cell_of(k, rows.row(i as usize)) - s] += wi;
                    }
                    h
                })
                .collect();
            let mut h = vec![0.0f64; len];
            for p in parts {
                for (a, b) in h.iter_mut().zip(p) {
                    *a += b;
                }
            }
            let factor: Vec<f64> = h
                .iter()
                .zip(&targets[s..e])
                .map(|(&hc, &t)| if hc > 0.0 { t as f64 * scale / hc } else { 0.0 })
                .collect();
            cand.par_chunks(CHUNK)
                .zip(w.par_chunks_mut(CHUNK))
                .for_each(|(ic, wc)| {
                    for (&i, wi) in ic.iter().zip(wc) {
                        *wi *= factor[cell_of(k, rows.row(i as usize)) - s];
                    }
                });
        }
        (ctx.progress)(Progress {
            stage: "initial",
            done: sweep as u64 + 1,
            total: sweeps as u64,
            objective: f64::NAN,
        });
    }
    // A row can be taken once: cap weights at 1 and spread the excess.
    for _ in 0..20 {
        let capped: f64 = w.iter().filter(|&&x| x >= 1.0).count() as f64;
        let free: f64 = w.iter().filter(|&&x| x < 1.0).sum();
        if free <= 0.0 {
            break;
        }
        let f = ((total - capped) / free).max(0.0);
        let mut changed = false;
        for x in w.iter_mut() {
            if *x < 1.0 {
                *x *= f;
            }
            if *x > 1.0 {
                *x = 1.0;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Systematic rounding: each row is chosen with probability w.
    let mut u: f64 = rng.random::<f64>();
    let mut cum = 0.0;
    let mut out = Vec::with_capacity(total as usize + 1);
    for (&i, &wi) in cand.iter().zip(&w) {
        cum += wi;
        if cum > u {
            out.push(i);
            u += 1.0;
        }
    }
    if out.len() < n {
        // Numerical shortfall: top up at random from the rest.
        let mut taken = vec![false; rows.n_rows()];
        for &i in &out {
            taken[i as usize] = true;
        }
        let mut rest: Vec<u32> = cand
            .iter()
            .copied()
            .filter(|&i| !taken[i as usize])
            .collect();
        let need = n - out.len();
        let (extra, _) = rest.partial_shuffle(rng, need);
        out.extend_from_slice(extra);
    }
    out
}

/// Per-record scores of `list`: gain of adding (`add`) or removing each.
fn scores(state: &State, ctx: &Ctx, list: &[u32], add: bool) -> Vec<f32> {
    let rows = ctx.rows;
    let mut out = vec![0f32; list.len()];
    list.par_chunks(CHUNK)
        .zip(out.par_chunks_mut(CHUNK))
        .for_each(|(ic, oc)| {
            for (&i, o) in ic.iter().zip(oc) {
                let row = rows.row(i as usize);
                *o = if add {
                    state.add_gain(row)
                } else {
                    state.rem_gain(row)
                } as f32;
            }
        });
    out
}

/// The `k` best (lowest score) entries of `list`, best first; ties by row.
fn best_k(list: &[u32], score: &[f32], k: usize) -> Vec<u32> {
    let mut v: Vec<(f32, u32)> = score.iter().copied().zip(list.iter().copied()).collect();
    let cmp = |a: &(f32, u32), b: &(f32, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if k < v.len() {
        v.select_nth_unstable_by(k, cmp);
        v.truncate(k);
    }
    v.sort_unstable_by(cmp);
    v.into_iter().map(|(_, i)| i).collect()
}

/// Greedy removal down to `n`: each round scores every selected record and
/// removes the best ones that are still (exactly) as good as the cut-off.
pub(crate) fn trim(ctx: &mut Ctx, state: &mut State, mem: &mut Membership, n: usize) -> usize {
    let start_excess = mem.inside.len() - n;
    let mut moved = 0;
    while mem.inside.len() > n {
        let excess = mem.inside.len() - n;
        let batch = excess.min((n / 50).max(256));
        let sc = scores(state, ctx, &mem.inside, false);
        let cand = best_k(&mem.inside, &sc, (batch + 1).min(mem.inside.len()));
        // Cut-off: the score of the first candidate not taken this round.
        let cutoff = if cand.len() > batch {
            let mut v: Vec<f32> = sc.clone();
            v.sort_unstable_by(f32::total_cmp);
            v[batch] as f64
        } else {
            f64::INFINITY
        };
        let mut removed = 0;
        for (k, &i) in cand.iter().take(batch).enumerate() {
            let row = ctx.rows.row(i as usize);
            let g = state.rem_gain(row);
            if k == 0 || g <= cutoff {
                state.remove(row);
                mem.remove(i);
                removed += 1;
            }
        }
        moved += removed;
        (ctx.progress)(Progress {
            stage: "trim",
            done: (start_excess - (mem.inside.len() - n)) as u64,
            total: start_excess as u64,
            objective: f64::NAN,
        });
    }
    moved
}

/// Drops random selected records down to `n`.
pub(crate) fn drop_random(
    state: &mut State,
    rows: &super::model::RowCodes,
    mem: &mut Membership,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> usize {
    let mut moved = 0;
    while mem.inside.len() > n {
        let p = rng.random_range(0..mem.inside.len());
        let i = mem.inside[p];
        state.remove(rows.row(i as usize));
        mem.remove(i);
        moved += 1;
    }
    moved
}

/// Share of the remaining budget the refine stage may use before annealing.
const REFINE_SHARE: f64 = 0.1;

/// Rounds of exact swaps between the best-scored leavers and joiners.
pub(crate) fn refine(ctx: &mut Ctx, state: &mut State, mem: &mut Membership) -> usize {
    if mem.outside.is_empty() || mem.inside.is_empty() {
        return 0; // nothing to swap with
    }
    let t0 = Instant::now();
    let budget_ms = ctx
        .deadline
        .saturating_duration_since(t0)
        .as_millis()
        .max(1) as u64;
    let eps = eps(state);
    let n = mem.inside.len();
    let k = ((n as f64 * ctx.opts.refine_batch) as usize).max(64);
    let mut moved = 0;
    let mut obj = state.objective();
    let mut round = 0;
    // With annealing to follow, refine gets a share of the budget and starts a
    // round only if one more (as long as the last) fits in it: on wide data a
    // round scores every pool record over thousands of marginals.
    let share = if ctx.opts.anneal { REFINE_SHARE } else { 1.0 };
    let own_deadline = t0 + ctx.deadline.saturating_duration_since(t0).mul_f64(share);
    let mut last_round = std::time::Duration::ZERO;
    loop {
        if ctx.out_of_time() {
            ctx.stop = Some(super::Stop::Budget);
            break;
        }
        if ctx.rounds_left.is_none() && Instant::now() + last_round >= own_deadline {
            break; // leave the rest to annealing
        }
        let round_start = Instant::now();
        if !ctx.take_round() {
            ctx.stop = Some(super::Stop::Rounds);
            break;
        }
        round += 1;
        let add_sc = scores(state, ctx, &mem.outside, true);
        let rem_sc = scores(state, ctx, &mem.inside, false);
        let joiners = best_k(&mem.outside, &add_sc, k.min(mem.outside.len()));
        let leavers = best_k(&mem.inside, &rem_sc, k.min(mem.inside.len()));
        let mut li = 0;
        let mut fails = 0;
        let mut accepted = 0;
        for &j in &joiners {
            if li >= leavers.len() {
                break;
            }
            let i = leavers[li];
            let (ri, rj) = (ctx.rows.row(i as usize), ctx.rows.row(j as usize));
            let d = state.swap_gain(ri, rj);
            if d < -eps {
                state.remove(ri);
                state.add(rj);
                mem.swap(i, j);
                obj += d;
                accepted += 1;
                li += 1;
                fails = 0;
            } else {
                fails += 1;
                if fails >= 4 {
                    li += 1;
                    fails = 0;
                }
            }
        }
        moved += accepted;
        last_round = round_start.elapsed();
        tracing::debug!(round, accepted, objective = obj, "refine round");
        (ctx.progress)(Progress {
            stage: "refine",
            done: (t0.elapsed().as_millis() as u64).min(budget_ms),
            total: budget_ms,
            objective: obj,
        });
        // Stop when the rounds stall (leaving the budget to annealing) or converge.
        if accepted == 0 || (ctx.opts.anneal && accepted < (n / 2000).max(1)) {
            ctx.stop = None;
            break;
        }
    }
    tracing::info!(rounds = round, "refine finished");
    moved
}

/// Proposals per parallel work item of the anneal stage; one "batch" of
/// [`FlatOptions::anneal_batches`](super::FlatOptions::anneal_batches) is two
/// of them.
const ANNEAL_CHUNK: usize = 2048;
/// Work items scored in parallel against one state (32,768 proposals).
const ANNEAL_ROUND: usize = 16;

/// Random exact swaps with a geometrically falling temperature.
///
/// Each epoch takes the candidate pools (the best-scored fraction of the
/// records, or everyone). Then rounds of [`ANNEAL_ROUND`] work items are
/// scored in parallel against the same state: each item draws its
/// [`ANNEAL_CHUNK`] (leaver, joiner, Metropolis threshold `−T·ln u`) triples
/// from its own ChaCha stream (seeded from the main stream, so the result does
/// not depend on the number of threads) and sums the swap delta only as far
/// as it can plausibly still pass its threshold (screen
/// [`FlatOptions::anneal_screen`](super::FlatOptions::anneal_screen)). The few that pass are
/// re-scored exactly against the current state, in item order, and applied
/// when they still pass. Nearly all the work is in the parallel part.
pub(crate) fn anneal(
    ctx: &mut Ctx,
    state: &mut State,
    mem: &mut Membership,
    rng: &mut ChaCha8Rng,
) -> usize {
    let t0 = Instant::now();
    let budget = ctx.deadline.saturating_duration_since(t0);
    let budget_ms = budget.as_millis().max(1) as u64;
    let eps = eps(state);
    let temp0 = ctx.opts.anneal_temperature * unit_weight(state);
    let frac = ctx.opts.anneal_pool.clamp(1e-4, 1.0);
    // Work items per epoch: two per batch of 4096 proposals.
    let items_per_epoch = ctx.opts.anneal_batches.max(1) * 4096 / ANNEAL_CHUNK;
    let kappa = ctx.opts.anneal_screen.clamp(0.0, 1.0);
    let rounds0 = ctx.rounds_left;
    let mut moved = 0;
    let mut obj = state.objective();
    let rows = ctx.rows;
    let mut epoch = 0;
    let (mut tried, mut passed) = (0u64, 0u64);
    if mem.outside.is_empty() || mem.inside.is_empty() {
        return 0; // nothing to swap with
    }
    if ctx.opts.anneal_cross > 0 {
        return anneal_cross(ctx, state, mem, rng);
    }
    let mut bufs: Vec<Vec<(u32, u32, f64)>> =
        (0..ANNEAL_ROUND).map(|_| Vec::with_capacity(64)).collect();
    let (mut joiners, mut leavers): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
    loop {
        if ctx.out_of_time() {
            ctx.stop = Some(super::Stop::Budget);
            break;
        }
        if !ctx.take_round() {
            ctx.stop = Some(super::Stop::Rounds);
            break;
        }
        epoch += 1;
        // Candidate pools: the best-scored fraction, or everyone.
        if frac < 1.0 {
            let add_sc = scores(state, ctx, &mem.outside, true);
            let rem_sc = scores(state, ctx, &mem.inside, false);
            let kj = ((mem.outside.len() as f64 * frac) as usize).clamp(1, mem.outside.len());
            let ki = ((mem.inside.len() as f64 * frac) as usize).clamp(1, mem.inside.len());
            joiners = best_k(&mem.outside, &add_sc, kj);
            leavers = best_k(&mem.inside, &rem_sc, ki);
        } else {
            joiners.clone_from(&mem.outside);
            leavers.clone_from(&mem.inside);
        }
        let mut acc_epoch = 0;
        let mut items_left = items_per_epoch;
        while items_left > 0 {
            if ctx.out_of_time() {
                break;
            }
            let n_items = items_left.min(ANNEAL_ROUND);
            items_left -= n_items;
            let done = stage_done(ctx, t0, budget, rounds0);
            // Geometric cooling from temp0 to temp0/100, then zero in the last 5%.
            let temp = if done < 0.95 {
                temp0 * (0.01f64).powf(done / 0.95)
            } else {
                0.0
            };
            let base: u64 = rng.random();
            {
                let st = &*state;
                let memr = &*mem;
                let (leavers, joiners) = (&leavers, &joiners);
                bufs[..n_items]
                    .par_iter_mut()
                    .enumerate()
                    .for_each(|(c, buf)| {
                        buf.clear();
                        let mut r = ChaCha8Rng::seed_from_u64(
                            base ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                        );
                        for _ in 0..ANNEAL_CHUNK {
                            let i = leavers[r.random_range(0..leavers.len())];
                            let j = joiners[r.random_range(0..joiners.len())];
                            let th = if temp > 0.0 {
                                let u: f64 = r.random::<f64>();
                                -temp * u.max(1e-300).ln()
                            } else {
                                0.0
                            } - eps;
                            if !memr.contains(i) || memr.contains(j) {
                                continue;
                            }
                            let (ri, rj) = (rows.row(i as usize), rows.row(j as usize));
                            let d = st.swap_gain_below(ri, rj, th, kappa);
                            if d < th {
                                buf.push((i, j, th));
                            }
                        }
                    });
            }
            tried += (n_items * ANNEAL_CHUNK) as u64;
            for buf in &bufs[..n_items] {
                for &(i, j, th) in buf {
                    if !mem.contains(i) || mem.contains(j) {
                        continue;
                    }
                    passed += 1;
                    let (ri, rj) = (rows.row(i as usize), rows.row(j as usize));
                    let d = state.swap_gain_below(ri, rj, th, 1.0);
                    if d < th {
                        state.remove(ri);
                        state.add(rj);
                        mem.swap(i, j);
                        obj += d;
                        moved += 1;
                        acc_epoch += 1;
                    }
                }
            }
        }
        tracing::debug!(epoch, accepted = acc_epoch, objective = obj, "anneal epoch");
        (ctx.progress)(Progress {
            stage: "anneal",
            done: (t0.elapsed().as_millis() as u64).min(budget_ms),
            total: budget_ms,
            objective: obj,
        });
    }
    tracing::info!(epochs = epoch, tried, passed, moved, "anneal finished");
    moved
}

/// Upper bound of the objective the shared cells of two rows give back
/// (`gain(i) + gain(j) − swap_gain(i, j)`): only marginals whose columns all
/// carry equal codes in both rows can share a cell, each worth at most `2·w`.
fn shared_bound(ri: &[u8], rj: &[u8], w: [f64; 3]) -> f64 {
    let s = ri.iter().zip(rj).filter(|(a, b)| a == b).count() as f64;
    2.0 * (s * w[0] + s * (s - 1.0) / 2.0 * w[1] + s * (s - 1.0) * (s - 2.0) / 6.0 * w[2])
}

/// Annealing with cross-batched proposals: each batch draws `B` random
/// leavers and `B` random joiners, scores them exactly in parallel, and
/// screens all `B²` pairs by `gain(i) + gain(j)` minus a bound on their shared
/// cells; promising pairs are re-scored exactly and accepted by the Metropolis
/// rule. One batch thus screens `B²` swaps for the price of `2B` scorings.
fn anneal_cross(
    ctx: &mut Ctx,
    state: &mut State,
    mem: &mut Membership,
    rng: &mut ChaCha8Rng,
) -> usize {
    let t0 = Instant::now();
    let budget = ctx.deadline.saturating_duration_since(t0);
    let budget_ms = budget.as_millis().max(1) as u64;
    let eps = eps(state);
    let w = state.marg.w;
    let temp0 = ctx.opts.anneal_temperature * unit_weight(state);
    let b = ctx.opts.anneal_cross.max(1);
    let rounds0 = ctx.rounds_left;
    let rows = ctx.rows;
    let mut moved = 0;
    let mut obj = state.objective();
    let mut li: Vec<u32> = Vec::with_capacity(b);
    let mut lj: Vec<u32> = Vec::with_capacity(b);
    let mut gj = vec![0f64; b];
    let mut used_j = vec![false; b];
    let mut used_i = vec![false; b];
    let (mut batches, mut verified) = (0u64, 0u64);
    let mut last_report = Instant::now();
    loop {
        if batches % 64 == 0 {
            if ctx.out_of_time() {
                ctx.stop = Some(super::Stop::Budget);
                break;
            }
            if !ctx.take_round() {
                ctx.stop = Some(super::Stop::Rounds);
                break;
            }
        }
        batches += 1;
        let done = stage_done(ctx, t0, budget, rounds0);
        let temp = if done < 0.95 {
            temp0 * (0.01f64).powf(done / 0.95)
        } else {
            0.0
        };
        li.clear();
        lj.clear();
        let bi = b.min(mem.inside.len());
        let bj = b.min(mem.outside.len());
        for _ in 0..bi {
            li.push(mem.inside[rng.random_range(0..mem.inside.len())]);
        }
        for _ in 0..bj {
            lj.push(mem.outside[rng.random_range(0..mem.outside.len())]);
        }
        let cap = if temp > 0.0 { 10.0 * temp } else { 0.0 };
        // Phase 1 (parallel): exact gains of the joiners.
        {
            let st = &*state;
            gj[..bj]
                .par_chunks_mut(16)
                .zip(lj.par_chunks(16))
                .for_each(|(g, l)| {
                    for (g, &j) in g.iter_mut().zip(l) {
                        *g = st.add_gain(rows.row(j as usize));
                    }
                });
        }
        // Phase 2 (parallel, pure): leaver gains and screening of all pairs
        // against the same state; candidates come out in (leaver, joiner) order.
        let off = rng.random_range(0..bj);
        let cands: Vec<(u32, u32, f64)> = {
            let st = &*state;
            let memr = &*mem;
            let gj = &gj[..bj];
            let lj = &lj;
            li.par_chunks(4)
                .enumerate()
                .map(|(ci, chunk)| {
                    let mut out = Vec::new();
                    let mut shared = Vec::new();
                    for (x, &i) in chunk.iter().enumerate() {
                        let a = ci * 4 + x;
                        if !memr.contains(i) {
                            continue;
                        }
                        let ri = rows.row(i as usize);
                        let g = st.rem_gain(ri);
                        for k in 0..bj {
                            let bb = (off + k) % bj;
                            let sum = g + gj[bb];
                            let rj = rows.row(lj[bb] as usize);
                            if sum - shared_bound(ri, rj, w) >= cap - eps {
                                continue;
                            }
                            let lower = sum - st.shared_correction(ri, rj, &mut shared);
                            if lower < cap - eps {
                                out.push((a as u32, bb as u32, lower));
                            }
                        }
                    }
                    out
                })
                .reduce(Vec::new, |mut x, mut y| {
                    x.append(&mut y);
                    x
                })
        };
        // Phase 3 (sequential): Metropolis test, exact re-scoring, apply.
        used_j[..bj].iter_mut().for_each(|x| *x = false);
        used_i[..bi].iter_mut().for_each(|x| *x = false);
        for &(a, bb, lower) in &cands {
            let (a, bb) = (a as usize, bb as usize);
            if used_i[a] || used_j[bb] {
                continue;
            }
            let (i, j) = (li[a], lj[bb]);
            if !mem.contains(i) || mem.contains(j) {
                continue;
            }
            let th = if temp > 0.0 {
                let u: f64 = rng.random::<f64>();
                -temp * u.max(1e-300).ln()
            } else {
                0.0
            } - eps;
            if lower >= th {
                continue;
            }
            verified += 1;
            let (ri, rj) = (rows.row(i as usize), rows.row(j as usize));
            let d = state.swap_gain(ri, rj);
            if d < th {
                state.remove(ri);
                state.add(rj);
                mem.swap(i, j);
                used_i[a] = true;
                used_j[bb] = true;
                obj += d;
                moved += 1;
            }
        }
        // Gains of later leavers are stale after a swap in this batch, but every
        // applied swap was scored exactly against the current state above.
        if last_report.elapsed().as_millis() >= 200 {
            last_report = Instant::now();
            (ctx.progress)(Progress {
                stage: "anneal",
                done: (t0.elapsed().as_millis() as u64).min(budget_ms),
                total: budget_ms,
                objective: obj,
            });
        }
    }
    tracing::info!(batches, verified, moved, "anneal (cross) finished");
    moved
}
