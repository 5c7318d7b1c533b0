"""The embedding prior: p_emb against a direct computation of the formula, the EM interpolation
exactly, the top-k cut, the model option, and errors."""
import math

import numpy as np
import pytest

from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.embeddings.mapping import MappingError
from eegiza.embeddings.prior import EmbeddingPrior, make_prior_factory
from eegiza.train import train_direction
from eegiza.ttable import TTable

SRC = ["the house", "the cat", "a house", "cat"]
TGT = ["la maison", "le chat", "une maison", "chat"]


def _vectors(words, rng, dim=4):
    return {w: rng.normal(size=dim).astype(np.float32) for w in words}


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _reference(corpus, ttable, xs, zs, top_k, temperature, csls_k):
    """p_emb(f|e) by the formula, word by word."""
    src_emb = list(xs.values())
    out = {}
    for e in range(1, len(corpus.src_vocab)):
        we = corpus.src_vocab.words[e]
        if we not in xs:
            continue
        fs, _ = ttable.row(e)
        cands = []
        for f in fs:
            wf = corpus.tgt_vocab.words[f]
            if wf not in zs:
                continue
            sims = sorted((_cos(zs[wf], x) for x in src_emb), reverse=True)[:csls_k]
            cands.append((2 * _cos(xs[we], zs[wf]) - sum(sims) / len(sims), int(f)))
        cands.sort(reverse=True)
        cands = cands[:top_k]
        z = sum(math.exp(s / temperature) for s, _ in cands)
        for s, f in cands:
            out[(e, f)] = math.exp(s / temperature) / z
    return out


@pytest.mark.parametrize("top_k", [1, 2, 100])
def test_prior_probabilities_match_formula(top_k):
    rng = np.random.default_rng(1)
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    xs = _vectors(["the", "house", "cat", "extra"], rng)        # "a" has no vector
    zs = _vectors(["la", "maison", "chat", "une", "le"], rng)
    ref = _reference(corpus, ttable, xs, zs, top_k, 0.1, 2)
    prior = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, xs, zs, lam=5.0,
                               temperature=0.1, top_k=top_k, csls_k=2)(ttable)
    rows = ttable.row_ids()
    for s in range(ttable.nnz):
        expected = ref.get((int(rows[s]), int(ttable.indices[s])), 0.0)
        assert prior.p_emb[s] == pytest.approx(expected, rel=1e-5, abs=1e-9)
    a = corpus.src_vocab.index["a"]
    assert not prior.has_prior[0] and not prior.has_prior[a]
    assert prior.has_prior[corpus.src_vocab.index["house"]]


def test_apply_is_the_interpolation_formula():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus, "float64")   # the formula exactly (float32 storage rounds it)
    rng = np.random.default_rng(2)
    p_emb = rng.random(ttable.nnz)
    has = np.array([False, True, False, True, True])[:ttable.n_src]
    counts = rng.random(ttable.nnz) * 3
    src_counts = np.array([0.0, 2.0, 1.0, 2.0, 1.0])[:ttable.n_src]
    lam = 7.0
    ttable.set_from_counts(counts)
    before = ttable.probs.copy()
    prior = EmbeddingPrior(p_emb, has, lam=lam, src_counts=src_counts)
    prior.apply(ttable, counts)
    rows = ttable.row_ids()
    for s in range(ttable.nnz):
        e = rows[s]
        if has[e]:
            c = src_counts[e]
            assert ttable.probs[s] == pytest.approx((c * before[s] + lam * p_emb[s]) / (c + lam), rel=1e-12)
        else:
            assert ttable.probs[s] == before[s]
    # c(e) = row sum of the expected counts when no corpus counts are given
    ttable.set_from_counts(counts)
    EmbeddingPrior(p_emb, has, lam=lam).apply(ttable, counts)
    for s in range(ttable.nnz):
        e = rows[s]
        if has[e]:
            c = counts[ttable.indptr[e]:ttable.indptr[e + 1]].sum()
            assert ttable.probs[s] == pytest.approx((c * before[s] + lam * p_emb[s]) / (c + lam), rel=1e-12)


