//! Development benchmark of `select_flat` on pre-binned code matrices.
//!
//! Inputs are raw u8 dumps written by `scripts/dev/dump_codes.py` (in DIR):
//! `sel_trn`, `sel_pool` (bins fitted on training: what selection sees) and
//! `ev_ori`, `ev_pool` (bins fitted on training+holdout: what the metric sees).
//!
//!     cargo run --release --example select_dev -- DIR [key=value ...]
//!
//! keys: seconds, seed, init=random|ipf, trim, refine, anneal (0/1), batch, temp,
//! triples, rounds, threads. Prints the metric (uni/bi/tri/overall, each
//! marginal rounded to 5 decimals as the reference does) for a random subset
//! and for the selection.

use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use synthsift::codes::CodeMatrix;
use synthsift::select::{select_flat, FlatOptions, InitialSet};

fn load(dir: &str, name: &str) -> CodeMatrix {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap())
            .unwrap();
    let n = meta["n_rows"].as_u64().unwrap() as usize;
    let names: Vec<String> = meta["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let cards: Vec<usize> = meta["cardinalities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let raw = std::fs::read(format!("{dir}/{name}.u8")).unwrap();
    assert_eq!(raw.len(), n * names.len());
    let columns = raw.chunks(n).map(|c| c.to_vec()).collect();
    CodeMatrix {
        n_rows: n,
        names,
        columns,
        cardinalities: cards,
    }
}

fn counts(
    m: &CodeMatrix,
    cols: &[usize],
    rows: Option<&[usize]>,
) -> std::collections::HashMap<u32, f64> {
    let mut h = std::collections::HashMap::new();
    let mut bump = |i: usize| {
        let mut key = 0u32;
        for &c in cols {
            key = key * 256 + m.columns[c][i] as u32;
        }
        *h.entry(key).or_insert(0.0) += 1.0;
    };
    match rows {
        Some(r) => r.iter().for_each(|&i| bump(i)),
        None => (0..m.n_rows).for_each(&mut bump),
    }
    h
}

fn acc(ori: &CodeMatrix, syn: &CodeMatrix, rows: &[usize], cols: &[usize]) -> f64 {
    let a = counts(ori, cols, None);
    let b = counts(syn, cols, Some(rows));
    let (na, nb) = (ori.n_rows as f64, rows.len() as f64);
    let mut l1 = 0.0;
    for (k, &va) in &a {
        l1 += (va / na - b.get(k).copied().unwrap_or(0.0) / nb).abs();
    }
    for (k, &vb) in &b {
        if !a.contains_key(k) {
            l1 += vb / nb;
        }
    }
    ((1.0 - l1 / 2.0) * 1e5).round() / 1e5
}

/// (uni, bi, tri, overall) as the reference computes them (all triples: m is small).
fn metric(ori: &CodeMatrix, syn: &CodeMatrix, rows: &[usize]) -> [f64; 4] {
    let m = ori.n_columns();
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let uni = mean((0..m).map(|a| acc(ori, syn, rows, &[a])).collect());
    let mut bi = vec![];
    let mut tri = vec![];
    for a in 0..m {
        for b in a + 1..m {
            bi.push(acc(ori, syn, rows, &[a, b]));
            for c in b + 1..m {
                tri.push(acc(ori, syn, rows, &[a, b, c]));
            }
        }
    }
    let (bi, tri) = (mean(bi), mean(tri));
    [uni, bi, tri, (uni + bi + tri) / 3.0]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = &args[1];
    let kv: std::collections::HashMap<String, String> = args[2..]
        .iter()
        .map(|a| {
            let (k, v) = a.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let get = |k: &str, d: &str| kv.get(k).cloned().unwrap_or(d.to_string());
    let threads: usize = get("threads", "2").parse().unwrap();
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    if std::env::var("RUST_LOG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }

    let trn = load(dir, "sel_trn");
    let pool = load(dir, "sel_pool");
    let ev_ori = load(dir, "ev_ori");
    let ev_pool = load(dir, "ev_pool");
    let n: usize = get("n", &trn.n_rows.to_string()).parse().unwrap();

    let mut o = FlatOptions::new(n);
    o.seed = get("seed", "1").parse().unwrap();
    o.time_budget = Duration::from_secs_f64(get("seconds", "45").parse().unwrap());
    o.initial = match get("init", "random").as_str() {
        "ipf" => InitialSet::Ipf,
        _ => InitialSet::Random,
    };
    let flag = |k: &str, d: bool| get(k, if d { "1" } else { "0" }) == "1";
    o.trim = flag("trim", o.trim);
    o.refine = flag("refine", o.refine);
    o.anneal = flag("anneal", o.anneal);
    o.refine_batch = get("batch", &o.refine_batch.to_string()).parse().unwrap();
    o.anneal_temperature = get("temp", &o.anneal_temperature.to_string())
        .parse()
        .unwrap();
    o.anneal_cross = get("cross", &o.anneal_cross.to_string()).parse().unwrap();
    o.anneal_pool = get("pool", &o.anneal_pool.to_string()).parse().unwrap();
    o.anneal_batches = get("batches", &o.anneal_batches.to_string())
        .parse()
        .unwrap();
    o.max_triples = get("triples", &o.max_triples.to_string()).parse().unwrap();
    if let Some(r) = kv.get("rounds") {
        o.max_rounds = Some(r.parse().unwrap());
    }

    if flag("baseline", true) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(o.seed);
        let mut idx: Vec<usize> = (0..pool.n_rows).collect();
        idx.shuffle(&mut rng);
        idx.truncate(n);
        let m = metric(&ev_ori, &ev_pool, &idx);
        println!(
            "random   overall {:.5} uni {:.5} bi {:.5} tri {:.5}",
            m[3], m[0], m[1], m[2]
        );
        if std::path::Path::new(&format!("{dir}/ev_trn.u8")).exists() {
            let ev_trn = load(dir, "ev_trn");
            let all: Vec<usize> = (0..ev_trn.n_rows).collect();
            let m = metric(&ev_ori, &ev_trn, &all);
            println!(
                "training overall {:.5} uni {:.5} bi {:.5} tri {:.5}",
                m[3], m[0], m[1], m[2]
            );
        }
    }

    let t = Instant::now();
    let sel = select_flat(&trn, &pool, None, &o, &|_| {}).unwrap();
    let secs = t.elapsed().as_secs_f64();
    for s in &sel.stages {
        println!(
            "  stage {:<16} obj {:.6} -> {:.6}  {:6.2}s  moved {}",
            s.name, s.objective_before, s.objective_after, s.seconds, s.moved
        );
    }
    let m = metric(&ev_ori, &ev_pool, &sel.indices);
    println!(
        "selected overall {:.5} uni {:.5} bi {:.5} tri {:.5}   select {:.1}s threads {} marginals {:?}",
        m[3], m[0], m[1], m[2], secs, threads, sel.marginals
    );
}
