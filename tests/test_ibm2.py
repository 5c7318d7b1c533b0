"""IBM Model 2 kernels against a pure-Python reference written from the formulas."""
import itertools
import math
from collections import defaultdict

import numba
import numpy as np
import pytest

from eegiza.corpus import corpus_from_sentences
from eegiza.models import ibm1, ibm2
from eegiza.slot_source import SlotSource
from eegiza.ttable import TTable, reduce_counts, sentence_slots

FLOOR = 1e-7
TOY = [("das haus ist klein", "the house is small"),
       ("das haus", "the house"),
       ("das buch ist klein", "the book is small"),
       ("ein buch", "a book"),
       ("klein ist das haus", "small is the house"),
       ("ein haus", "a small house"),
       ("das buch", "the small book is")]


def toy_corpus():
    return corpus_from_sentences([s for s, _ in TOY], [t for _, t in TOY])


def pairs_of(corpus):
    return [(list(corpus.src.sentence(k)), list(corpus.tgt.sentence(k))) for k in range(len(corpus))]


def table_dict(tt):
    return {(int(e), int(f)): float(p) for e, f, p in zip(tt.row_ids(), tt.indices, tt.probs)}


def a_key(i, j, l, m, compact):
    return (i, j, l) if compact else (i, j, l, m)


def reference_iteration(pairs, t, a, compact, smooth):
    """One Model-2 EM iteration from the formulas; ``a`` maps a_key -> probability (missing = 1/(l+1))."""
    tc, ac = defaultdict(float), defaultdict(float)
    loglik = 0.0
    for src, tgt in pairs:
        es, l, m = [0] + src, len(src), len(tgt)
        for j, f in enumerate(tgt, 1):
            ps = [max(t.get((e, f), 0.0), FLOOR) * a.get(a_key(i, j, l, m, compact), 1.0 / (l + 1))
                  for i, e in enumerate(es)]
            total = sum(ps)
            for i, (e, p) in enumerate(zip(es, ps)):
                tc[(e, f)] += p / total
                ac[a_key(i, j, l, m, compact)] += p / total
            loglik += math.log(total)
    rows = defaultdict(float)
    for (e, _), c in tc.items():
        rows[e] += c
    new_t = {k: c / rows[k[0]] for k, c in tc.items()}
    cols = defaultdict(float)
    for key, c in ac.items():
        cols[key[1:]] += c
    new_a = {key: smooth / (key[2] + 1) + (1 - smooth) * c / cols[key[1:]] for key, c in ac.items()}
    return new_t, new_a, loglik


def kernel_iteration(corpus, tt, table, smooth, n_chunks=2):
    t_chunks, a_counts, loglik = ibm2.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets,
                                            tt.indptr, tt.indices, tt.probs, FLOOR, *table.arrays(), n_chunks)
    tt.set_from_counts(reduce_counts(t_chunks))
    ibm2.mstep(table, a_counts, smooth)
    return float(loglik.sum())


def model1_start(corpus):
    tt = TTable.from_corpus(corpus, "float64")   # compared with the float64 reference to 1e-8
    slots, slot_off = sentence_slots(corpus, tt)
    for _ in range(2):
        chunks, _ = ibm1.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets,
                               SlotSource.stored(slots, slot_off).arrays(), tt.probs, FLOOR, 1)
        tt.set_from_counts(reduce_counts(chunks))
    return tt


@pytest.mark.parametrize("compact,smooth", [(False, 0.0), (True, 0.0), (False, 0.1)])
def test_em_iterations_match_reference(compact, smooth):
    corpus = toy_corpus()
    tt = model1_start(corpus)
    t_ref, a_ref = table_dict(tt), {}
    table = ibm2.init_atable(corpus.src.offsets, corpus.tgt.offsets, compact=compact)
    for _ in range(2):
        loglik = kernel_iteration(corpus, tt, table, smooth)
        t_ref, a_ref, loglik_ref = reference_iteration(pairs_of(corpus), t_ref, a_ref, compact, smooth)
        assert loglik == pytest.approx(loglik_ref, rel=1e-8)
        got = table_dict(tt)
        for key, value in t_ref.items():
            assert got[key] == pytest.approx(value, abs=1e-7)
        for key, value in a_ref.items():
            i, j, l = key[:3]
            m = key[3] if not compact else 1
            assert table.value(i, j, l, m) == pytest.approx(value, abs=1e-7)


def test_viterbi_is_the_brute_force_best_alignment():
    corpus = toy_corpus()
    tt = model1_start(corpus)
    table = ibm2.init_atable(corpus.src.offsets, corpus.tgt.offsets, compact=False)
    for _ in range(3):
        kernel_iteration(corpus, tt, table, 0.0)
    links, scores = ibm2.viterbi(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets,
                                 tt.indptr, tt.indices, tt.probs, FLOOR, *table.arrays())
    for k, (src, tgt) in enumerate(pairs_of(corpus)):
        es, l, m = [0] + src, len(src), len(tgt)

        def logp(al):
            return sum(math.log(tt.prob(es[i], f) * table.value(i, j, l, m)) for j, (i, f) in enumerate(zip(al, tgt), 1))

        best = max(itertools.product(range(l + 1), repeat=m), key=logp)
        got = tuple(links[corpus.tgt.offsets[k]:corpus.tgt.offsets[k + 1]])
        assert logp(got) == pytest.approx(logp(best), abs=1e-12)
        assert scores[k] == pytest.approx(logp(best))


def test_unseen_lengths_fall_back_to_uniform_and_threads_do_not_matter():
    corpus = toy_corpus()
    tt = model1_start(corpus)
    table = ibm2.init_atable(corpus.src.offsets, corpus.tgt.offsets, compact=False)
    kernel_iteration(corpus, tt, table, 0.0)
    new = corpus_from_sentences(["das haus ist klein ein buch das"], ["the house"],
                                src_vocab=corpus.src_vocab, tgt_vocab=corpus.tgt_vocab)
    links, scores = ibm2.viterbi(new.src.ids, new.src.offsets, new.tgt.ids, new.tgt.offsets,
                                 tt.indptr, tt.indices, tt.probs, FLOOR, *table.arrays())
    assert np.isfinite(scores).all() and links.min() >= 0 and links.max() <= 7
    assert table.value(3, 1, 7, 2) == pytest.approx(1 / 8)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        t_chunks, a_counts, _ = ibm2.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets,
                                           tt.indptr, tt.indices, tt.probs, FLOOR, *table.arrays(), 3)
        results.append((reduce_counts(t_chunks), a_counts))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