def test_models_option_and_zero_lambda():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    p = np.full(ttable.nnz, 0.5)
    has = np.ones(ttable.n_src, bool)
    before = ttable.probs.copy()
    prior = EmbeddingPrior(p, has, lam=10.0, src_counts=np.ones(ttable.n_src), models="1")
    prior.current_model = "H"
    prior.apply(ttable, np.ones(ttable.nnz))
    assert np.array_equal(ttable.probs, before)
    prior.current_model = "1"
    prior.apply(ttable, np.ones(ttable.nnz))
    assert not np.array_equal(ttable.probs, before)
    zero = EmbeddingPrior(p, has, lam=0.0)
    after = ttable.probs.copy()
    zero.apply(ttable, np.ones(ttable.nnz))
    assert np.array_equal(ttable.probs, after)


def test_prior_in_training_pulls_towards_embeddings():
    """With a huge lambda, t(f|e) of a word with a vector is (almost) p_emb."""
    corpus = corpus_from_sentences(SRC * 3, TGT * 3)
    d = 3
    eye = np.eye(d, dtype=np.float32)
    xs = {"house": eye[0], "cat": eye[1], "the": eye[2]}
    zs = {"maison": eye[0], "chat": eye[1], "la": eye[2]}
    factory = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, xs, zs, lam=1e6,
                                 src_counts=corpus.src_vocab.counts)
    model = train_direction(corpus, AlignerConfig(schedule="1^2 H^2", threads=1), prior_factory=factory)
    assert model.ttable.prob(corpus.src_vocab.index["house"], corpus.tgt_vocab.index["maison"]) > 0.99
    assert model.ttable.prob(corpus.src_vocab.index["cat"], corpus.tgt_vocab.index["chat"]) > 0.99


def test_errors():
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    rng = np.random.default_rng(0)
    with pytest.raises(MappingError, match="dimension"):
        make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, _vectors(["house"], rng, 3),
                           _vectors(["maison"], rng, 4))
    with pytest.raises(MappingError, match="overlap"):
        make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, _vectors(["zzz"], rng),
                           _vectors(["maison"], rng))
    prior = EmbeddingPrior(np.zeros(3), np.zeros(2, bool))
    with pytest.raises(ValueError, match="slots"):
        prior.apply(ttable, np.zeros(ttable.nnz))


# --------------------------------------------------------------------------- saved priors, calibration

def test_eeprob_round_trip_and_reuse(tmp_path):
    from eegiza.embeddings import prior_factory_from_eeprob, save_eeprob
    from eegiza.formats.eeprob import EEProbFormatError, read_eeprob
    corpus = corpus_from_sentences(SRC, TGT)
    ttable = TTable.from_corpus(corpus)
    rng = np.random.default_rng(4)
    prior = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words,
                               _vectors(["the", "house", "cat"], rng), _vectors(["la", "maison", "chat"], rng),
                               top_k=2)(ttable)
    path = tmp_path / "p.eeprob"
    save_eeprob(path, ttable, prior, corpus.src_vocab.counts, corpus.tgt_vocab.counts)
    e, f, ce, cf, p = read_eeprob(path)
    assert len(p) == int((prior.p_emb > 0).sum())
    assert np.array_equal(ce, corpus.src_vocab.counts[e]) and np.array_equal(cf, corpus.tgt_vocab.counts[f])
    first = path.read_text().splitlines()[0].split()
    assert len(first) == 5 and int(first[0]) >= 1
    again = prior_factory_from_eeprob(path, lam=3.0)(ttable)
    assert np.allclose(again.p_emb, prior.p_emb, rtol=1e-8) and np.array_equal(again.has_prior, prior.has_prior)
    bad = tmp_path / "bad.eeprob"
    bad.write_text("1 2 3 4 0.5\n1 2 3 0.5\n")
    with pytest.raises(EEProbFormatError, match=r"bad.eeprob:2: expected 5 fields"):
        read_eeprob(bad)
    bad.write_text("1 2 3 4 1.5\n")
    with pytest.raises(EEProbFormatError, match="outside"):
        read_eeprob(bad)


