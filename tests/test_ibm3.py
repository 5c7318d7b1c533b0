"""IBM Model 3: alignment probability, hill-climbing and neighbourhood counts against pure-Python
references written from the formulas (explicit enumeration of alignments and neighbourhoods).
The reference helpers are shared with test_ibm4.py."""
import io
import itertools
import math
from collections import defaultdict

import numba
import numpy as np
import pytest

from eegiza.corpus import corpus_from_sentences
from eegiza.models import fertility as fz
from eegiza.models.fertility import FertilityModel, FertilityParams, align_fertility, score_alignments
from eegiza.models.ibm2 import ATable
from eegiza.ttable import TTable, normalise_rows, reduce_counts

FLOOR = 1e-7
PAIRS = [("a b c", "x y z w"), ("a c", "y w"), ("b d a", "z x y"), ("c", "w w"), ("d b", "x z y u"),
         ("a b c d", "u x")]


def small_corpus(pairs=PAIRS):
    return corpus_from_sentences([s for s, _ in pairs], [t for _, t in pairs])


def random_model(corpus, seed, params=None, n_a=3, n_b=2, half=None):
    """A model with random tables (t in the returned TTable), the classes id % n; Model-4
    displacements stored up to ``half`` (default: the longest target sentence)."""
    rng = np.random.default_rng(seed)
    params = params or FertilityParams()
    tt = TTable.from_corpus(corpus)
    tt.probs = normalise_rows(tt.indptr, rng.uniform(0.05, 1.0, tt.nnz))
    n_src, mf = len(corpus.src_vocab), params.maxfertility
    n = rng.uniform(0.01, 1.0, (n_src, mf))
    n /= n.sum(axis=1, keepdims=True)
    d = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=params.compactadtable, ignore_m=False)
    d.probs = rng.uniform(0.05, 1.0, len(d.probs))
    src_class = (np.arange(n_src) % n_a).astype(np.int32)
    tgt_class = (np.arange(len(corpus.tgt_vocab)) % n_b).astype(np.int32)
    half = int(corpus.tgt.lengths.max()) if half is None else half
    width = 2 * half + 1
    d1_seen = np.ones(n_a * n_b, np.int8)
    d1_seen[1] = 0
    model = FertilityModel(params, "3", src_class, tgt_class, n, n[1:2].copy(), n[1].copy(), d, 0.7,
                           rng.uniform(0.01, 1.0, n_a * n_b * width), d1_seen,
                           rng.uniform(0.01, 1.0, n_b * width), np.ones(n_b, np.int8), half)
    return model, tt


# --------------------------------------------------------------------------- references

