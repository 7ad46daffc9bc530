"""Produce the golden reference outputs (tests/golden/*.json) of mostlyai-qa 1.9.8's accuracy metric.

How to run (from any directory except the mostlyai/qa package dir, which ships a logging.py):

    scripts/reference/setup_venv.sh /opt/refqa            # once; torch-free reference venv
    /opt/refqa/bin/python scripts/reference/make_fixtures.py
    /opt/refqa/bin/python scripts/reference/make_golden.py [--shared-data /work/shared/data] [--only CASE ...] [--out DIR]

For every case the reference is run exactly as the competition did:

    trn/syn/hol = pandas.read_csv(path)   (or pandas.read_parquet for Parquet edge cases)
    qa.set_random_state(1)
    metrics = qa.report(syn_tgt_data=syn, trn_tgt_data=trn, hol_tgt_data=hol_or_None,
                        tgt_context_key=key_or_None, report_path=<tmp>)[1]

with one speed-up: `mostlyai.qa.reporting.prepare_data_for_embeddings` is replaced by a stub that
returns tiny random arrays (from its own RNG, so numpy's global random state is not touched).
Embeddings run after all accuracy/coherence sampling, so the accuracy figures are unaffected
(the only later consumer of the global RNG is the shuffle of the trivariate list, and all
trivariates are kept when there are <= 10,000 of them).

The per-marginal results are captured by wrapping the reference functions that `reporting`
calls (calculate_univariates, calculate_bivariates, calculate_trivariates,
calculate_distinct_categories_per_sequence_accuracy,
calculate_sequences_per_distinct_category_accuracy, binning_data, prepare_data_for_coherence,
bin_data); the wrappers only record return values.

The script is idempotent: it rewrites tests/golden/<case>.json for each case (only the
`report_seconds` field changes between runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"

RANDOM_STATE = 1
TGT, NXT = "tgt::", "nxt::"


# ---------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------


def shared_cases(shared: Path) -> list[dict]:
    def f(name):
        return {"path": FIX / name, "label": f"tests/fixtures/{name}"}

    def s(name):
        return {"path": shared / name, "label": f"shared/data/{name}"}

    return [
        {
            "case": "flat-holdout",
            "group_key": None,
            "inputs": {"training": f("flat-training.csv.gz"), "synthetic": f("flat-syn.csv.gz"), "holdout": f("flat-holdout.csv.gz")},
        },
        {
            "case": "flat-noholdout",
            "group_key": None,
            "inputs": {"training": f("flat-training.csv.gz"), "synthetic": f("flat-syn.csv.gz")},
        },
        {
            "case": "seq-holdout",
            "group_key": "group_id",
            "inputs": {"training": s("seq-training.csv.gz"), "synthetic": f("seq-syn.csv.gz"), "holdout": s("seq-holdout.csv.gz")},
        },
        {
            "case": "seq-noholdout",
            "group_key": "group_id",
            "inputs": {"training": s("seq-training.csv.gz"), "synthetic": f("seq-syn.csv.gz")},
        },
    ]


def edge_cases() -> list[dict]:
    cases = []
    for d in sorted((FIX / "edge").iterdir()):
        meta = json.loads((d / "case.json").read_text())
        inputs = {}
        for role in ("training", "synthetic", "holdout"):
            for p in sorted(d.glob(f"{role}.*")):
                inputs[role] = {"path": p, "label": f"tests/fixtures/edge/{d.name}/{p.name}"}
        assert ("holdout" in inputs) == meta["holdout"], d
        cases.append({"case": f"edge-{d.name}", "group_key": meta["group_key"], "inputs": inputs})
    return cases


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


# ---------------------------------------------------------------------------------------------
# capturing
# ---------------------------------------------------------------------------------------------


class Capture:
    """Installs recording wrappers around the functions mostlyai.qa.reporting calls."""

    def __init__(self):
        from mostlyai.qa import _accuracy, reporting

        self.reporting = reporting
        self._accuracy = _accuracy
        self.data: dict = {}
        self._install()

    def reset(self):
        self.data = {}

    def _record(self, name):
        orig = getattr(self.reporting, name)

        def wrapper(*args, **kwargs):
            out = orig(*args, **kwargs)
            self.data.setdefault(name, out)  # first call only
            return out

        setattr(self.reporting, name, wrapper)

    def _install(self):
        r = self.reporting
        for name in (
            "calculate_univariates",
            "calculate_bivariates",
            "calculate_trivariates",
            "calculate_distinct_categories_per_sequence_accuracy",
            "calculate_sequences_per_distinct_category_accuracy",
            "prepare_data_for_coherence",  # first call = original (trn [+ hol]) data -> coherence bins
            "bin_data",  # reporting.bin_data is only used for the categories-per-sequence bins
        ):
            self._record(name)

        # binning_data: capture the bins fitted on the original data (first bin_data call inside it)
        orig_binning_data = r.binning_data
        acc = self._accuracy

        def binning_data(ori, syn, statistics):
            orig_bin_data = acc.bin_data
            calls = []

            def bin_data_spy(*args, **kwargs):
                out = orig_bin_data(*args, **kwargs)
                calls.append(out)
                return out

            acc.bin_data = bin_data_spy
            try:
                out = orig_binning_data(ori=ori, syn=syn, statistics=statistics)
            finally:
                acc.bin_data = orig_bin_data
            self.data["accuracy_bins"] = calls[0][1]
            return out

        r.binning_data = binning_data

        # embeddings stub: tiny random arrays from a private RNG (global state untouched)
        def prepare_data_for_embeddings(*, hol_tgt_data=None, **_):
            rng = np.random.default_rng(0)
            syn = rng.random((100, 4)).astype("float32")
            trn = rng.random((100, 4)).astype("float32")
            hol = rng.random((100, 4)).astype("float32") if hol_tgt_data is not None else None
            return syn, trn, hol

        r.prepare_data_for_embeddings = prepare_data_for_embeddings


# ---------------------------------------------------------------------------------------------
# serialisation
# ---------------------------------------------------------------------------------------------


def num(x):
    if x is None or x is pd.NA:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    return x


def strip(col: str) -> str:
    for p in (TGT, NXT):
        if col.startswith(p):
            return col[len(p) :]
    return col


def bin_value(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, str):
        return v
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    return str(v)


def bins_json(bins: dict, prefix: str | None) -> dict:
    out = {}
    for col, values in bins.items():
        if prefix is not None and not col.startswith(prefix):
            continue
        out[strip(col)] = [bin_value(v) for v in values]
    return out


def acc_rows(df: pd.DataFrame, cols: list[str]) -> list[dict]:
    rows = []
    for _, r in df.iterrows():
        row = {c: strip(r[c]) for c in cols}
        row["accuracy"] = num(r["accuracy"])
        row["accuracy_max"] = num(r["accuracy_max"])
        rows.append(row)
    return rows


def build_golden(case: dict, metrics, cap: dict, seconds: float, shapes: dict, warns: list[str]) -> dict:
    import mostlyai.qa as qa

    uni = cap["calculate_univariates"]
    biv = cap["calculate_bivariates"]
    triv = cap["calculate_trivariates"]

    tgt_biv = biv[(biv["type"] == "tgt") & (biv["col1"] < biv["col2"])].sort_values(["col1", "col2"])
    nxt_biv = biv[(biv["type"] == "nxt") & biv["col1"].str.startswith(TGT)].sort_values("col1")
    if len(triv):
        triv = triv.sort_values(["col1", "col2", "col3"])

    coherence = None
    if case["group_key"] is not None and "calculate_distinct_categories_per_sequence_accuracy" in cap:
        coherence = {
            "next_row": acc_rows(nxt_biv.rename(columns={"col1": "column"}), ["column"]),
            "categories_per_sequence": acc_rows(cap["calculate_distinct_categories_per_sequence_accuracy"], ["column"]),
            "sequences_per_category": acc_rows(cap["calculate_sequences_per_distinct_category_accuracy"], ["column"]),
        }

    acc = metrics.accuracy.model_dump(by_alias=False)
    out = {
        "case": case["case"],
        "reference": f"mostlyai-qa {qa.__version__}",
        "random_state": RANDOM_STATE,
        "group_key": case["group_key"],
        "holdout": "holdout" in case["inputs"],
        "inputs": {role: v["label"] for role, v in case["inputs"].items()},
        "input_shapes": shapes,
        "accuracy": {k: num(v) for k, v in acc.items()},
        "univariates": acc_rows(uni, ["column"]),
        "bivariates": acc_rows(tgt_biv, ["col1", "col2"]),
        "trivariates": acc_rows(triv, ["col1", "col2", "col3"]) if len(triv) else [],
        "coherence": coherence,
        "bins": bins_json(cap["accuracy_bins"], TGT),
        "bins_nxt": bins_json(cap["accuracy_bins"], NXT),
        "coherence_bins": bins_json(cap["prepare_data_for_coherence"][1], None)
        if "prepare_data_for_coherence" in cap
        else None,
        "categories_per_sequence_bins": bins_json(cap["bin_data"][1], None) if "bin_data" in cap else None,
        "warnings": warns,
        "report_seconds": round(seconds, 2),
        "versions": {
            "python": sys.version.split()[0],
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
    }
    return out


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def run_case(case: dict, capture: Capture) -> dict:
    import mostlyai.qa as qa

    tables = {role: read_table(v["path"]) for role, v in case["inputs"].items()}
    shapes = {role: list(t.shape) for role, t in tables.items()}
    capture.reset()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        qa.set_random_state(RANDOM_STATE)
        t0 = time.time()
        _, metrics = qa.report(
            syn_tgt_data=tables["synthetic"],
            trn_tgt_data=tables["training"],
            hol_tgt_data=tables.get("holdout"),
            tgt_context_key=case["group_key"],
            report_path=Path(tmp) / "report.html",
        )
        seconds = time.time() - t0
    if metrics is None:
        raise RuntimeError(f"{case['case']}: reference returned no metrics (early exit)")
    warns = sorted({str(w.message) for w in wlist if "mostlyai" in (w.filename or "")})
    return build_golden(case, metrics, capture.data, seconds, shapes, warns)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared-data", default="/work/shared/data", type=Path)
    ap.add_argument("--only", nargs="*", help="case names to (re)generate, e.g. flat-holdout edge-float_precision")
    ap.add_argument("--out", default=GOLDEN, type=Path, help="output directory (default: tests/golden)")
    args = ap.parse_args()

    import mostlyai.qa as qa

    assert qa.__version__ == "1.9.8", qa.__version__
    capture = Capture()

    cases = shared_cases(args.shared_data) + edge_cases()
    if args.only:
        unknown = set(args.only) - {c["case"] for c in cases}
        assert not unknown, f"unknown cases: {sorted(unknown)}"
        cases = [c for c in cases if c["case"] in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    for case in cases:
        g = run_case(case, capture)
        path = args.out / f"{case['case']}.json"
        path.write_text(json.dumps(g, indent=1, allow_nan=False, ensure_ascii=False) + "\n")
        a = g["accuracy"]
        print(
            f"{case['case']:<32} overall={a['overall']} uni={a['univariate']} biv={a['bivariate']} "
            f"tri={a['trivariate']} coh={a['coherence']}  ({g['report_seconds']}s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