def synthetic_sentences(n_pairs=400, n_words=40, seed=0):
    """Word-for-word translations s_k <-> t_k, shuffled order, Zipf-distributed words: (src, tgt)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_words + 1)
    weights /= weights.sum()
    src, tgt = [], []
    for _ in range(n_pairs):
        ks = rng.choice(n_words, 6, p=weights)
        src.append(" ".join(f"s{k}" for k in ks))
        tgt.append(" ".join(f"t{k}" for k in rng.permutation(ks)))
    return src, tgt


def _synthetic_bitext(n_pairs=400, n_words=40, seed=0):
    return corpus_from_sentences(*synthetic_sentences(n_pairs, n_words, seed))


def test_calibration_trusts_a_good_prior_and_rejects_a_bad_one():
    from eegiza.embeddings.calibrate import MIN_GAIN, choose_lambda
    corpus = _synthetic_bitext()
    rng = np.random.default_rng(1)
    n = 40
    base = rng.normal(size=(n, 16)).astype(np.float32)
    xs = ([f"s{k}" for k in range(n)], base)
    good = ([f"t{k}" for k in range(n)], base)
    bad = ([f"t{k}" for k in rng.permutation(n)], base)          # every translation wrong
    config = AlignerConfig(schedule="1^3 H^2 3^1 4^1", threads=1)
    lambdas = [0.0, 1e4, 1e2, 1.0]
    results = {}
    for name, zs in (("good", good), ("bad", bad)):
        fwd = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, xs, zs,
                                 src_counts=corpus.src_vocab.counts)
        rev = make_prior_factory(corpus.tgt_vocab.words, corpus.src_vocab.words, zs, xs,
                                 src_counts=corpus.tgt_vocab.counts)
        results[name] = choose_lambda(corpus, config, fwd, rev, lambdas)
    assert results["good"]["lambda"] > 0
    assert results["bad"]["lambda"] == 0
    scores = results["bad"]["loglik_per_token"]   # no weight of the bad prior gains what calibration asks
    assert max(scores.values()) - scores[0.0] < MIN_GAIN
    assert results["bad"]["gain_over_no_prior"] == 0.0 and results["good"]["gain_over_no_prior"] >= MIN_GAIN


def test_calibration_stops_past_the_peak_and_needs_a_gain(monkeypatch):
    """The candidates are tried in increasing order until one scores below its predecessor; the
    choice is the smallest lambda within min_gain per token of the best score."""
    from eegiza.embeddings import calibrate
    corpus = _synthetic_bitext(n_pairs=50)
    n_tokens = len(corpus.src.ids) + len(corpus.tgt.ids)
    factory = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words,
                                 _vectors(["s1"], np.random.default_rng(0)), _vectors(["t1"], np.random.default_rng(0)))
    for curve, min_gain, chosen, tried in (
            ({0.0: -3.0, 1.0: -2.9, 10.0: -2.8, 100.0: -2.85, 1000.0: -1.0}, 1e-3, 10.0, [0.0, 1.0, 10.0, 100.0]),
            ({0.0: -3.0, 1.0: -3.1, 10.0: -1.0}, 1e-3, 0.0, [0.0, 1.0]),
            ({0.0: -3.0, 1.0: -2.9995, 10.0: -3.2}, 1e-3, 0.0, [0.0, 1.0, 10.0]),
            # de-en's shape: 1 scores best, but only 0.0015 above 0.1
            ({0.0: -3.7819, 0.1: -3.7414, 1.0: -3.7399, 10.0: -3.7879}, 5e-3, 0.1, [0.0, 0.1, 1.0, 10.0]),
            # the smaller fastText table: 1 is 0.0063 above 0.1 and aligned 2.1 points worse
            ({0.0: -3.7819, 0.1: -3.7439, 1.0: -3.7376, 10.0: -3.78}, calibrate.MIN_GAIN, 0.1, [0.0, 0.1, 1.0, 10.0]),
            ({0.0: -3.209, 0.1: -3.1412, 1.0: -3.1209, 10.0: -3.1562}, calibrate.MIN_GAIN, 1.0, [0.0, 0.1, 1.0, 10.0]),
            # a weight too small to matter does not end the search
            ({0.0: -3.0, 0.1: -2.9999, 1.0: -2.99, 10.0: -2.95, 100.0: -2.96}, 5e-3, 10.0,
             [0.0, 0.1, 1.0, 10.0, 100.0])):
        calls = []

        def fake(sample, config, fwd_prior, rev_prior, classes, curve=curve, calls=calls):
            lam = sorted(curve)[len(calls)]
            assert fwd_prior.lam == rev_prior.lam == lam        # no subsampling: lambda as given
            calls.append(lam)
            return curve[lam] * n_tokens, ("models", lam)

        monkeypatch.setattr(calibrate, "train_candidate", fake)
        result = calibrate.choose_lambda(corpus, AlignerConfig(), factory, factory, list(curve), min_gain=min_gain,
                                         keep_models=True)
        assert calls == tried and sorted(result["loglik_per_token"]) == tried
        assert result["lambda"] == chosen
        assert result["models"] == ("models", chosen)          # the chosen candidate's, even when it is 0


def _write_rotated_vectors(folder, n=40, d=16, tgt_binary=False):
    """folder/src.vec and folder/tgt.vec: random vectors of s0..s{n-1}, and the same vectors rotated
    for t0..t{n-1} (the translations of _synthetic_bitext)."""
    from eegiza.embeddings.vectors import WordVectors, save_word2vec
    rng = np.random.default_rng(2)
    base = rng.normal(size=(n, d)).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    save_word2vec(folder / "src.vec", WordVectors([f"s{k}" for k in range(n)], base))
    save_word2vec(folder / "tgt.vec", WordVectors([f"t{k}" for k in range(n)], (base @ q).astype(np.float32)),
                  binary=tgt_binary)


def test_prepare_prior_end_to_end(tmp_path):
    """Rotated vector files, seeded mapping from the bitext's Model 1 dictionary, calibration,
    saved prior reused through prior_file."""
    from types import SimpleNamespace
    from eegiza.embeddings import prepare_prior
    corpus = _synthetic_bitext(n_pairs=300)
    _write_rotated_vectors(tmp_path, tgt_binary=True)
    options = SimpleNamespace(src_vectors=tmp_path / "src.vec", tgt_vectors=tmp_path / "tgt.vec",
                              mapping="seeded", schedule="1^3 H^2", threads=1, prior_lambda=100.0,
                              save_prior=str(tmp_path / "prior"), prob_smooth=1e-7, hmm_p_null=0.2,
                              hmm_jump_smooth=0.2, vb_alpha=0.0)
    messages = []
    fwd, rev, report = prepare_prior(corpus, options, messages.append)
    assert report["quality"]["model1_precision"] > 0.9
    assert report["lambda"]["fwd"] > 0 and report["lambda"]["rev"] > 0
    assert any("mapping quality" in m for m in messages)
    ttable = TTable.from_corpus(corpus)
    prior = fwd(ttable)                      # the factories write the priors when training calls them
    rev(TTable.from_corpus(corpus.reversed()))
    assert prior.lam == report["lambda"]["fwd"]
    s3, t3 = corpus.src_vocab.index["s3"], corpus.tgt_vocab.index["t3"]
    fs, _ = ttable.row(s3)
    slot = ttable.indptr[s3] + int(np.flatnonzero(fs == t3)[0])
    assert prior.p_emb[slot] == prior.p_emb[ttable.indptr[s3]:ttable.indptr[s3 + 1]].max()
    reused, _, _ = prepare_prior(corpus, SimpleNamespace(prior_file=str(tmp_path / "prior"), prior_lambda=5.0,
                                                         prior_calibrate=False))
    again = reused(ttable)
    assert np.allclose(again.p_emb, prior.p_emb) and again.lam == 5.0
    reused, _, report = prepare_prior(corpus, SimpleNamespace(prior_file=str(tmp_path / "prior"), schedule="1^3 H^2",
                                                              threads=1))
    assert report["lambda"]["fwd"] == report["calibration"]["lambda"] > 0   # a saved prior is calibrated too
    with pytest.raises(ValueError, match="src-vectors or --src-mono"):
        prepare_prior(corpus, SimpleNamespace())


def test_prepare_prior_refuses_a_mapping_below_the_precision_threshold(tmp_path):
    """Unrelated target vectors taken as already mapped: precision@1 near chance, so calibration
    sets lambda = 0 and says why; with a threshold of 0 the likelihood criterion rejects it too."""
    from types import SimpleNamespace
    from eegiza.embeddings import prepare_prior
    from eegiza.embeddings.vectors import WordVectors, save_word2vec
    corpus = _synthetic_bitext(n_pairs=300)
    rng = np.random.default_rng(3)
    n, d = 40, 16
    save_word2vec(tmp_path / "src.vec", WordVectors([f"s{k}" for k in range(n)], rng.normal(size=(n, d))))
    save_word2vec(tmp_path / "tgt.vec", WordVectors([f"t{k}" for k in range(n)], rng.normal(size=(n, d))))
    common = dict(src_vectors=tmp_path / "src.vec", tgt_vectors=tmp_path / "tgt.vec", mapping="none",
                  schedule="1^3 H^2", threads=1, prior_lambda=100.0, prob_smooth=1e-7, hmm_p_null=0.2,
                  hmm_jump_smooth=0.2, vb_alpha=0.0)
    messages = []
    _, _, report = prepare_prior(corpus, SimpleNamespace(**common), messages.append)
    quality = report["quality"]
    assert max(quality["identical_precision"] or 0.0, quality["model1_precision"]) < 0.25
    assert report["lambda"] == {"fwd": 0.0, "rev": 0.0}
    assert "below" in report["calibration"]["reason"] or "<" in report["calibration"]["reason"]
    assert any("not used" in m for m in messages)
    _, _, report = prepare_prior(corpus, SimpleNamespace(**common, prior_min_precision=0.0), messages.append)
    assert 0.0 in report["calibration"]["loglik_per_token"]                  # the likelihood decides
    assert report["lambda"] == {"fwd": 0.0, "rev": 0.0}


def test_mapping_precision_trusts_the_model1_dictionary_over_identical_strings():
    """ro-en's fastText mapping: 0.30 on identical strings, 0.04 on the Model 1 dictionary -> 0.04."""
    from eegiza.embeddings import mapping_precision
    assert mapping_precision({"identical_precision": 0.295, "model1_precision": 0.038}) == 0.038
    assert mapping_precision({"identical_precision": 0.2, "model1_precision": 0.5}) == 0.5
    assert mapping_precision({"identical_precision": 0.4, "model1_precision": None}) == 0.4
    assert mapping_precision({"identical_precision": None, "model1_precision": None}) == 0.0


