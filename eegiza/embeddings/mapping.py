"""Cross-lingual mapping of two monolingual embedding spaces into one (numpy/scipy, CPU, float32).

The method is VecMap's self-learning framework (Artetxe, Labaka & Agirre 2018, "A robust
self-learning method for fully unsupervised cross-lingual mappings of word embeddings", ACL):

1. Normalise each space: unit length, mean-centre, unit length (:func:`normalize`).
2. Initial dictionary: *unsupervised* from the similarity distributions (each word's sorted
   similarities to the ``init_size`` most frequent words of its own language, a rotation-invariant
   signature, compared across languages with CSLS), or *seeded* from a given dictionary
   (e.g. identical strings and the bitext's Model 1 dictionary).
3. Self-learning, repeated until the objective stops improving: from the dictionary, whiten both
   sides, take the orthogonal Procrustes solution (SVD of X_D^T Z_D), re-weight by the singular
   values (power 0.5 each side) and de-whiten; then induce a new dictionary over the
   ``vocabulary_cutoff`` most frequent words by CSLS nearest neighbours in both directions, with
   stochastic dropout of similarities (keep probability starting at ``stochastic_initial``, doubled
   whenever the objective has not improved for ``stochastic_interval`` iterations).

CSLS (Conneau et al. 2018): csls(x, z) = 2 cos(x, z) - r_Z(x) - r_X(z), r the mean cosine of the
k nearest neighbours in the other language. Every similarity matrix is computed in row batches so
memory stays bounded (``batch_bytes``), e.g. for 200k x 300 vocabularies.

The result is a :class:`Mapping`: the normalisation mean and one linear map per side, so vectors
not in the training vocabulary (FastText subword vectors) can be mapped the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

DEFAULT_BATCH_BYTES = 1 << 27   # 128 MB per similarity block


class MappingError(ValueError):
    """The two spaces cannot be mapped (mismatched dimension, empty dictionary...)."""


# --------------------------------------------------------------------------- normalisation

def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


def normalize(x: np.ndarray) -> tuple:
    """unit, centre, unit; returns (normalised matrix, the mean removed)."""
    x = unit_rows(np.asarray(x, np.float32))
    mean = x.mean(axis=0, dtype=np.float64).astype(np.float32)
    return unit_rows(x - mean), mean


# --------------------------------------------------------------------------- batched similarity

def _batch_rows(n_cols: int, batch_bytes: int) -> int:
    return max(1, int(batch_bytes // (8 * max(1, n_cols))))


def topk_mean_similarity(queries: np.ndarray, database: np.ndarray, k: int,
                         batch_bytes: int = DEFAULT_BATCH_BYTES) -> np.ndarray:
    """For every query row, the mean of its ``k`` largest dot products with the database rows
    (the CSLS neighbourhood term r when both are unit vectors)."""
    n, m = len(queries), len(database)
    out = np.zeros(n, np.float32)
    if n == 0 or m == 0:
        return out
    k = min(k, m)
    step = _batch_rows(m, batch_bytes)
    for lo in range(0, n, step):
        sims = queries[lo:lo + step] @ database.T
        out[lo:lo + step] = np.partition(sims, m - k, axis=1)[:, m - k:].mean(axis=1)
    return out


def csls_nearest(x: np.ndarray, z: np.ndarray, r_z: np.ndarray, keep_prob: float = 1.0,
                 rng: Optional[np.random.Generator] = None,
                 batch_bytes: int = DEFAULT_BATCH_BYTES) -> tuple:
    """For every row of ``x``: the row of ``z`` maximising cos(x, z) - r_z(z)/2 (CSLS up to
    terms constant per query) and that value. With ``keep_prob < 1`` each similarity is
    dropped (set to 0) with probability 1 - keep_prob, as in stochastic dictionary induction."""
    n = len(x)
    best = np.zeros(n, np.int64)
    value = np.zeros(n, np.float32)
    step = _batch_rows(len(z), batch_bytes)
    half_r = (0.5 * r_z).astype(np.float32)
    for lo in range(0, n, step):
        sims = x[lo:lo + step] @ z.T
        sims -= half_r
        if keep_prob < 1.0:
            sims *= rng.random(sims.shape, dtype=np.float32) < keep_prob
        best[lo:lo + step] = np.argmax(sims, axis=1)
        value[lo:lo + step] = sims[np.arange(len(sims)), best[lo:lo + step]]
    return best, value


def csls_dictionary(x: np.ndarray, z: np.ndarray, k: int, keep_prob: float = 1.0,
                    rng: Optional[np.random.Generator] = None, batch_bytes: int = DEFAULT_BATCH_BYTES) -> tuple:
    """CSLS nearest neighbours in both directions with two passes over the similarity matrix
    (instead of four): pass 1 gives r_x (row top-k means) and r_z (running column top-k), pass 2
    the argmax of cos - r/2 along rows (x -> z) and columns (z -> x), with the same dropout mask
    for both directions. Returns (fwd, fwd_value, bwd, bwd_value)."""
    n, m = len(x), len(z)
    kx, kz = min(k, m), min(k, n)
    step = _batch_rows(m, batch_bytes)
    r_x = np.empty(n, np.float32)
    col_top = np.full((kz, m), -np.inf, np.float32)
    for lo in range(0, n, step):
        sims = x[lo:lo + step] @ z.T
        r_x[lo:lo + step] = np.partition(sims, m - kx, axis=1)[:, m - kx:].mean(axis=1)
        both = np.concatenate([col_top, sims])
        col_top = np.partition(both, len(both) - kz, axis=0)[len(both) - kz:]
    r_z = col_top.mean(axis=0)
    fwd, fwd_val = np.empty(n, np.int64), np.empty(n, np.float32)
    bwd, bwd_val = np.zeros(m, np.int64), np.full(m, -np.inf, np.float32)
    for lo in range(0, n, step):
        sims = x[lo:lo + step] @ z.T
        if keep_prob < 1.0:
            sims *= rng.random(sims.shape, dtype=np.float32) < keep_prob
        rows = np.arange(len(sims))
        adj = sims - 0.5 * r_z
        fwd[lo:lo + step] = best = np.argmax(adj, axis=1)
        fwd_val[lo:lo + step] = adj[rows, best]
        adj = sims - 0.5 * r_x[lo:lo + step, None]
        best = np.argmax(adj, axis=0)
        value = adj[best, np.arange(m)]
        better = value > bwd_val
        bwd[better], bwd_val[better] = best[better] + lo, value[better]
    return fwd, fwd_val, bwd, bwd_val


# --------------------------------------------------------------------------- linear algebra

def orthogonal_procrustes(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The orthogonal W minimising ||x W - z||_F (rows of x and z are dictionary pairs)."""
    u, _, vt = np.linalg.svd(x.T.astype(np.float64) @ z.astype(np.float64))
    return (u @ vt).astype(np.float32)


