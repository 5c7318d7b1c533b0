"""The embedding prior's honest precision gate (issue 16): the bitext dictionary is split into a
part the mapping is fitted to and a held-out part it is judged on; a perfect mapping scores 1 on
the held-out part and opens the gate, random vectors keep it shut and leave the alignment exactly
as without the prior. Also the confident-pair filter and the seed-keeping Procrustes refinement."""
from types import SimpleNamespace

import numpy as np
import pytest

from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.embeddings.calibrate import confident_pairs, mutual_best_pairs, split_dictionary
from eegiza.embeddings.mapping import MappingError, refine_mapping
from eegiza.embeddings.vectors import WordVectors, save_word2vec
from eegiza.train import train_direction
from test_embeddings_prior import synthetic_sentences

N_WORDS, DIM = 40, 16


def _bitext(n_pairs=300, seed=0):
    return synthetic_sentences(n_pairs, N_WORDS, seed)


def _write_vectors(folder, rotated: bool):
    """src.vec: random vectors of s0..s39; tgt.vec: the same vectors rotated (a perfect mapping
    exists) or fresh random ones (none does)."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=(N_WORDS, DIM)).astype(np.float32)
    if rotated:
        q, _ = np.linalg.qr(rng.normal(size=(DIM, DIM)))
        other = (base @ q).astype(np.float32)
    else:
        other = rng.normal(size=(N_WORDS, DIM)).astype(np.float32)
    save_word2vec(folder / "src.vec", WordVectors([f"s{k}" for k in range(N_WORDS)], base))
    save_word2vec(folder / "tgt.vec", WordVectors([f"t{k}" for k in range(N_WORDS)], other))


def test_split_dictionary_is_deterministic_disjoint_and_spans_frequencies():
    rng = np.random.default_rng(0)
    pairs = np.stack([rng.permutation(50) + 1, rng.permutation(50) + 1], axis=1)
    fit, held = split_dictionary(pairs, 2)
    fit2, held2 = split_dictionary(pairs[::-1], 2)                 # input order does not matter
    assert np.array_equal(fit, fit2) and np.array_equal(held, held2)
    assert len(fit) == len(held) == 25
    as_set = lambda a: {tuple(p) for p in a.tolist()}               # noqa: E731
    assert not as_set(fit) & as_set(held) and as_set(fit) | as_set(held) == as_set(pairs)
    ordered = sorted(as_set(pairs))
    assert as_set(held) == set(ordered[0::2])                        # every other pair by source id
    fit3, held3 = split_dictionary(pairs, 3)
    assert len(held3) == 17 and len(fit3) == 33
    empty_fit, empty_held = split_dictionary(np.zeros((0, 2), np.int64))
    assert empty_fit.shape == empty_held.shape == (0, 2)
    with pytest.raises(ValueError, match="at least 2"):
        split_dictionary(pairs, 1)


def test_confident_pairs_filter_matches_a_direct_reading_of_the_tables():
    src, tgt = _bitext(n_pairs=120, seed=3)
    corpus = corpus_from_sentences(src, tgt)
    cfg = AlignerConfig(schedule="1^3", threads=1)
    fwd = train_direction(corpus, cfg).ttable
    rev = train_direction(corpus.reversed(), cfg).ttable
    base = mutual_best_pairs(fwd, rev)
    sc, tc = corpus.src_vocab.counts, corpus.tgt_vocab.counts
    assert np.array_equal(confident_pairs(fwd, rev, sc, tc), base)
    for min_prob, min_count in ((0.3, 1), (0.0, 20), (0.5, 10)):
        expected = []
        for e, f in base.tolist():
            fs, ps = fwd.row(e)
            es, qs = rev.row(f)
            p_fe, p_ef = float(ps[list(fs).index(f)]), float(qs[list(es).index(e)])
            if p_fe >= min_prob and p_ef >= min_prob and sc[e] >= min_count and tc[f] >= min_count:
                expected.append((e, f))
        got = confident_pairs(fwd, rev, sc, tc, min_prob, min_count)
        assert [tuple(p) for p in got.tolist()] == expected
    assert len(confident_pairs(fwd, rev, sc, tc, 0.0, 20)) < len(base)     # the filter does filter


def test_refine_mapping_recovers_a_rotation_and_keeps_its_seed():
    rng = np.random.default_rng(0)
    n, d = 300, 12
    x = rng.normal(size=(n, d)).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    perm = rng.permutation(n)
    z = ((x @ q) + 0.01 * rng.normal(size=(n, d)))[perm].astype(np.float32)
    gold = np.empty(n, np.int64)
    gold[perm] = np.arange(n)
    seed = (np.arange(20), gold[:20])
    for whiten in (False, True):
        mapping = refine_mapping(x, z, seed, rounds=2, vocabulary_cutoff=n, whiten=whiten)
        xm, zm = mapping.map_src(x), mapping.map_tgt(z)
        assert np.mean(np.argmax(xm @ zm.T, axis=1) == gold) > 0.99
        assert [entry["iteration"] for entry in mapping.log] == [1, 2]
        assert mapping.log[-1]["mutual_pairs"] > 0.9 * n
    only_seed = refine_mapping(x, z, seed, rounds=0)
    assert only_seed.log == []
    with pytest.raises(MappingError, match="empty"):
        refine_mapping(x, z, (np.zeros(0, np.int64), np.zeros(0, np.int64)))


def _options(folder, **extra):
    return SimpleNamespace(src_vectors=folder / "src.vec", tgt_vectors=folder / "tgt.vec", schedule="1^3 H^2",
                           threads=1, prior_lambda=100.0, prob_smooth=1e-7, hmm_p_null=0.2, hmm_jump_smooth=0.2,
                           vb_alpha=0.0, **extra)


@pytest.mark.parametrize("mapping", ["seeded", "procrustes"])
def test_a_perfect_mapping_scores_one_on_held_out_pairs_and_opens_the_gate(tmp_path, mapping):
    from eegiza.embeddings import _seed_pairs, load_vectors, mapping_precision, prepare_prior
    src, tgt = _bitext()
    corpus = corpus_from_sentences(src, tgt)
    _write_vectors(tmp_path, rotated=True)
    _, _, report = prepare_prior(corpus, _options(tmp_path, mapping=mapping))
    quality, sizes = report["quality"], report["dictionary"]
    assert sizes["held_out"] >= 10 and sizes["fit"] >= 10 and sizes["pairs"] == sizes["fit"] + sizes["held_out"]
    assert quality["heldout_pairs"] == sizes["held_out"]
    assert quality["heldout_precision"] == 1.0
    assert mapping_precision(quality) == 1.0
    assert report["lambda"]["fwd"] > 0 and "reason" not in report["calibration"]
    # the seed the mapping was fitted to has no word of the held-out pairs
    from eegiza.embeddings import _model1_dictionary
    dictionary = _model1_dictionary(corpus, _options(tmp_path))
    fit, held = split_dictionary(dictionary)
    s_vec, t_vec = load_vectors(tmp_path / "src.vec"), load_vectors(tmp_path / "tgt.vec")
    seed_src, seed_trg = _seed_pairs(mapping, s_vec, t_vec, corpus, fit, held)
    held_src = {corpus.src_vocab.words[e] for e in held[:, 0]}
    held_tgt = {corpus.tgt_vocab.words[f] for f in held[:, 1]}
    assert len(seed_src) == len(fit)
    assert not {s_vec.words[i] for i in seed_src} & held_src
    assert not {t_vec.words[i] for i in seed_trg} & held_tgt


def test_random_vectors_keep_the_gate_shut_and_the_alignment_unchanged(tmp_path):
    """Unrelated spaces, mapped as usual (seeded): the mapping fits its seed pairs but cannot
    predict the held-out ones, so calibration sets lambda 0 and the trained models and the
    alignment are those of a run without the prior, array for array."""
    from eegiza import Aligner
    from eegiza.embeddings import prepare_prior
    src, tgt = _bitext()
    corpus = corpus_from_sentences(src, tgt)
    _write_vectors(tmp_path, rotated=False)
    messages = []
    _, _, report = prepare_prior(corpus, _options(tmp_path, mapping="seeded"), messages.append)
    quality = report["quality"]
    assert quality["heldout_pairs"] >= 10 and quality["heldout_precision"] < 0.25
    assert quality["heldout_precision"] < quality["model1_precision"]        # the seed half is fitted
    assert report["lambda"] == {"fwd": 0.0, "rev": 0.0}
    assert any("not used" in m for m in messages)
    assert "refit_seed_pairs" not in report                                 # no refit behind a shut gate
    # the same table precision on both sides ("auto" gives float64 with vectors, float32 without)
    common = dict(schedule="1^3 H^2 3^1", threads=1, word_classes=0, table_precision="float64")
    with_prior = Aligner(AlignerConfig(**common, src_vectors=str(tmp_path / "src.vec"),
                                       tgt_vectors=str(tmp_path / "tgt.vec"))).train(src, tgt)
    without = Aligner(AlignerConfig(**common)).train(src, tgt)
    assert with_prior.prior_report["lambda"] == {"fwd": 0.0, "rev": 0.0}
    for a, b in ((with_prior.fwd, without.fwd), (with_prior.rev, without.rev)):
        assert np.array_equal(a.ttable.probs, b.ttable.probs)
    assert with_prior.align(src, tgt) == without.align(src, tgt)


def test_refit_maps_with_the_whole_dictionary_after_the_gate(tmp_path):
    """mapping_refit: the gate judges the mapping fitted to the fit half; the prior then uses a
    mapping fitted to every dictionary pair (and gives the correct translation the most mass)."""
    from eegiza.embeddings import prepare_prior
    from eegiza.ttable import TTable
    src, tgt = _bitext()
    corpus = corpus_from_sentences(src, tgt)
    _write_vectors(tmp_path, rotated=True)
    reports = {}
    for refit in (False, True):
        fwd, _, reports[refit] = prepare_prior(corpus, _options(tmp_path, mapping="procrustes", mapping_rounds=0,
                                                                mapping_refit=refit, prior_calibrate=False))
    assert "refit_seed_pairs" not in reports[False]
    sizes = reports[True]["dictionary"]
    assert reports[True]["refit_seed_pairs"] == sizes["pairs"] > sizes["fit"]
    assert reports[True]["quality"] == reports[False]["quality"]          # measured before the refit
    ttable = TTable.from_corpus(corpus)
    prior = fwd(ttable)
    for k in (0, 5, 20):
        e, f = corpus.src_vocab.index[f"s{k}"], corpus.tgt_vocab.index[f"t{k}"]
        fs, _ = ttable.row(e)
        row = prior.p_emb[ttable.indptr[e]:ttable.indptr[e + 1]]
        assert fs[int(np.argmax(row))] == f


def test_a_dictionary_too_small_to_hold_out_keeps_the_prior_out(tmp_path):
    """One dictionary pair and no identical strings: holding it out leaves no seed, so the mapping
    is fitted to it (no error, as before the split) but cannot be judged: lambda 0."""
    from eegiza.embeddings import prepare_prior
    corpus = corpus_from_sentences(["s0"] * 20, ["t0"] * 20)
    _write_vectors(tmp_path, rotated=True)
    messages = []
    _, _, report = prepare_prior(corpus, _options(tmp_path, mapping="procrustes"), messages.append)
    assert report["dictionary"] == {"pairs": 1, "fit": 0, "held_out": 1}
    assert report["quality"]["heldout_pairs"] == 0 and report["quality"]["heldout_precision"] is None
    assert report["lambda"] == {"fwd": 0.0, "rev": 0.0}
    assert any("cannot be judged" in m for m in messages)


def test_mapping_precision_prefers_the_held_out_part():
    from eegiza.embeddings import mapping_precision
    assert mapping_precision({"model1_precision": 0.318, "heldout_precision": 0.062}) == 0.062
    assert mapping_precision({"model1_precision": 0.5, "heldout_precision": None}) == 0.0   # nothing held out
    assert mapping_precision({"identical_precision": 0.4, "model1_precision": 0.3}) == 0.3


def test_a_bitext_larger_than_prior_max_pairs_gets_no_prior_and_trains_no_vectors(tmp_path):
    """Above prior_max_pairs calibration would train on a sample, which overstates the prior's
    help: the prior is not used, nothing is loaded (the vector files need not even exist) and the
    alignment is the one without the prior; a perfect space below the limit still opens the gate."""
    from eegiza import Aligner
    from eegiza.embeddings import prepare_prior
    src, tgt = _bitext()
    corpus = corpus_from_sentences(src, tgt)
    missing = SimpleNamespace(src_vectors=str(tmp_path / "none.vec"), tgt_vectors=str(tmp_path / "none.vec"),
                              threads=1, prior_max_pairs=len(corpus) - 1)
    messages = []
    fwd, rev, report = prepare_prior(corpus, missing, messages.append, base=("cognate fwd", "cognate rev"))
    assert (fwd, rev) == ("cognate fwd", "cognate rev")
    assert report["lambda"] == {"fwd": 0.0, "rev": 0.0} and "prior_max_pairs" in report["calibration"]["reason"]
    assert any(m.startswith("not used") and f"{len(corpus):,} pairs" in m for m in messages)
    from eegiza.cli.common import prior_summary
    assert prior_summary(report) == ("embedding prior: lambda fwd 0, rev 0: not used, " + report["calibration"]["reason"])
    _write_vectors(tmp_path, rotated=True)
    common = dict(schedule="1^3 H^2", threads=1, word_classes=0, table_precision="float64",
                  src_vectors=str(tmp_path / "src.vec"), tgt_vectors=str(tmp_path / "tgt.vec"))
    limited = Aligner(AlignerConfig(**common, prior_max_pairs=len(corpus) - 1)).train(src, tgt)
    without = Aligner(AlignerConfig(**{k: v for k, v in common.items() if "vectors" not in k})).train(src, tgt)
    assert limited.align(src, tgt) == without.align(src, tgt)
    used = Aligner(AlignerConfig(**common, prior_max_pairs=len(corpus))).train(src, tgt)
    assert used.prior_report["lambda"]["fwd"] > 0
    # the "auto" precision: float64 for a prior in use, float32 (as without one) for a prior left out
    auto = {**common, "table_precision": "auto"}
    for limit, dtype in ((len(corpus), np.float64), (len(corpus) - 1, np.float32)):
        model = Aligner(AlignerConfig(**auto, prior_max_pairs=limit)).train(src, tgt)
        assert model.fwd.ttable.probs.dtype == dtype and model.rev.ttable.probs.dtype == dtype