def test_api_keeps_the_models_calibration_trained(tmp_path):
    """Calibrating on the whole bitext already trains it with the chosen lambda: the API keeps those
    models, and they are the models a training with that lambda fixed gives, array for array."""
    from eegiza import Aligner
    corpus = _synthetic_bitext(n_pairs=300)
    _write_rotated_vectors(tmp_path)
    common = dict(src_vectors=str(tmp_path / "src.vec"), tgt_vectors=str(tmp_path / "tgt.vec"),
                  schedule="1^3 H^2", threads=1, prior_lambda=100.0, word_classes=0)
    messages = []
    calibrated = Aligner(AlignerConfig(**common, save_prior=str(tmp_path / "p"))).train_corpus(
        corpus, messages.append)
    lam = calibrated.prior_report["lambda"]["fwd"]
    assert lam > 0 and "models" not in calibrated.prior_report
    assert any("are kept" in m for m in messages)
    assert (tmp_path / "p.fwd.eeprob").stat().st_size > 0 and (tmp_path / "p.rev.eeprob").stat().st_size > 0
    fixed = Aligner(AlignerConfig(**{**common, "prior_lambda": lam}, prior_calibrate=False)).train_corpus(corpus)
    for a, b in ((calibrated.fwd, fixed.fwd), (calibrated.rev, fixed.rev)):
        assert np.array_equal(a.ttable.probs, b.ttable.probs)
        assert [it.loglik for it in a.log] == [it.loglik for it in b.log]
        assert np.array_equal(a.jump, b.jump)