def whitening(x: np.ndarray) -> np.ndarray:
    """(x^T x)^(-1/2) from the eigendecomposition of the d x d Gram matrix, with singular values
    floored at 1e-3 of the largest (few dictionary pairs)."""
    x = x.astype(np.float64)
    eigval, eigvec = np.linalg.eigh(x.T @ x)
    s = np.sqrt(np.maximum(eigval, 0.0))
    s = np.maximum(s, 1e-3 * s.max())
    return (eigvec * (1.0 / s)) @ eigvec.T


def self_learning_step(x: np.ndarray, z: np.ndarray, src: np.ndarray, trg: np.ndarray,
                       reweight: float = 0.5) -> tuple:
    """VecMap's mapping step from a dictionary (src[k], trg[k]): whitening, orthogonal mapping,
    re-weighting by singular values^reweight, de-whitening. Returns the linear maps (Tx, Tz),
    float32 d x d, such that x @ Tx and z @ Tz live in one space."""
    wx1, wz1 = whitening(x[src]), whitening(z[trg])
    u, s, vt = np.linalg.svd((x[src] @ wx1).T @ (z[trg] @ wz1))
    wx2, wz2 = u, vt.T
    scale = s ** reweight
    tx = (wx1 @ wx2 * scale) @ wx2.T @ np.linalg.inv(wx1) @ wx2
    tz = (wz1 @ wz2 * scale) @ wz2.T @ np.linalg.inv(wz1) @ wz2
    return tx.astype(np.float32), tz.astype(np.float32)


# --------------------------------------------------------------------------- initial dictionaries

