//! `synthsift evaluate`.

use std::time::Instant;

use anyhow::Context;
use synthsift::metrics::privacy::{evaluate_privacy_with_progress, PrivacyOptions};
use synthsift::metrics::{evaluate_accuracy, AccuracyOptions, AccuracyReport};
use synthsift::table::{read_table, ColumnKind};

use crate::cli::EvaluateArgs;
use crate::output::write_atomically;

pub fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let read = |p: &std::path::Path| read_table(p).map_err(anyhow::Error::from);
    let training = read(&args.training)?;
    let synthetic = read(&args.synthetic)?;
    let holdout = args.holdout.as_deref().map(read).transpose()?;
    tracing::info!("read inputs in {:.2}s", t0.elapsed().as_secs_f64());

    let opts = AccuracyOptions {
        group_key: args.group_key.clone(),
        seed: args.seed,
    };
    let t1 = Instant::now();
    let report = evaluate_accuracy(&training, &synthetic, holdout.as_ref(), &opts)?;
    tracing::info!("computed accuracy in {:.2}s", t1.elapsed().as_secs_f64());

    for note in &report.notes {
        eprintln!("note: {note}");
    }
    print!("{}", render_table(&report, holdout.is_some()));

    let privacy = if args.no_privacy {
        None
    } else {
        let t2 = Instant::now();
        let opts = PrivacyOptions {
            seed: args.seed,
            group_key: args.group_key.clone(),
            max_sample_size: args.privacy_sample,
            embedder_dir: args.embedder_dir.clone(),
        };
        let bar = crate::select::spinner("privacy: encoding records");
        let p = evaluate_privacy_with_progress(
            &training,
            &synthetic,
            holdout.as_ref(),
            &opts,
            &|done, total| {
                bar.set_message(format!(
                    "privacy: nearest-neighbour searches {done}/{total}"
                ))
            },
        );
        bar.finish_and_clear();
        let p = p?;
        let has_categories = training.columns.iter().any(|c| {
            args.group_key.as_ref() != Some(&c.name) && c.data.kind() == ColumnKind::Categorical
        });
        if p.encoding == "hashed" && has_categories {
            eprintln!(
                "note: the potion-base-8M model was not found, so categories were encoded with hashed vectors; \
                 distances can differ slightly from mostlyai-qa's (scripts/fetch-embedder.sh fetches the model; \
                 pass its folder with --embedder-dir)"
            );
        }
        tracing::info!("computed privacy in {:.2}s", t2.elapsed().as_secs_f64());
        println!("\nprivacy");
        for (label, value) in p.summary_rows() {
            println!("{label:<26} {value}");
        }
        Some(p)
    };

    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "accuracy": report.accuracy,
            "sequential": report.sequential,
            "n_original": report.n_original,
            "n_synthetic": report.n_synthetic,
            "seed": args.seed,
            "holdout": holdout.is_some(),
            "univariates": report.univariates,
            "bivariates": report.bivariates,
            "trivariates": report.trivariates,
            "coherence": report.coherence,
            "distances": privacy,
            "notes": report.notes,
        });
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &json)?;
            writeln!(w)?;
            Ok(())
        })
        .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The headline figures as a small table.
pub fn render_table(report: &AccuracyReport, with_holdout: bool) -> String {
    let a = &report.accuracy;
    let mut out = String::new();
    let unit = if report.sequential {
        "sequences"
    } else {
        "records"
    };
    out.push_str(&format!(
        "original: {} {unit}{}, synthetic: {} {unit}\n\n",
        report.n_original,
        if with_holdout {
            " (training + holdout)"
        } else {
            ""
        },
        report.n_synthetic
    ));
    out.push_str(&format!("{:<12} {:>9} {:>9}\n", "accuracy", "value", "max"));
    let mut row = |name: &str, v: Option<f64>, m: Option<f64>| {
        if let (Some(v), Some(m)) = (v, m) {
            out.push_str(&format!("{name:<12} {v:>9.5} {m:>9.5}\n"));
        }
    };
    row("overall", Some(a.overall), Some(a.overall_max));
    row("univariate", Some(a.univariate), Some(a.univariate_max));
    row("bivariate", a.bivariate, a.bivariate_max);
    row("trivariate", a.trivariate, a.trivariate_max);
    row("coherence", a.coherence, a.coherence_max);
    let mut worst: Vec<_> = report.univariates.iter().collect();
    worst.sort_by(|x, y| x.accuracy.total_cmp(&y.accuracy));
    if !worst.is_empty() {
        out.push_str("\nleast accurate columns: ");
        let names: Vec<String> = worst
            .iter()
            .take(3)
            .map(|m| format!("{} {:.5}", m.columns[0], m.accuracy))
            .collect();
        out.push_str(&names.join(", "));
        out.push('\n');
    }
    out
}
