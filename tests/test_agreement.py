"""Joint training by agreement (eegiza.models.agreement, train.train_pair): the kernel against the
pure-Python formula over enumerated posteriors, thread determinism, and its effect on gold AER."""
import numba
import numpy as np
import pytest

import reference_models as ref
from eegiza import Aligner, AlignerConfig, aer, read_gold
from eegiza.cli.demo import demo_files
from eegiza.fixed_counts import to_int64
from eegiza.models import agreement, hmm
from eegiza.slot_source import SlotSource
from eegiza.train import train_pair
from eegiza.ttable import TTable, reduce_counts, sentence_slots
from test_api import demo_sentences
from test_models import hmm_setup, pairs_of, random_corpus, table_dict, toy_corpus


def count_dict(tt: TTable, counts):
    return {(int(e), int(f)): float(c) for e, f, c in zip(tt.row_ids(), tt.indices, counts)}


@pytest.mark.parametrize("power", [1.0, 0.5, 0.3, 0.0])   # 0: every agreed score 1, zero products too
def test_agree_is_the_rescaled_powered_product(power):
    rng = np.random.default_rng(0)
    g_fwd = rng.dirichlet(np.ones(4), size=3)            # m = 3, l = 3
    g_rev = rng.dirichlet(np.ones(4), size=3)
    g_fwd[1] = [1.0, 0.0, 0.0, 0.0]                      # f_2 surely NULL: no agreement mass, row kept
    want_fwd, want_rev = g_fwd.copy(), g_rev.copy()
    q = (g_fwd[:, 1:] * g_rev[:, 1:].T) ** power
    for j in (0, 2):
        want_fwd[j, 1:] = q[j] * g_fwd[j, 1:].sum() / q[j].sum()
    for i in range(3):
        want_rev[i, 1:] = q[:, i] * g_rev[i, 1:].sum() / q[:, i].sum()
    agreement.agree(g_fwd, g_rev, power)
    np.testing.assert_allclose(g_fwd, want_fwd, rtol=1e-12)
    np.testing.assert_allclose(g_rev, want_rev, rtol=1e-12)
    np.testing.assert_allclose(g_fwd.sum(axis=1), 1.0)    # each word's posterior mass is kept
    np.testing.assert_allclose(g_rev.sum(axis=1), 1.0)


@pytest.mark.parametrize("use_hmm,power,look_up", [(False, 0.5, False), (True, 0.5, False), (True, 0.3, False),
                                                   (False, 1.0, False), (False, 0.5, True), (True, 0.3, True)])
def test_joint_estep_matches_the_formula_over_enumerated_posteriors(use_hmm, power, look_up):
    corpus, rev_corpus = toy_corpus(), toy_corpus().reversed()
    fwd_tt, src_class, fwd_jump, fwd_start = hmm_setup(corpus)
    rev_tt, tgt_class, rev_jump, rev_start = hmm_setup(rev_corpus)
    fwd_pairs, rev_pairs = pairs_of(corpus), pairs_of(rev_corpus)
    t_fwd, t_rev = table_dict(fwd_tt), table_dict(rev_tt)
    if use_hmm:
        def posteriors(pairs, t, cls, jump, start):
            return [ref.hmm_posteriors(s, g, t, cls, jump.tolist(), start.tolist(), 0.2, 0.2) for s, g in pairs]
        fwd_post = posteriors(fwd_pairs, t_fwd, src_class, fwd_jump, fwd_start)
        rev_post = posteriors(rev_pairs, t_rev, tgt_class, rev_jump, rev_start)
    else:
        fwd_post = [ref.model1_posteriors(s, g, t_fwd) for s, g in fwd_pairs]
        rev_post = [ref.model1_posteriors(s, g, t_rev) for s, g in rev_pairs]
    want_fwd, want_rev = ref.agreement_counts(fwd_pairs, fwd_post, rev_post, power)

    source, rev_map = SlotSource.of(corpus, fwd_tt, look_up).arrays(), agreement.reverse_slot_map(fwd_tt, rev_tt)
    layouts = agreement.count_layouts(corpus, source, *rev_map, fwd_tt.nnz, rev_tt.nnz)
    out = agreement.estep(use_hmm, power, corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, 1e-7,
                          0.2, 0.2, 2, source, fwd_tt.probs, src_class, fwd_jump, fwd_start,
                          *rev_map, rev_tt.probs, tgt_class, rev_jump, rev_start,
                          layouts[0].zeros(), layouts[1].zeros())
    f_counts, f_jumps, f_starts, f_loglik, r_counts, r_jumps, r_starts, r_loglik = out
    for tt, split_counts, want in ((fwd_tt, f_counts, want_fwd), (rev_tt, r_counts, want_rev)):
        got = count_dict(tt, reduce_counts(to_int64(split_counts)))
        assert set(want) <= set(got)
        for key, value in got.items():
            assert value == pytest.approx(want.get(key, 0.0), abs=1e-6)
    if use_hmm:  # jump counts and likelihoods are each direction's own
        own = hmm.estep(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, SlotSource.of(corpus, fwd_tt, False).arrays(),
                        fwd_tt.probs, 1e-7, src_class, fwd_jump, fwd_start, 0.2, 0.2, 2)
        np.testing.assert_array_equal(f_jumps, own[1])
        np.testing.assert_array_equal(f_starts, own[2])
        np.testing.assert_array_equal(f_loglik, own[3])
        assert np.all(r_jumps >= 0) and r_jumps.sum() > 0


