"""Write the deterministic test inputs under tests/fixtures/.

Run from anywhere (paths are resolved relative to this file):

    /path/to/venv/bin/python scripts/reference/make_fixtures.py [--shared-data /work/shared/data]

Only numpy, pandas and pyarrow are needed. The script is idempotent: gz files are written
with mtime=0, everything else from fixed seeds, so re-running produces identical bytes
(Parquet files embed the writer's version strings, so they are only byte-stable for the
same pyarrow version).

Outputs
-------
tests/fixtures/flat-training.csv.gz  seq-training with the group_id column cut off (raw text)
tests/fixtures/flat-holdout.csv.gz   seq-holdout, likewise
tests/fixtures/flat-syn.csv.gz       154,456 pool lines (as many as seq-training rows), chosen with
                                     numpy.random.default_rng(42).choice(n_pool, 154456, replace=False),
                                     written in pool order, group_id cut off (raw text)
tests/fixtures/seq-syn.csv.gz        all pool lines of 20,000 sequences chosen with
                                     numpy.random.default_rng(42).choice(ids, 20000, replace=False)
                                     (ids in order of first appearance), written in pool order, raw text
tests/fixtures/edge/<case>/          small hand-made tables, see EDGE CASES below
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
EDGE = FIX / "edge"


# ---------------------------------------------------------------------------------------------
# shared-data derived fixtures
# ---------------------------------------------------------------------------------------------


def read_lines(path: Path) -> tuple[bytes, list[bytes]]:
    with gzip.open(path, "rb") as f:
        data = f.read()
    assert b'"' not in data, f"{path}: quoted fields present; raw line surgery would be unsafe"
    assert b"\r" not in data, f"{path}: CR line endings present"
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines[0], lines[1:]


def drop_first_field(line: bytes) -> bytes:
    i = line.index(b",")
    return line[i + 1 :]


def write_gz_lines(path: Path, header: bytes, lines: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(header + b"\n")
        gz.write(b"\n".join(lines))
        gz.write(b"\n")
    path.write_bytes(buf.getvalue())


def make_shared_fixtures(shared: Path) -> None:
    trn_header, trn = read_lines(shared / "seq-training.csv.gz")
    hol_header, hol = read_lines(shared / "seq-holdout.csv.gz")
    pool_header, pool = read_lines(shared / "seq-pool-dev.csv.gz")
    assert trn_header.split(b",")[0] == b"group_id" == pool_header.split(b",")[0] == hol_header.split(b",")[0]
    assert trn_header == hol_header == pool_header

    write_gz_lines(FIX / "flat-training.csv.gz", drop_first_field(trn_header), [drop_first_field(x) for x in trn])
    write_gz_lines(FIX / "flat-holdout.csv.gz", drop_first_field(hol_header), [drop_first_field(x) for x in hol])

    # flat synthetic: as many pool rows as training rows
    rng = np.random.default_rng(42)
    idx = np.sort(rng.choice(len(pool), size=len(trn), replace=False))
    write_gz_lines(FIX / "flat-syn.csv.gz", drop_first_field(pool_header), [drop_first_field(pool[i]) for i in idx])

    # sequential synthetic: all rows of 20,000 random pool sequences
    keys = [line[: line.index(b",")] for line in pool]
    ids = list(dict.fromkeys(keys))  # order of first appearance
    n_trn_groups = len({line[: line.index(b",")] for line in trn})
    rng = np.random.default_rng(42)
    chosen_idx = rng.choice(len(ids), size=n_trn_groups, replace=False)
    chosen = {ids[i] for i in chosen_idx}
    seq_lines = [line for line, k in zip(pool, keys) if k in chosen]
    write_gz_lines(FIX / "seq-syn.csv.gz", pool_header, seq_lines)
    print(
        f"shared fixtures: flat-training={len(trn)} flat-holdout={len(hol)} flat-syn={len(idx)} "
        f"seq-syn={len(seq_lines)} rows / {len(chosen)} groups"
    )


# ---------------------------------------------------------------------------------------------
# EDGE CASES
# ---------------------------------------------------------------------------------------------

N_TRN, N_SYN, N_HOL = 300, 400, 250


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(df.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False, engine="pyarrow", compression="snappy")


def write_case(name: str, tables: dict[str, pd.DataFrame | str], group_key: str | None, fmt: str = "csv", note: str = ""):
    d = EDGE / name
    d.mkdir(parents=True, exist_ok=True)
    for old in d.iterdir():
        if old.name != "case.json" and old.stem in ("training", "synthetic", "holdout"):
            old.unlink()
    for role, t in tables.items():
        path = d / f"{role}.{fmt}"
        if isinstance(t, str):  # hand-written CSV text
            path.write_bytes(t.encode("utf-8"))
        elif fmt == "csv":
            write_csv(t, path)
        else:
            write_parquet(t, path)
    case = {"group_key": group_key, "holdout": "holdout" in tables, "format": fmt, "note": note}
    (d / "case.json").write_text(json.dumps(case, indent=2) + "\n")


def cat_col(rng, cats, probs, n):
    probs = np.asarray(probs, dtype=float)
    return rng.choice(np.asarray(cats, dtype=object), size=n, p=probs / probs.sum())


def with_missing(rng, values: pd.Series, share: float) -> pd.Series:
    values = values.copy()
    values[rng.random(len(values)) < share] = None
    return values


def case_all_missing_numeric():
    rng = np.random.default_rng(101)

    def make(n, syn=False):
        return pd.DataFrame(
            {
                "num": np.round(rng.normal(50, 10, n), 1),
                "allna": [np.nan] * n,  # all missing everywhere
                # all missing in training/holdout, partly filled in synthetic
                "allna_trn": np.where(rng.random(n) < 0.3, np.round(rng.normal(5, 1, n), 2), np.nan)
                if syn
                else [np.nan] * n,
                "cat": cat_col(rng, ["A", "B", "C", "D"], [4, 3, 2, 1], n),
            }
        )

    write_case(
        "all_missing_numeric",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True), "holdout": make(N_HOL)},
        None,
        note="'allna' is empty in all files; 'allna_trn' is empty in training/holdout but 30% filled in synthetic",
    )


def case_constant_column():
    rng = np.random.default_rng(102)

    def make(n, syn=False):
        const_num = np.full(n, 7)
        const_str = np.full(n, "X", dtype=object)
        if syn:
            const_num = np.where(rng.random(n) < 0.05, 8, 7)
            const_str = np.where(rng.random(n) < 0.05, "Y", "X")
        return pd.DataFrame(
            {
                "const_num": const_num,
                "const_float": np.full(n, 2.5),
                "const_str": const_str,
                "x": np.round(rng.normal(0, 1, n), 3),
                "c": cat_col(rng, ["p", "q", "r"], [5, 3, 2], n),
            }
        )

    write_case(
        "constant_column",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True)},
        None,
        note="const_num=7 / const_str='X' in training; synthetic has ~5% 8 / 'Y'; const_float=2.5 everywhere",
    )


def case_few_distinct_numeric():
    rng = np.random.default_rng(103)

    def make(n, syn=False):
        k5 = cat_col(rng, [1, 2, 3, 5, 8], [5, 4, 3, 2, 1], n).astype(int)
        k10 = cat_col(rng, [round(0.5 * i, 1) for i in range(1, 11)], np.ones(10), n).astype(float)
        k11 = rng.integers(0, 11, n)
        two = rng.integers(0, 2, n)
        if syn:
            k5 = np.where(rng.random(n) < 0.05, 0, k5)  # below training min
            k5 = np.where(rng.random(n) < 0.05, 13, k5)  # above training max
            k5 = np.where(rng.random(n) < 0.05, 4, k5)  # inside range, but not a training value
            k10 = np.where(rng.random(n) < 0.05, 5.25, k10)
            two = np.where(rng.random(n) < 0.05, 2, two)
        return pd.DataFrame({"k5": k5, "k10": k10, "k11": k11, "two": two})

    write_case(
        "few_distinct_numeric",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True), "holdout": make(N_HOL)},
        None,
        note="k5: 5 distinct ints, synthetic adds 0, 4, 13; k10: exactly 10 distinct floats, synthetic adds 5.25; "
        "k11: 11 distinct ints (quantile path); two: 0/1, synthetic adds 2",
    )


def case_many_categories():
    rng = np.random.default_rng(104)
    # training counts: ties at the top-10 cut-off (C09/C10/C11 all 8) and rare categories (< 5)
    counts = {
        "C00": 60, "C01": 50, "C02": 40, "C03": 30, "C04": 25, "C05": 20, "C06": 15, "C07": 12,
        "C08": 10, "C09": 8, "C10": 8, "C11": 8, "C12": 4, "C13": 3, "C14": 2, "C18": 2,
        "C15": 1, "C16": 1, "C17": 1,
    }  # fmt: skip
    assert sum(counts.values()) == N_TRN
    cats = list(counts)
    # a second column whose top-10 contains categories below the rare threshold (5)
    small_counts = {"s1": 150, "s2": 80, "s3": 40, "s4": 15, "s5": 8, "s6": 4, "s7": 3}
    small_counts["s1"] += N_TRN - sum(small_counts.values())

    def exact(counts_: dict[str, int]):
        v = np.array([k for k, c in counts_.items() for _ in range(c)], dtype=object)
        rng.shuffle(v)
        return v

    trn = pd.DataFrame({"cat": exact(counts), "small": exact(small_counts), "x": np.round(rng.normal(0, 1, N_TRN), 2)})
    p = np.array(list(counts.values()), dtype=float)
    ps = np.array(list(small_counts.values()), dtype=float)

    def sample(n):
        return pd.DataFrame(
            {
                "cat": cat_col(rng, cats, p, n),
                "small": cat_col(rng, list(small_counts), ps, n),
                "x": np.round(rng.normal(0, 1, n), 2),
            }
        )

    write_case(
        "many_categories",
        {"training": trn, "synthetic": sample(N_SYN), "holdout": sample(N_HOL)},
        None,
        note="cat: 19 categories in training, ties at the top-10 boundary, rare ones (<5); "
        "small: 7 categories, s6/s7 (<5 occurrences) are within the top 10",
    )


def case_empty_strings_csv():
    rng = np.random.default_rng(105)
    # pandas.read_csv turns both an empty field and a quoted "" into NA, and also the
    # literal strings NA, null, None, n/a, NaN (its default na_values).
    tokens = ["a", "b", "c", "", '""', "NA", "null", "None", "n/a", "NaN", " "]

    def make(n, probs):
        s = cat_col(rng, tokens, probs, n)
        num = np.round(rng.normal(10, 2, n), 1).astype(object)
        num[rng.random(n) < 0.1] = ""
        lines = ["s,num,k"]
        for a, b, k in zip(s, num, cat_col(rng, ["u", "v"], [1, 1], n)):
            lines.append(f"{a},{b},{k}")
        return "\n".join(lines) + "\n"

    write_case(
        "empty_strings_csv",
        {
            "training": make(N_TRN, [30, 20, 10, 10, 8, 6, 5, 4, 3, 2, 3]),
            "synthetic": make(N_SYN, [25, 25, 10, 5, 5, 10, 5, 5, 3, 2, 5]),
        },
        None,
        note="column s holds empty fields, quoted \"\", NA/null/None/n/a/NaN literals and a single space",
    )


def case_empty_strings_parquet():
    rng = np.random.default_rng(106)

    def make(n, probs):
        s = cat_col(rng, ["a", "b", "c", "", "__NONE__", " "], probs, n)
        s = pd.Series(s, dtype=object).replace("__NONE__", None)
        return pd.DataFrame(
            {
                "s": s.astype("string"),
                "t": cat_col(rng, ["x", "y", ""], [5, 3, 2], n),
                "v": np.round(rng.normal(0, 1, n), 3),
            }
        )

    write_case(
        "empty_strings_parquet",
        {
            "training": make(N_TRN, [30, 20, 10, 15, 10, 5]),
            "synthetic": make(N_SYN, [30, 25, 10, 5, 20, 10]),
            "holdout": make(N_HOL, [30, 20, 10, 15, 10, 5]),
        },
        None,
        fmt="parquet",
        note="s: string column with '', nulls and ' '; t: '' but no nulls",
    )


def case_unseen_categories():
    rng = np.random.default_rng(107)

    def make(n, syn=False):
        cats = ["A", "B", "C", "D", "E"]
        probs = [5, 4, 3, 2, 1]
        if syn:
            cats += ["F", "G", "zz"]
            probs += [2, 1, 1]
        c = pd.Series(cat_col(rng, cats, probs, n), dtype=object)
        return pd.DataFrame(
            {
                "c": with_missing(rng, c, 0.05 if syn else 0.0),
                "d": cat_col(rng, ["m", "n"], [1, 1], n) if not syn else cat_col(rng, ["m", "n", "o"], [1, 1, 1], n),
                "x": np.round(rng.uniform(0, 10, n), 2),
            }
        )

    write_case(
        "unseen_categories",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True), "holdout": make(N_HOL)},
        None,
        note="synthetic adds categories F, G, zz (c) and o (d) never seen in training, and missing values in c",
    )


def case_out_of_range_numeric():
    rng = np.random.default_rng(108)

    def make(n, syn=False):
        x = np.round(rng.uniform(0, 100, n), 2)
        y = rng.integers(10, 21, n)
        if syn:
            u = rng.random(n)
            x = np.where(u < 0.1, np.round(rng.uniform(-50, -1, n), 2), x)
            x = np.where(u > 0.9, np.round(rng.uniform(150, 1e6, n), 2), x)
            v = rng.random(n)
            y = np.where(v < 0.05, -5, np.where(v > 0.95, 99, y))
        return pd.DataFrame({"x": x, "y": y, "c": cat_col(rng, ["a", "b"], [2, 1], n)})

    write_case(
        "out_of_range_numeric",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True)},
        None,
        note="synthetic x has 10% below the training min and 10% above the max; y (11 distinct ints) gets -5 and 99",
    )


def case_numeric_coercion():
    rng = np.random.default_rng(109)

    def make(n, syn=False):
        x = np.round(rng.normal(100, 15, n), 1).astype(object)
        c_digits = cat_col(rng, ["1", "2", "3", "x"], [4, 3, 2, 1], n)
        if syn:
            bad = rng.random(n)
            x[bad < 0.04] = "abc"
            x[(bad >= 0.04) & (bad < 0.06)] = "1,5"
            x[(bad >= 0.06) & (bad < 0.08)] = "--"
            x[(bad >= 0.08) & (bad < 0.10)] = "1e3"  # numeric text in an object column -> 1000.0
            # synthetic c_digits: digits only, some missing -> pandas reads float64 ("1.0")
            c_digits = cat_col(rng, ["1", "2", "3"], [4, 3, 2], n)
            c_digits[rng.random(n) < 0.1] = ""
        return pd.DataFrame({"x": x, "c_digits": c_digits, "z": np.round(rng.uniform(0, 1, n), 3)})

    write_case(
        "numeric_coercion",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True), "holdout": make(N_HOL)},
        None,
        note="x numeric in training, synthetic has text ('abc', '1,5', '--', '1e3'); c_digits has a letter "
        "in training (object) but only digits + blanks in synthetic (read as float64)",
    )


def case_parquet_datetime_bool():
    rng = np.random.default_rng(110)
    base = np.datetime64("2020-01-01T00:00:00", "s")

    def make(n, syn=False):
        secs = rng.integers(0, 4 * 365 * 86400, n)
        if syn:
            secs = np.where(rng.random(n) < 0.05, -86400 * 400, secs)  # before the training range
            secs = np.where(rng.random(n) < 0.05, 6 * 365 * 86400, secs)  # after
        ts = pd.Series((base + secs.astype("timedelta64[s]")).astype("datetime64[ns]"))
        ts[rng.random(n) < 0.05] = pd.NaT
        day = pd.Series((np.datetime64("2021-03-01", "D") + rng.integers(0, 60, n).astype("timedelta64[D]")).astype(
            "datetime64[ns]"
        ))
        flag = rng.random(n) < (0.3 if not syn else 0.4)
        flag_na = pd.array(rng.random(n) < 0.5, dtype="boolean")
        flag_na[rng.random(n) < 0.1] = pd.NA
        return pd.DataFrame(
            {
                "ts": ts,
                "day": day,
                "flag": flag,
                "flag_na": flag_na,
                "n": np.round(rng.normal(0, 1, n), 3),
            }
        )

    write_case(
        "parquet_datetime_bool",
        {"training": make(N_TRN), "synthetic": make(N_SYN, syn=True), "holdout": make(N_HOL)},
        None,
        fmt="parquet",
        note="ts: timestamp[ns] with NaT, synthetic partly outside the training range; day: dates at midnight "
        "(60 distinct); flag: bool; flag_na: nullable boolean",
    )


def case_seq_short_sequences():
    rng = np.random.default_rng(111)

    def make(n_groups, prefix, one_share):
        rows = []
        for g in range(n_groups):
            length = 1 if rng.random() < one_share else int(rng.integers(2, 9))
            state = rng.choice(["s0", "s1", "s2", "s3"])
            for step in range(length):
                if rng.random() < 0.3:
                    state = rng.choice(["s0", "s1", "s2", "s3"])
                rows.append(
                    {
                        "gid": f"{prefix}{g:04d}",
                        "state": state,
                        "amount": round(float(rng.lognormal(3, 1)), 2),
                        "step": step,
                    }
                )
        return pd.DataFrame(rows)

    write_case(
        "seq_short_sequences",
        {"training": make(120, "t", 0.4), "synthetic": make(130, "s", 0.5), "holdout": make(100, "h", 0.4)},
        "gid",
        note="sequential: ~40-50% one-row sequences, the rest 2-8 rows; key column gid",
    )


def case_integer_with_missing():
    rng = np.random.default_rng(112)

    def make(n):
        i = pd.array(rng.integers(0, 51, n), dtype="Int64")
        i[rng.random(n) < 0.15] = pd.NA
        neg = pd.array(rng.integers(-30, 31, n), dtype="Int64")
        neg[rng.random(n) < 0.05] = pd.NA
        return pd.DataFrame({"i": i, "neg": neg, "j": rng.integers(1000, 100001, n), "c": cat_col(rng, ["a", "b"], [1, 1], n)})

    write_case(
        "integer_with_missing",
        {"training": make(N_TRN), "synthetic": make(N_SYN)},
        None,
        note="i, neg: integers with missing values (pandas reads float64); j: integers without missing",
    )


def case_float_precision():
    rng = np.random.default_rng(113)

    def make(n):
        return pd.DataFrame(
            {
                "p": np.round(rng.uniform(0.1, 0.2, n), 6),  # values like 0.123456
                "tiny": rng.normal(0, 1, n) * 1e-7,
                "huge": np.round(1e9 + rng.normal(0, 1e3, n), 1),
                "wide": np.round(rng.uniform(0, 5e9, n)),
                "close": 1.0 + rng.integers(0, 40, n) * 1e-7,  # breaks that differ only at the 7th decimal
            }
        )

    write_case(
        "float_precision",
        {"training": make(N_TRN), "synthetic": make(N_SYN), "holdout": make(N_HOL)},
        None,
        note="p: 6-decimal values; tiny: ~1e-7 scale (written in e-notation); huge: 1e9 +- 1e3; "
        "wide: 0..5e9 integers as floats; close: 1 + k*1e-7",
    )


EDGE_CASES = [
    case_all_missing_numeric,
    case_constant_column,
    case_few_distinct_numeric,
    case_many_categories,
    case_empty_strings_csv,
    case_empty_strings_parquet,
    case_unseen_categories,
    case_out_of_range_numeric,
    case_numeric_coercion,
    case_parquet_datetime_bool,
    case_seq_short_sequences,
    case_integer_with_missing,
    case_float_precision,
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared-data", default="/work/shared/data", type=Path)
    ap.add_argument("--skip-shared", action="store_true", help="only (re)write the edge cases")
    args = ap.parse_args()
    if not args.skip_shared:
        make_shared_fixtures(args.shared_data)
    for f in EDGE_CASES:
        f()
    for d in sorted(EDGE.iterdir()):
        sizes = {p.name: p.stat().st_size for p in sorted(d.iterdir())}
        print(f"edge/{d.name}: {sizes}")
        for p in d.glob("*.csv"):
            assert p.stat().st_size <= 50_000, p


if __name__ == "__main__":
    main()
