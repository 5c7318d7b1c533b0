"""Cross-lingual mapping: CSLS against a direct computation, Procrustes and self-learning recover a
known random rotation of a synthetic space (seeded and fully unsupervised), and errors."""
import numpy as np
import pytest

from eegiza.embeddings.mapping import (MappingError, csls_nearest, map_embeddings, normalize,
                                       orthogonal_procrustes, topk_mean_similarity)


def _space(n=400, d=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    perm = rng.permutation(n)
    noise = 0.01 * rng.normal(size=(n, d))
    z = ((x @ q) + noise)[perm].astype(np.float32)      # z[k] is the translation of x[perm[k]]
    gold = np.empty(n, np.int64)
    gold[perm] = np.arange(n)                           # gold[i]: row of z translating x[i]
    return x, z, q, gold


def test_topk_mean_and_csls_against_direct_computation():
    rng = np.random.default_rng(3)
    x = normalize(rng.normal(size=(50, 6)))[0]
    z = normalize(rng.normal(size=(40, 6)))[0]
    k = 5
    r_x = topk_mean_similarity(x, z, k, batch_bytes=256)          # tiny batches
    r_z = topk_mean_similarity(z, x, k, batch_bytes=256)
    for i in range(len(x)):
        sims = sorted((float(x[i] @ z[j]) for j in range(len(z))), reverse=True)
        assert r_x[i] == pytest.approx(np.mean(sims[:k]), abs=1e-5)
    best, _ = csls_nearest(x, z, r_z, batch_bytes=256)
    for i in range(len(x)):
        csls = [2 * float(x[i] @ z[j]) - r_x[i] - r_z[j] for j in range(len(z))]
        assert best[i] == int(np.argmax(csls))


def test_procrustes_recovers_rotation():
    x, z, q, gold = _space()
    w = orthogonal_procrustes(x, z[gold])
    assert np.allclose(w, q, atol=1e-2)


def _precision(mapping, x, z, gold):
    xm, zm = mapping.map_src(x), mapping.map_tgt(z)
    return float(np.mean(np.argmax(xm @ zm.T, axis=1) == gold))


def test_seeded_self_learning_recovers_rotation():
    x, z, _, gold = _space()
    seed = (np.arange(30), gold[:30])
    assert _precision(map_embeddings(x, z, seed, self_learning=False), x, z, gold) > 0.95
    mapping = map_embeddings(x, z, seed, vocabulary_cutoff=400)
    assert _precision(mapping, x, z, gold) > 0.99
    assert mapping.log                                              # self-learning ran


def test_unsupervised_recovers_rotation():
    x, z, _, gold = _space(n=300, d=12, seed=5)
    mapping = map_embeddings(x, z, None, vocabulary_cutoff=300, stochastic_interval=5, init_size=300)
    assert _precision(mapping, x, z, gold) > 0.95


def test_errors():
    with pytest.raises(MappingError, match="dimension"):
        map_embeddings(np.ones((3, 4)), np.ones((3, 5)))
    with pytest.raises(MappingError, match="empty vocabulary"):
        map_embeddings(np.ones((0, 4)), np.ones((3, 4)))
    with pytest.raises(MappingError, match="seed dictionary is empty"):
        map_embeddings(np.eye(4), np.eye(4), (np.zeros(0, int), np.zeros(0, int)))


def test_two_pass_csls_dictionary_matches_direct_computation():
    from eegiza.embeddings.mapping import csls_dictionary
    rng = np.random.default_rng(7)
    x = normalize(rng.normal(size=(37, 5)))[0]
    z = normalize(rng.normal(size=(29, 5)))[0]
    k = 4
    fwd, fwd_val, bwd, bwd_val = csls_dictionary(x, z, k, batch_bytes=300)
    sims = (x.astype(np.float64) @ z.T.astype(np.float64))
    r_x = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
    r_z = np.sort(sims, axis=0)[-k:].mean(axis=0)
    csls = 2 * sims - r_x[:, None] - r_z[None, :]
    assert np.array_equal(fwd, csls.argmax(axis=1))
    assert np.array_equal(bwd, csls.argmax(axis=0))
    assert np.allclose(fwd_val, (sims - r_z / 2)[np.arange(37), fwd], atol=1e-5)
    assert np.allclose(bwd_val, (sims - r_x[:, None] / 2)[bwd, np.arange(29)], atol=1e-5)