def similarity_distribution_seed(x: np.ndarray, z: np.ndarray, init_size: int = 4000,
                                 csls_k: int = 10) -> tuple:
    """Unsupervised initial dictionary: rows sorted of sqrt(X X^T) (a rotation-invariant signature
    of each of the ``init_size`` most frequent words), matched across languages by CSLS in both
    directions. Returns (src indices, trg indices)."""
    n = min(init_size, len(x), len(z))
    def signature(m):
        u, s, _ = np.linalg.svd(m[:n].astype(np.float64), full_matrices=False)
        sim = (u * s) @ u.T
        sim.sort(axis=1)
        return normalize(sim.astype(np.float32))[0]
    xs, zs = signature(x), signature(z)
    sim = xs @ zs.T
    k = min(csls_k, n)
    r_fwd = np.partition(sim, n - k, axis=1)[:, n - k:].mean(axis=1)
    r_bwd = np.partition(sim.T, n - k, axis=1)[:, n - k:].mean(axis=1)
    sim -= r_fwd[:, None] / 2 + r_bwd[None, :] / 2
    src = np.concatenate([np.arange(n), sim.argmax(axis=0)])
    trg = np.concatenate([sim.argmax(axis=1), np.arange(n)])
    return src, trg


# --------------------------------------------------------------------------- the mapping

@dataclass
class Mapping:
    """How to bring raw vectors of either language into the shared space."""

    src_mean: np.ndarray
    tgt_mean: np.ndarray
    src_map: np.ndarray
    tgt_map: np.ndarray
    log: list = field(default_factory=list)

    def map_src(self, vectors: np.ndarray) -> np.ndarray:
        return _apply(vectors, self.src_mean, self.src_map)

    def map_tgt(self, vectors: np.ndarray) -> np.ndarray:
        return _apply(vectors, self.tgt_mean, self.tgt_map)


def _apply(vectors, mean, linear):
    """Normalise like :func:`normalize` with the training mean, map, and scale to unit length."""
    x = unit_rows(unit_rows(np.asarray(vectors, np.float32)) - mean)
    return unit_rows(x @ linear)


def check_dimensions(x: np.ndarray, z: np.ndarray, x_name="source vectors", z_name="target vectors") -> None:
    if x.ndim != 2 or z.ndim != 2:
        raise MappingError(f"{x_name} and {z_name} must be matrices")
    if x.shape[1] != z.shape[1]:
        raise MappingError(f"{x_name} have dimension {x.shape[1]} but {z_name} have {z.shape[1]}: "
                           "both languages need vectors of the same dimension")
    if len(x) == 0 or len(z) == 0:
        raise MappingError(f"empty vocabulary: {x_name} has {len(x)} words, {z_name} has {len(z)}")


def map_embeddings(x: np.ndarray, z: np.ndarray, seed: Optional[tuple] = None, *,
                   vocabulary_cutoff: int = 20000, csls_k: int = 10, init_size: int = 4000,
                   stochastic_initial: Optional[float] = None, stochastic_multiplier: float = 2.0,
                   stochastic_interval: int = 50, final_patience: int = 3, threshold: float = 1e-6, max_iterations: int = 1000,
                   reweight: float = 0.5, self_learning: bool = True, random_seed: int = 0,
                   batch_bytes: int = DEFAULT_BATCH_BYTES,
                   progress: Optional[Callable[[str], None]] = None) -> Mapping:
    """Map raw embeddings ``x`` (source) and ``z`` (target), rows sorted most frequent first.

    ``seed`` = (src indices, trg indices) of a seed dictionary; None = fully unsupervised
    (similarity-distribution initialisation). ``stochastic_initial`` defaults to 0.1 when
    unsupervised and 1.0 (no dropout) when seeded, as in VecMap. ``self_learning=False`` returns
    the mapping learnt from the seed alone (no dictionary induction). Without dropout
    (keep probability 1) the induction is deterministic: it stops at a fixed point (the same
    dictionary twice) or after ``final_patience`` iterations without improvement."""
    check_dimensions(x, z)
    xn, x_mean = normalize(x)
    zn, z_mean = normalize(z)
    rng = np.random.default_rng(random_seed)
    if seed is None:
        src, trg = similarity_distribution_seed(xn, zn, init_size, csls_k)
        keep_prob = 0.1 if stochastic_initial is None else stochastic_initial
    else:
        src, trg = (np.asarray(a, np.int64) for a in seed)
        if len(src) == 0 or len(src) != len(trg):
            raise MappingError(f"the seed dictionary is empty or uneven ({len(src)} / {len(trg)} entries)")
        keep_prob = 1.0 if stochastic_initial is None else stochastic_initial
    log = []
    cut_x, cut_z = min(vocabulary_cutoff, len(xn)), min(vocabulary_cutoff, len(zn))
    best_objective, last_improvement = -np.inf, 0
    tx = tz = None
    for it in range(1, max_iterations + 1):
        tx, tz = self_learning_step(xn, zn, src, trg, reweight)
        if not self_learning:
            break
        xw, zw = unit_rows(xn[:cut_x] @ tx), unit_rows(zn[:cut_z] @ tz)
        fwd, fwd_val, bwd, bwd_val = csls_dictionary(xw, zw, csls_k, keep_prob, rng, batch_bytes)
        new_src = np.concatenate([np.arange(cut_x), bwd])
        new_trg = np.concatenate([fwd, np.arange(cut_z)])
        fixed_point = keep_prob >= 1.0 and len(new_src) == len(src) and np.array_equal(new_src, src) \
            and np.array_equal(new_trg, trg)
        src, trg = new_src, new_trg
        objective = float(fwd_val.mean() + bwd_val.mean()) / 2
        log.append({"iteration": it, "keep_prob": keep_prob, "objective": objective})
        if progress is not None:
            progress(f"self-learning iteration {it}: objective {objective:.4f} (keep {keep_prob:.2f})")
        if fixed_point:
            break
        patience = stochastic_interval if keep_prob < 1.0 else min(stochastic_interval, final_patience)
        if objective - best_objective >= threshold:
            best_objective, last_improvement = objective, it
        elif it - last_improvement > patience:
            if keep_prob >= 1.0:
                break
            keep_prob = min(1.0, stochastic_multiplier * keep_prob)
            last_improvement = it
    return Mapping(x_mean, z_mean, tx, tz, log)


