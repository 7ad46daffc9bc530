"""Dev helper: bin the shared data with the reference's own binning and dump u8 code matrices.

Run from a directory other than the mostlyai-qa source (a logging.py there shadows stdlib):
    cd /tmp && /opt/refqa/bin/python /work/wt-select/scripts/dev/dump_codes.py /work/shared/data /tmp/ss

Writes <out>/<name>.u8 (column-major, n_rows * n_cols bytes) and <name>.json (n_rows, names,
cardinalities) for:
  sel_trn, sel_pool : bins fitted on training only (what `select` sees)
  ev_ori,  ev_pool  : bins fitted on training+holdout (what the evaluation sees)
"""
import json
import os
import sys

import numpy as np
import pandas as pd
from mostlyai.qa._accuracy import bin_data

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def read(name):
    df = pd.read_csv(os.path.join(src, name))
    return df.drop(columns=["group_id"])


def dump(name, binned):
    names = list(binned.columns)
    cols, cards = [], []
    for c in names:
        cat = binned[c]
        codes = cat.cat.codes.to_numpy()
        assert codes.min() >= 0, (name, c)
        k = len(cat.cat.categories)
        assert k <= 255
        cols.append(codes.astype(np.uint8))
        cards.append(int(k))
    arr = np.stack(cols)  # n_cols x n_rows, column-major
    arr.tofile(os.path.join(out, name + ".u8"))
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"n_rows": int(len(binned)), "names": names, "cardinalities": cards}, f)
    print(name, arr.shape, cards)


trn = read("seq-training.csv.gz")
hol = read("seq-holdout.csv.gz")
pool = read("seq-pool-dev.csv.gz")

trn_bin, bins = bin_data(trn, 10)
pool_bin, _ = bin_data(pool, bins)
dump("sel_trn", trn_bin)
dump("sel_pool", pool_bin)

ori = pd.concat([trn, hol], axis=0).reset_index(drop=True)
ori_bin, bins2 = bin_data(ori, 10)
pool_bin2, _ = bin_data(pool, bins2)
dump("ev_ori", ori_bin)
dump("ev_pool", pool_bin2)
# training binned with the evaluation bins: lets the dev tool score "training itself"
trn_bin2, _ = bin_data(trn, bins2)
dump("ev_trn", trn_bin2)