def test_reverse_slots_derived_from_the_forward_ones_equal_the_reversed_corpus_slots():
    corpus = random_corpus(7, 200, 40, (0, 9), (0, 12))   # empty sides and l > m, l < m included
    rev_corpus = corpus.reversed()
    fwd_tt, rev_tt = TTable.from_corpus(corpus), TTable.from_corpus(rev_corpus)
    fwd_slots, fwd_off = sentence_slots(corpus, fwd_tt)
    rev_slots, rev_off = sentence_slots(rev_corpus, rev_tt)
    rev_map, rev_null = agreement.reverse_slot_map(fwd_tt, rev_tt)
    buffer = np.empty(int(np.max(np.diff(rev_off))), fwd_slots.dtype)
    for k in range(len(corpus)):
        got = agreement.reverse_block(fwd_slots[fwd_off[k]:fwd_off[k + 1]], corpus.src.sentence(k),
                                      len(corpus.tgt.sentence(k)), rev_map, rev_null, buffer)
        np.testing.assert_array_equal(got, rev_slots[rev_off[k]:rev_off[k + 1]])


def test_joint_training_is_identical_with_one_and_two_threads():
    corpus = random_corpus(5, 300, 50, (0, 10), (1, 10))
    results = []
    for threads in (1, 2):
        fwd, rev = train_pair(corpus, AlignerConfig(schedule="1^2 2^1 H^2", threads=threads))
        results.append((fwd.ttable.probs, rev.ttable.probs, fwd.jump, rev.jump))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(results[0][0])) and np.all(np.isfinite(results[0][1]))


def test_agreement_lowers_aer_on_gold():
    src, tgt = demo_sentences(1000)
    gold = read_gold(demo_files()["test.gold"])
    scores = {}
    for joint in (False, True):
        model = Aligner(AlignerConfig(schedule="1^4 H^3", lowercase=True, agreement=joint, agreement_power=0.5,
                                      word_classes=0))
        links = model.train(src, tgt).align(src[-len(gold):], tgt[-len(gold):])
        scores[joint] = aer(gold, links).aer
    # 1,000 Hansards lines, gdfa: independent HMMs 0.203 AER, joint 0.180 (measured)
    assert scores[True] < scores[False] - 0.01


def test_reverse_models_3_4_on_slots_derived_from_the_forward_ones_equal_searching_them(monkeypatch):
    """After training by agreement, the reverse direction's Models 3/4 run on its slots derived from
    the forward direction's (train._train_pair); searching its own must give the same model."""
    from eegiza import train as train_module
    corpus = random_corpus(9, 300, 50, (1, 10), (1, 10))
    # (no final alignment pass: training then keeps its last iteration's alignment, compared below;
    # no pruning: it gives each direction its own pairs, and the reverse one then searches its slots)
    config = AlignerConfig(schedule="1^2 H^2 3^1 4^1", threads=1, final_alignment_pass=False, t_cutoff=0)
    derived = train_pair(corpus, config)
    handed = []
    monkeypatch.setattr(train_module._DirectionTraining, "take_slots", lambda self, slots: handed.append(slots))
    searched = train_pair(corpus, config)
    assert len(handed) == 1 and handed[0] is not None   # the reverse direction was handed derived slots
    for a, b in zip(derived, searched):
        np.testing.assert_array_equal(a.ttable.probs, b.ttable.probs)
        np.testing.assert_array_equal(a.fertility.n_table, b.fertility.n_table)
        np.testing.assert_array_equal(a.fertility.d1, b.fertility.d1)
        np.testing.assert_array_equal(a.found[0], b.found[0])
