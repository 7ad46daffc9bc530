"""Golden category embeddings of mostlyai-qa 1.9.8 (crates/synthsift/tests/golden/embeddings.json).

How to run (from any directory except the mostlyai/qa package dir, which ships a logging.py):

    cd /tmp && /opt/refqa/bin/python /path/to/scripts/reference/make_embed_golden.py \
        [--shared-data /work/shared/data] [--out crates/synthsift/tests/golden/embeddings.json]

It records two things, both through the reference's own code:

* `vectors`: `mostlyai.qa.assets.load_embedder().encode(strings)` (model2vec's StaticModel
  with potion-base-8M, the call `_embeddings.encode_strings` makes) for the distinct values
  of the categorical columns alice, emily and john of seq-training.csv.gz (as the
  reference sees them: `astype(str)`, so a missing value is "nan") plus edge strings.
* `projections`: for each of those columns, `_embeddings.encode_strings` run on the whole
  training column (no holdout) with a synthetic frame holding every distinct value once and
  one unseen value; the rows of its output are the per-column PCA scores of each category
  and of `_RARE_`.

Values are rounded to 8 decimals (the model works in float32); the Rust test compares
with a tolerance of 1e-5.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
COLUMNS = ["alice", "emily", "john"]
EDGE_STRINGS = [
    "",
    "_RARE_",
    "(empty)",
    "nan",
    "Zürich",
    "東京",
    "12345",
    "3.14",
    "-1.0",
    "   ",
    " padded value ",
    "tab\tand\nnewline",
    "MiXeD CaSe",
    "mixed case",
    "UPPER",
    "don't-stop_me.now!",
    "emoji 🙂 here",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 300),
]


def rounded(a: np.ndarray) -> list:
    return np.round(a.astype(np.float64), 8).tolist()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared-data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(REPO / "crates/synthsift/tests/golden/embeddings.json"))
    args = ap.parse_args()

    import mostlyai.qa as qa
    import model2vec
    import sklearn
    from mostlyai.qa._embeddings import encode_strings
    from mostlyai.qa.assets import load_embedder

    trn = pd.read_csv(Path(args.shared_data) / "seq-training.csv.gz")
    embedder = load_embedder()

    strings: list[str] = []
    for col in COLUMNS:
        for v in trn[col].astype(str).unique():
            if v not in strings:
                strings.append(v)
    strings += [s for s in EDGE_STRINGS if s not in strings]
    vectors = embedder.encode(strings)

    projections = []
    for col in COLUMNS:
        values = trn[col].astype(str).value_counts().index.to_list()
        syn = pd.DataFrame({col: values + ["never seen in training"]})
        syn_str, _, _ = encode_strings(syn=syn, trn=trn[[col]], hol=None)
        projections.append(
            {
                "column": col,
                "values": values,
                "scores": rounded(syn_str.to_numpy()),
            }
        )

    out = {
        "about": "written by scripts/reference/make_embed_golden.py",
        "versions": {
            "mostlyai-qa": qa.__version__,
            "model2vec": model2vec.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        },
        "model": "potion-base-8M",
        "strings": strings,
        "vectors": rounded(vectors),
        "projections": projections,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{args.out}: {len(strings)} strings, {len(projections)} projections")


if __name__ == "__main__":
    main()
