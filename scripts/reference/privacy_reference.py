"""Reference privacy figures (mostlyai-qa 1.9.8) for synthsift's privacy metrics.

Two steps:

  python privacy_reference.py make-data OUT [--seed 1]
      Writes the comparison files from ../shared/data into OUT:
        trn-seq.csv, hol-seq.csv                 training / holdout (sequential, with group_id)
        trn-flat.csv, hol-flat.csv               the same rows without group_id
        syn-seq-random.csv                       20,000 random sequences of the dev pool
        syn-seq-leaky.csv                        half of those replaced by random training sequences
        syn-flat-random.csv                      N = training rows random rows of the dev pool (no group_id)
        syn-flat-leaky.csv                       half of those rows replaced by random training rows
      Lines are copied byte for byte (no re-formatting of values).

  python privacy_reference.py reference OUT CASE...   (CASE: flat-random flat-leaky seq-random seq-leaky)
      Runs the reference's own embedding preparation and distance path
      (`prepare_data_for_embeddings` + `calculate_distances` + the metric formulas of
      `reporting._calculate_metrics`) after `set_random_state(1)`, as `qa.report` would,
      and prints one JSON line per case with the Distances metrics and the seconds spent.

Run it with the venv holding mostlyai-qa 1.9.8 and pandas<3, from a directory other than the
package source (its `logging.py` shadows the standard library).
"""

import gzip
import json
import random
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")


def read_lines(name):
    with gzip.open(DATA / name, "rt", newline="") as f:
        lines = f.read().splitlines()
    return lines[0], lines[1:]


def groups_of(lines):
    out = {}
    for line in lines:
        out.setdefault(line.split(",", 1)[0], []).append(line)
    return out


def drop_key(line):
    return line.split(",", 1)[1]


def write(path, header, lines):
    with open(path, "w", newline="") as f:
        f.write(header + "\n")
        for line in lines:
            f.write(line + "\n")


def make_data(out: Path, seed: int):
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    header, trn = read_lines("seq-training.csv.gz")
    _, hol = read_lines("seq-holdout.csv.gz")
    _, pool = read_lines("seq-pool-dev.csv.gz")
    flat_header = header.split(",", 1)[1]
    write(out / "trn-seq.csv", header, trn)
    write(out / "hol-seq.csv", header, hol)
    write(out / "trn-flat.csv", flat_header, [drop_key(x) for x in trn])
    write(out / "hol-flat.csv", flat_header, [drop_key(x) for x in hol])
    # sequential: 20,000 random pool sequences; leaky: half replaced by training sequences
    trn_groups = groups_of(trn)
    pool_groups = groups_of(pool)
    n_seq = len(trn_groups)
    keys = rng.sample(sorted(pool_groups), n_seq)
    write(out / "syn-seq-random.csv", header, [x for k in keys for x in pool_groups[k]])
    leak_keys = rng.sample(sorted(trn_groups), n_seq // 2)
    leaky = [x for k in keys[: n_seq - n_seq // 2] for x in pool_groups[k]]
    leaky += [x for k in leak_keys for x in trn_groups[k]]
    write(out / "syn-seq-leaky.csv", header, leaky)
    # flat: N = training rows random pool rows; leaky: half replaced by training rows
    n = len(trn)
    rows = rng.sample(range(len(pool)), n)
    flat = [drop_key(pool[i]) for i in rows]
    write(out / "syn-flat-random.csv", flat_header, flat)
    leak_rows = rng.sample(range(len(trn)), n // 2)
    write(out / "syn-flat-leaky.csv", flat_header, flat[: n - n // 2] + [drop_key(trn[i]) for i in leak_rows])


def reference(out: Path, case: str):
    import numpy as np
    import pandas as pd
    from mostlyai.qa import _distances
    from mostlyai.qa._sampling import prepare_data_for_embeddings
    from mostlyai.qa.random_state import set_random_state

    kind = case.split("-")[0]
    trn = pd.read_csv(out / f"trn-{kind}.csv")
    hol = pd.read_csv(out / f"hol-{kind}.csv")
    syn = pd.read_csv(out / f"syn-{case}.csv")
    key = "group_id" if kind == "seq" else None
    set_random_state(1)
    t0 = time.time()
    syn_e, trn_e, hol_e = prepare_data_for_embeddings(
        syn_tgt_data=syn[trn.columns], trn_tgt_data=trn, hol_tgt_data=hol[trn.columns], tgt_context_key=key
    )
    t1 = time.time()
    d = _distances.calculate_distances(syn_embeds=syn_e, trn_embeds=trn_e, hol_embeds=hol_e)
    t2 = time.time()
    m = dict(
        case=case,
        n=int(syn_e.shape[0]),
        dims=int(syn_e.shape[1]),
        ims_training=_distances.calculate_ims(d["dcr_syn_trn"]),
        ims_holdout=_distances.calculate_ims(d["dcr_syn_hol"]),
        ims_trn_hol=_distances.calculate_ims(d["dcr_trn_hol"]),
        dcr_training=_distances.calculate_dcr(d["dcr_syn_trn"]),
        dcr_holdout=_distances.calculate_dcr(d["dcr_syn_hol"]),
        dcr_trn_hol=_distances.calculate_dcr(d["dcr_trn_hol"]),
        dcr_share=_distances.calculate_dcr_share(d["dcr_syn_trn"], d["dcr_syn_hol"]),
        nndr_training=_distances.calculate_nndr(d["nndr_syn_trn"]),
        nndr_holdout=_distances.calculate_nndr(d["nndr_syn_hol"]),
        nndr_trn_hol=_distances.calculate_nndr(d["nndr_trn_hol"]),
        seconds_embed=round(t1 - t0, 1),
        seconds_distances=round(t2 - t1, 1),
    )
    print(json.dumps({k: (float(v) if isinstance(v, np.floating) else v) for k, v in m.items()}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "make-data":
        seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
        make_data(Path(sys.argv[2]), seed)
    elif sys.argv[1] == "reference":
        import logging

        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        for case in sys.argv[3:]:
            reference(Path(sys.argv[2]), case)
    else:
        sys.exit(__doc__)
