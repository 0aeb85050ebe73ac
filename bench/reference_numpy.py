"""Reference: the EU-scale benchmark model as a vectorised NumPy/SciPy program.

Same model as scenarios/bench/eu_scale.toml: 2,800,000 organisations in 27 equal territories,
each drawing 8 partners (90 % in its own territory, the rest uniformly in the others), undirected
links without duplicates or self-links; per step every non-adopter adopts with probability
0.0005 + 0.35 x (share of adopted neighbours), one sparse matrix-vector product per step;
120 steps. Used to put the C++ kernel's benchmark numbers in context:

    /usr/bin/time -v /usr/bin/python3 bench/reference_numpy.py
"""
import sys
import time

import numpy as np
import scipy.sparse as sp

N, T, K, LOCAL, STEPS = 2_800_000, 27, 8, 0.9, 120
P, Q = 0.0005, 0.35


def main(n=N):
    rng = np.random.default_rng(2800000)
    t0 = time.perf_counter()
    size = np.full(T, n // T)
    size[: n - size.sum()] += 1
    begin = np.concatenate([[0], np.cumsum(size)])
    terr = np.repeat(np.arange(T), size)
    src = np.repeat(np.arange(n), K)
    t_src = terr[src]
    local = rng.random(src.size) < LOCAL
    dst = np.empty_like(src)
    # local: uniform among the territory's others
    r = (rng.random(src.size) * (size[t_src] - 1)).astype(np.int64)
    loc = begin[t_src] + r
    loc += loc >= src
    dst[local] = loc[local]
    # remote: uniform among organisations of other territories
    far = ~local
    r = (rng.random(far.sum()) * (n - size[t_src[far]])).astype(np.int64)
    lo = begin[t_src[far]]
    dst[far] = np.where(r < lo, r, r + size[t_src[far]])
    a = sp.coo_matrix((np.ones(src.size, dtype=np.float32), (src, dst)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float32).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    deg = np.asarray(a.sum(axis=1)).ravel()
    deg[deg == 0] = 1
    t1 = time.perf_counter()
    adopted = np.zeros(n, dtype=np.float32)
    for _ in range(STEPS):
        share = (a @ adopted) / deg
        new = (adopted == 0) & (rng.random(n) < P + Q * share)
        adopted[new] = 1
    t2 = time.perf_counter()
    print(f"organisations {n}, links {a.nnz // 2}, build {t1 - t0:.2f} s, run {t2 - t1:.2f} s, "
          f"final share {adopted.mean():.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