def refine_mapping(x: np.ndarray, z: np.ndarray, seed: tuple, *, rounds: int = 3,
                   vocabulary_cutoff: int = 5000, csls_k: int = 10, whiten: bool = False,
                   batch_bytes: int = DEFAULT_BATCH_BYTES,
                   progress: Optional[Callable[[str], None]] = None) -> Mapping:
    """A mapping fitted to a seed dictionary, then refined ``rounds`` times: map, add the mutual
    CSLS nearest neighbours among the ``vocabulary_cutoff`` most frequent words of each side to the
    seed (the seed itself always stays, unlike :func:`map_embeddings`' self-learning, which replaces
    it by its own dictionary), fit again. The fit is orthogonal Procrustes on the normalised vectors
    (``whiten=True``: VecMap's whitened, re-weighted step of :func:`self_learning_step`). Deterministic."""
    check_dimensions(x, z)
    xn, x_mean = normalize(x)
    zn, z_mean = normalize(z)
    seed_src, seed_trg = (np.asarray(a, np.int64) for a in seed)
    if len(seed_src) == 0 or len(seed_src) != len(seed_trg):
        raise MappingError(f"the seed dictionary is empty or uneven ({len(seed_src)} / {len(seed_trg)} entries)")
    src, trg = seed_src, seed_trg
    cut_x, cut_z = min(vocabulary_cutoff, len(xn)), min(vocabulary_cutoff, len(zn))
    identity = np.eye(xn.shape[1], dtype=np.float32)
    log = []
    for it in range(rounds + 1):
        if whiten:
            tx, tz = self_learning_step(xn, zn, src, trg)
        else:
            tx, tz = orthogonal_procrustes(xn[src], zn[trg]), identity
        if it == rounds:
            break
        xw, zw = unit_rows(xn[:cut_x] @ tx), unit_rows(zn[:cut_z] @ tz)
        fwd, fwd_val, bwd, _ = csls_dictionary(xw, zw, csls_k, batch_bytes=batch_bytes)
        mutual = np.flatnonzero(bwd[fwd] == np.arange(cut_x))
        src = np.concatenate([seed_src, mutual])
        trg = np.concatenate([seed_trg, fwd[mutual]])
        log.append({"iteration": it + 1, "mutual_pairs": int(len(mutual)), "objective": float(fwd_val.mean())})
        if progress is not None:
            progress(f"refinement round {it + 1}: {len(mutual)} mutual nearest neighbours added to the seed")
    return Mapping(x_mean, z_mean, tx, tz, log)


def identical_seed(src_words: Sequence[str], tgt_words: Sequence[str]) -> tuple:
    """Seed dictionary of the strings present in both vocabularies (index pairs)."""
    index = {w: i for i, w in enumerate(tgt_words)}
    pairs = [(i, index[w]) for i, w in enumerate(src_words) if w in index]
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.asarray(pairs, np.int64)
    return a[:, 0], a[:, 1]