def ref_model4_distortion(model, src, tgt, al):
    """Sum of log Model-4 distortion probabilities, from the cept definition."""
    l, m, es = len(src), len(tgt), [0] + list(src)
    half, s, width = model.half, model.params.model4smoothfactor, 2 * model.half + 1
    n_b = model.n_tgt_classes
    cepts = {i: [j + 1 for j in range(m) if al[j] == i] for i in range(1, l + 1)}
    total, prev = 0.0, 0
    for i in range(1, l + 1):
        js = cepts[i]
        if not js:
            continue
        center = 0 if prev == 0 else -(-sum(cepts[prev]) // len(cepts[prev]))
        a_cls = model.src_class[es[prev]]
        for k, j in enumerate(js):
            b_cls = model.tgt_class[tgt[j - 1]]
            if k == 0:
                key, delta = a_cls * n_b + b_cls, max(-half, min(half, j - center))
                v = max(FLOOR, s / (2 * m - 1) + (1 - s) * model.d1[key * width + delta + half]) \
                    if model.d1_seen[key] else FLOOR
            else:
                delta = max(-half, min(half, j - js[k - 1]))
                v = max(FLOOR, s / (m - 1) + (1 - s) * model.db[b_cls * width + delta + half]) \
                    if model.db_seen[b_cls] else FLOOR
            total += math.log(v)
        prev = i
    return total


def ref_log_prob(model, tt, src, tgt, al, name):
    """log P(f, a | e) of Model 3 (Brown et al. eq. 32 with GIZA's floors) or Model 4."""
    l, m, es = len(src), len(tgt), [0] + list(src)
    fert = [list(al).count(i) for i in range(l + 1)]
    p0 = model.p0
    f0 = fert[0]
    lp = (m - 2 * f0) * math.log(p0) + f0 * math.log(1 - p0) + math.log(math.comb(m - f0, f0))
    for i in range(1, l + 1):
        lp += math.log(max(model.n_table[es[i], fert[i]], FLOOR))
        if name == "3":
            lp += math.log(math.factorial(fert[i]))
    for j, i in enumerate(al):
        lp += math.log(tt.prob(es[i], tgt[j]))
        if name == "3" and i > 0:
            lp += math.log(max(model.d_table.value(i, j + 1, l, m, distortion=True), FLOOR))
    if name == "4":
        lp += ref_model4_distortion(model, src, tgt, al)
    return lp


def allowed(al, l, m, maxfert):
    fert = [list(al).count(i) for i in range(l + 1)]
    return 2 * fert[0] <= m and all(f < maxfert for f in fert[1:])


def all_alignments(l, m, maxfert):
    return [al for al in itertools.product(range(l + 1), repeat=m) if allowed(al, l, m, maxfert)]


def neighbours(al, l, m, maxfert):
    """Every allowed move and every swap of ``al`` (the neighbourhood without the centre)."""
    out = []
    for j in range(m):
        for i in range(l + 1):
            if i != al[j]:
                b = list(al)
                b[j] = i
                if allowed(b, l, m, maxfert):
                    out.append(tuple(b))
    for j1 in range(m):
        for j2 in range(j1 + 1, m):
            if al[j1] != al[j2]:
                b = list(al)
                b[j1], b[j2] = b[j2], b[j1]
                out.append(tuple(b))
    return out


def climbed_toy_model(seed: int, name: str):
    """(corpus, params, model, t-table, climbed positions, their scores): a random Model ``name`` (3
    or 4) on the small corpus, maximum fertility 3, and its hill-climbed alignment from the diagonal."""
    corpus = small_corpus()
    params = FertilityParams(maxfertility=3)
    model, tt = random_model(corpus, seed, params)
    model.last_model = name
    positions, scores = align_fertility(model, tt, corpus, diagonal_start(corpus), 2)
    return corpus, params, model, tt, positions, scores


def climbed_neighbourhoods(model, tt, corpus, positions, name, maxfert):
    """Per pair of ``corpus``: (source, target, centre, neighbourhood, weights), the centre being its
    alignment in the flat ``positions``, the neighbourhood the centre and every allowed move and
    swap, and the weights their probabilities P(f, a | e) under Model ``name`` (the reference)."""
    off = corpus.tgt.offsets
    for k, (src, tgt) in enumerate(pair_lists(corpus)):
        centre = tuple(int(x) for x in positions[off[k]:off[k + 1]])
        hood = [centre] + neighbours(centre, len(src), len(tgt), maxfert)
        yield src, tgt, centre, hood, [math.exp(ref_log_prob(model, tt, src, tgt, b, name)) for b in hood]


def pair_lists(corpus):
    return [(list(corpus.src.sentence(k)), list(corpus.tgt.sentence(k))) for k in range(len(corpus))]


def repeated(corpus, src, tgt, count):
    """A corpus holding ``count`` copies of one pair (ids as in ``corpus``)."""
    words = corpus.src_vocab.words, corpus.tgt_vocab.words
    return corpus_from_sentences([[words[0][e] for e in src]] * count, [[words[1][f] for f in tgt]] * count,
                                 src_vocab=corpus.src_vocab, tgt_vocab=corpus.tgt_vocab)


def ref_weighted_counts(model, tt, src, tgt, alignments, name, collect_d4, counts):
    """Add the counts of every alignment of ``alignments`` (one sentence pair) weighted by its
    share P / sum P of the set into ``counts`` = (t, n, d, p, d1, db); returns log sum P."""
    t, n, d, p, d1, db = counts
    l, m, es = len(src), len(tgt), [0] + list(src)
    half, width, n_b = model.half, 2 * model.half + 1, model.n_tgt_classes
    lps = [ref_log_prob(model, tt, src, tgt, al, name) for al in alignments]
    top = max(lps)
    ws = [math.exp(v - top) for v in lps]
    z = sum(ws)
    for al, w in zip(alignments, ws):
        w /= z
        fert = [al.count(i) for i in range(l + 1)]
        for j, i in enumerate(al):
            t[(es[i], tgt[j])] += w
            if i > 0:
                d[(i, j + 1, l, m)] += w
        for i in range(1, l + 1):
            n[(es[i], fert[i])] += w
        p[0] += w * (m - 2 * fert[0])
        p[1] += w * fert[0]
        if collect_d4:
            prev = 0
            for i in range(1, l + 1):
                js = [j + 1 for j in range(m) if al[j] == i]
                if not js:
                    continue
                center = 0 if prev == 0 else -(-sum(k + 1 for k in range(m) if al[k] == prev) // fert[prev])
                a_cls = model.src_class[es[prev]]
                for k, j in enumerate(js):
                    b_cls = model.tgt_class[tgt[j - 1]]
                    if k == 0:
                        d1[(a_cls * n_b + b_cls) * width + max(-half, min(half, j - center)) + half] += w
                    else:
                        db[b_cls * width + max(-half, min(half, j - js[k - 1])) + half] += w
                prev = i
    return top + math.log(z)


def ref_neighbourhood_counts(model, tt, corpus, centres, name, collect_d4):
    """Counts of GIZA's neighbourhood E-step by explicit enumeration: every alignment of N(centre)
    weighted by its probability share."""
    counts = (defaultdict(float), defaultdict(float), defaultdict(float), [0.0, 0.0], defaultdict(float),
              defaultdict(float))
    loglik = []
    mf = model.params.maxfertility
    for (src, tgt), centre in zip(pair_lists(corpus), centres):
        hood = [tuple(centre)] + neighbours(centre, len(src), len(tgt), mf)
        loglik.append(ref_weighted_counts(model, tt, src, tgt, hood, name, collect_d4, counts))
    return (*counts, loglik)


def d_slot(table, i, j, l, m):
    key = ((0 if table.ignore_l else l) << 32) | (0 if table.ignore_m else m)
    b = int(np.searchsorted(table.keys, key))
    return int(table.offsets[b] + (j - 1) * (table.dim_l[b] + 1) + i)


def check_counts(model, tt, corpus, starts, name, collect_d4):
    """Run one counting pass of the kernel and compare every count with the enumeration."""
    n_src = len(corpus.src_vocab)
    out = fz._run_corpus(model, tt, corpus, starts, model.n_table, model.src_class, model.tgt_class, True, True,
                         name == "4", True, collect_d4, 2)
    positions, _, loglik, tc, nc, dc, pc, c1, cb, _ = out
    offs = corpus.tgt.offsets
    centres = [tuple(positions[offs[k]:offs[k + 1]]) for k in range(len(corpus))]
    mf = model.params.maxfertility
    for (src, tgt), centre in zip(pair_lists(corpus), centres):  # the centre is a local optimum
        best = ref_log_prob(model, tt, src, tgt, centre, name)
        for b in neighbours(centre, len(src), len(tgt), mf):
            assert ref_log_prob(model, tt, src, tgt, b, name) <= best + math.log(1.00001) + 1e-9
    t, n, d, p, d1, db, ref_loglik = ref_neighbourhood_counts(model, tt, corpus, centres, name, collect_d4)
    assert loglik == pytest.approx(ref_loglik, abs=1e-9)
    got_t = reduce_counts(tc)
    rows = tt.row_ids()
    expected_t = np.zeros(tt.nnz)
    for (e, f), v in t.items():
        lo, hi = tt.indptr[e], tt.indptr[e + 1]
        expected_t[lo + int(np.searchsorted(tt.indices[lo:hi], f))] += v
    assert np.abs(got_t - expected_t).max() < 1e-6 and len(rows) == tt.nnz
    expected_n = np.zeros((n_src, mf))
    for (e, phi), v in n.items():
        expected_n[e, phi] += v
    assert np.abs(reduce_counts(nc).reshape(n_src, mf) - expected_n).max() < 1e-6
    expected_d = np.zeros(len(model.d_table.probs))
    for (i, j, l, m), v in d.items():
        expected_d[d_slot(model.d_table, i, j, l, m)] += v
    assert np.abs(reduce_counts(dc) - expected_d).max() < 1e-6
    assert reduce_counts(pc) == pytest.approx(p, abs=1e-6)
    if collect_d4:
        for got, ref in ((reduce_counts(c1), d1), (reduce_counts(cb), db)):
            expected = np.zeros(len(got))
            for s, v in ref.items():
                expected[s] += v
            assert np.abs(got - expected).max() < 1e-6
    return centres


# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("compact", [True, False])
def test_model3_probability_of_every_alignment_matches_formula(compact):
    corpus = small_corpus()
    model, tt = random_model(corpus, 1, FertilityParams(compactadtable=compact))
    for src, tgt in pair_lists(corpus):
        l, m = len(src), len(tgt)
        als = all_alignments(l, m, model.params.maxfertility)
        rep = repeated(corpus, src, tgt, len(als))
        got = score_alignments(model, tt, rep, np.array(als, np.int32).ravel(), "3")
        expected = [ref_log_prob(model, tt, src, tgt, al, "3") for al in als]
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-10)


def check_climbing(name, seed):
    """From any start, hill-climbing ends at a local optimum (no allowed move or swap improves by
    more than the factor 1.00001), and from the global optimum it stays there. Model 3 climbs by
    steepest ascent, so from any allowed neighbour of the global optimum it must reach the optimum
    (the best neighbour). Model 4 takes the first improving candidate (GIZA's greedy climb), so the
    optimum is guaranteed only from neighbours whose single improving neighbour is the optimum."""
    corpus = small_corpus()
    params = FertilityParams(maxfertility=3)
    model, tt = random_model(corpus, seed, params)
    model.last_model = name
    gain = math.log(1.00001)
    n_guaranteed = 0
    for src, tgt in pair_lists(corpus):
        l, m = len(src), len(tgt)
        als = all_alignments(l, m, params.maxfertility)
        scores = {al: ref_log_prob(model, tt, src, tgt, al, name) for al in als}
        best = max(als, key=scores.get)
        starts = [best] + neighbours(best, l, m, params.maxfertility) + als[::7]
        rep = repeated(corpus, src, tgt, len(starts))
        pos, got = align_fertility(model, tt, rep, np.array(starts, np.int32).ravel(), 2)
        results = [tuple(pos[k * m:(k + 1) * m]) for k in range(len(starts))]
        n_hood = 1 + len(neighbours(best, l, m, params.maxfertility))
        for k, (start, res) in enumerate(zip(starts, results)):
            assert got[k] == pytest.approx(scores[res], abs=1e-9)
            improving = [b for b in neighbours(start, l, m, params.maxfertility)
                         if scores[b] > scores[start] + gain]
            if k == 0 or (k < n_hood and (name == "3" or improving == [best])):
                n_guaranteed += 1
                assert scores[res] == pytest.approx(scores[best], abs=1e-12)
            for b in neighbours(res, l, m, params.maxfertility):
                assert scores[b] <= scores[res] + gain + 1e-12
    assert n_guaranteed > len(PAIRS)  # some starts besides the optimum itself


def test_hill_climbing_finds_the_best_alignment_from_its_neighbours():
    check_climbing("3", 2)


def test_neighbourhood_counts_match_enumeration():
    """One E-step under Model 3, also collecting the Model-4 counts (GIZA's "T3To4" iteration)."""
    corpus = small_corpus()
    params = FertilityParams(maxfertility=3, countincreasecutoffal=0.0)
    model, tt = random_model(corpus, 3, params)
    starts = diagonal_start(corpus)
    centres = check_counts(model, tt, corpus, starts, "3", collect_d4=True)
    assert any(c != tuple(starts[corpus.tgt.offsets[k]:corpus.tgt.offsets[k + 1]]) for k, c in enumerate(centres))


def test_start_alignments_breaking_the_limits_are_repaired():
    corpus = small_corpus([("a b", "x x x x y y")])
    model, tt = random_model(corpus, 4, FertilityParams(maxfertility=3))
    pos, scores = align_fertility(model, tt, corpus, np.zeros(6, np.int32), 1)
    fert = np.bincount(pos, minlength=3)
    assert 2 * fert[0] <= 6 and fert[1:].max() < 3 and np.isfinite(scores).all()


def toy_training_corpus():
    lines = [("das haus ist klein", "the house is small"), ("das haus", "the house"),
             ("das buch ist klein", "the book is small"), ("ein buch", "a book"),
             ("klein ist das haus", "small is the house"), ("ein haus", "a small house"),
             ("das buch ist ein buch", "the book is a book")]
    return corpus_from_sentences([s for s, _ in lines], [t for _, t in lines])


def diagonal_start(corpus):
    ls, ms = corpus.src.lengths, corpus.tgt.lengths
    return np.concatenate([np.minimum(np.arange(1, m + 1), l) for l, m in zip(ls, ms)]).astype(np.int32)


def test_training_is_identical_with_one_and_two_threads_and_survives_saving():
    corpus = toy_training_corpus()
    src_class = (np.arange(len(corpus.src_vocab)) % 3).astype(np.int32)
    tgt_class = (np.arange(len(corpus.tgt_vocab)) % 2).astype(np.int32)
    results = []
    for threads, chunks in ((1, 1), (2, 3)):
        numba.set_num_threads(threads)
        tt = TTable.from_corpus(corpus)
        logs = []
        model = fz.train_fertility(corpus, tt, diagonal_start(corpus), [("3", 2), ("4", 2)], src_class, tgt_class,
                                   FertilityParams(), chunks, progress=logs.append)
        results.append((model, tt))
        assert len(logs) == 4 and [e.model for e in model.log] == ["Model3", "Model3", "T3To4", "Model4"]
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    (m1, t1), (m2, t2) = results
    for name, value in m1.to_arrays().items():
        if name != "log_values":
            assert np.array_equal(value, m2.to_arrays()[name]), name
    assert np.array_equal(t1.probs, t2.probs)
    assert np.allclose(m1.n_table[1:].sum(axis=1), 1.0) and 0 < m1.p0 <= 1
    buffer = io.BytesIO()
    np.savez(buffer, **m1.to_arrays())
    buffer.seek(0)
    loaded = FertilityModel.from_arrays(dict(np.load(buffer)))
    start = diagonal_start(corpus)
    assert np.array_equal(align_fertility(loaded, t1, corpus, start)[0], align_fertility(m1, t1, corpus, start)[0])
    assert loaded.params == m1.params and [e.model for e in loaded.log] == [e.model for e in m1.log]


def test_alignment_of_unseen_words_and_lengths():
    corpus = toy_training_corpus()
    tt = TTable.from_corpus(corpus)
    classes = np.zeros(len(corpus.src_vocab), np.int32), np.zeros(len(corpus.tgt_vocab), np.int32)
    model = fz.train_fertility(corpus, tt, diagonal_start(corpus), [("3", 1), ("4", 1)], *classes)
    long_src = " ".join(["das", "unbekannt", "haus"] * 50)
    long_tgt = " ".join(["the", "house", "neu", "x"] * 40)
    new = corpus_from_sentences(["unbekannt wort", long_src, "das"], ["neu the", long_tgt, "the house"],
                                src_vocab=corpus.src_vocab, tgt_vocab=corpus.tgt_vocab)
    pos, scores = align_fertility(model, tt, new, diagonal_start(new))
    assert np.isfinite(scores).all()
    lens = np.repeat(new.src.lengths, new.tgt.lengths)
    assert (pos >= 0).all() and (pos <= lens).all()
