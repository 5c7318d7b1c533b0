"""Aligning a few sentence pairs with a loaded model quickly (the Python API's single-pair path).

For a large batch, :meth:`eegiza.api.AlignmentModel.align_corpus` numbers the text with the corpus
reader and runs the parallel kernels, as training's final pass does. For a handful of pairs their
fixed costs dominate: the reader checks the whole vocabulary on every call, and each parallel
kernel launch wakes the worker threads (milliseconds on a busy machine). Here the pairs are
numbered by dictionary lookups and aligned by serial loops over the *same* per-sentence kernels
(:func:`eegiza.models.hmm._sentence_viterbi`, :func:`eegiza.ttable.find_slot`; Models 3/4 climb
with one worker from the same sentence slots, as the large-batch path), so the links are identical
to the large-batch path (a test checks this). :func:`align_both_small` aligns both directions: the
reverse slots derived from the forward ones when the model's slot map is built, and for long pairs
the reverse direction on a second thread (:mod:`eegiza.second_thread`) while this one runs the
forward one (a shorter wait only when a second core is free: benchmarks/README.md).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit

from .corpus import CorpusError, ParallelCorpus, Side, Vocab
from .models import hmm
from .models.fertility import align_fertility
from .second_thread import submit_if_idle
from .ttable import find_slot, first_occurrences, slot_layout

#: At most this many pairs take the small-batch path.
SMALL_BATCH = 32


def _tokens(sentence, lowercase: bool, name: str, k: int):
    line = sentence if isinstance(sentence, str) else " ".join(sentence)
    if "\n" in line:
        raise CorpusError(name, k, "a sentence contains a newline")
    if lowercase:
        line = line.lower()
    return [t.decode("utf-8") for t in line.encode("utf-8").split()]   # ASCII whitespace, as the reader


def _number(sentences, vocab: Vocab, lowercase: bool, name: str):
    new = {}
    ids, offsets = [], [0]
    n = len(vocab)
    for k, sent in enumerate(sentences, 1):
        for tok in _tokens(sent, lowercase, name, k):
            i = vocab.index.get(tok)
            if i is None:
                i = new.setdefault(tok, n + len(new))
            ids.append(i)
        offsets.append(len(ids))
    return Side(np.array(ids, np.int32), np.array(offsets, np.int64)), vocab.extended(new)


def small_corpus(model, src_sentences, tgt_sentences) -> ParallelCorpus:
    """The pairs numbered with the model's vocabularies (new words get ids after them), as
    :meth:`eegiza.api.AlignmentModel.corpus` numbers them."""
    if len(src_sentences) != len(tgt_sentences):
        raise ValueError(f"{len(src_sentences)} source sentences but {len(tgt_sentences)} target sentences")
    lower = model.config.lowercase
    src, src_vocab = _number(src_sentences, model.src_vocab, lower, "<source sentences>")
    tgt, tgt_vocab = _number(tgt_sentences, model.tgt_vocab, lower, "<target sentences>")
    return ParallelCorpus(src, tgt, src_vocab, tgt_vocab)


def _slots(corpus, ttable):
    """:func:`eegiza.ttable.sentence_slots` of a few pairs (same layout and dtype), filled by a serial
    loop (the parallel fill wakes the worker threads)."""
    slots, slot_off = slot_layout(np.diff(corpus.src.offsets), np.diff(corpus.tgt.offsets), ttable.nnz)
    _fill_slots_serial(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, ttable.indptr,
                       ttable.indices, slot_off, slots)
    return slots, slot_off


@njit(cache=True, nogil=True)
def _fill_slots_serial(src_ids, src_off, tgt_ids, tgt_off, indptr, indices, slot_off, slots):
    """Each pair's slots; a word repeated in a sentence (a long one repeats a third of its words)
    copies the slots of its first occurrence instead of searching the t-table rows again."""
    for k in range(len(src_off) - 1):
        src = src_ids[src_off[k]:src_off[k + 1]]
        tgt = tgt_ids[tgt_off[k]:tgt_off[k + 1]]
        l = len(src)
        first_i, first_j = first_occurrences(src), first_occurrences(tgt)
        for j in range(len(tgt)):
            row = slot_off[k] + j * (l + 1)
            if first_j[j] < j:
                before = slot_off[k] + first_j[j] * (l + 1)
                slots[row:row + l + 1] = slots[before:before + l + 1]
                continue
            f = tgt[j]
            slots[row] = find_slot(indptr, indices, 0, f)
            for i in range(l):
                i0 = first_i[i]
                slots[row + 1 + i] = slots[row + 1 + i0] if i0 < i else find_slot(indptr, indices, src[i], f)


@njit(cache=True, nogil=True)
def _hmm_viterbi_serial(src_ids, src_off, tgt_off, slots, slot_off, probs, floor, src_class, jump, start, p_null,
                        smooth):
    n = len(src_off) - 1
    links = np.zeros(tgt_off[-1], np.int32)
    scores = np.zeros(n)
    for k in range(n):
        scores[k] = hmm._sentence_viterbi(src_ids[src_off[k]:src_off[k + 1]], tgt_off[k + 1] - tgt_off[k],
                                          slots[slot_off[k]:slot_off[k + 1]], probs, floor, src_class, jump, start,
                                          p_null, smooth, links[tgt_off[k]:tgt_off[k + 1]])
    return links, scores


def _serial(model) -> bool:
    """True if this path aligns the direction itself (HMM Viterbi start, optional Model 3/4 climb)."""
    base = model.base_model if model.last_model in "34" else model.last_model
    return base == "H" and not (model.last_model == "H" and model.hmm_link_posterior > 0)


def _align_from_slots(model, corpus, slots):
    """Serial HMM Viterbi of the pairs from their sentence slots, then the one-worker Model 3/4 climb."""
    tt = model.ttable
    links, scores = _hmm_viterbi_serial(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, *slots, tt.probs,
                                        model.prob_smooth, model.src_class, model.jump, model.start,
                                        model.hmm_p_null, model.hmm_jump_smooth)
    if model.last_model in "34":
        return align_fertility(model.fertility, tt, corpus, links, 1, model.min_link_posterior, slots)
    return links, scores


def align_direction_small(model, corpus, fallback):
    """:func:`eegiza.train.align_direction` for a few pairs: serial HMM Viterbi, one-worker Model 3/4
    climbing; other models and HMM posterior decoding go to ``fallback`` (the parallel path)."""
    if not _serial(model):   # posterior decoding, Model 1 or 2 underneath
        return fallback(model, corpus)
    return _align_from_slots(model, corpus, _slots(corpus, model.ttable))


#: The two directions of pairs adding up to at least this many source x target words (about 50 x 50)
#: are aligned at once, the reverse one on a second thread (:func:`_concurrent`). Measured on ro-en's
#: test pairs (benchmarks/README.md): below about 2,000 the hand-off and the second thread's wake-up
#: cost more than they save, and on a machine with no idle core it cost 0.16-0.6 ms at every size.
CONCURRENT_MIN_CELLS = 2500


def _concurrent(corpus) -> bool:
    """True if the reverse direction of these pairs runs on the second thread: Numba may use two
    threads or more in this thread (``--threads`` / :func:`eegiza.train.set_threads`) and the pairs
    have at least :data:`CONCURRENT_MIN_CELLS` source x target words."""
    return (numba.get_num_threads() > 1
            and int(np.dot(corpus.src.lengths, corpus.tgt.lengths)) >= CONCURRENT_MIN_CELLS)


def align_both_small(fwd_model, rev_model, corpus, fallback, transpose=None):
    """Both directions of a few pairs: ((forward positions, scores), (reverse positions, scores)), each
    as :func:`align_direction_small` gives it. With ``transpose`` (the models'
    :class:`eegiza.slot_transpose.SlotTranspose`, if built) the reverse slots are derived from the
    forward ones instead of searched. When :func:`_concurrent`, the reverse direction runs on the
    second thread (:func:`eegiza.second_thread.submit_if_idle`; in this thread if that one is busy)
    while this thread runs the forward one (the kernels release the GIL). Each direction computes
    the same things either way: the same links and scores."""
    reverse = corpus.reversed()
    if not (_serial(fwd_model) and _serial(rev_model)):
        return align_direction_small(fwd_model, corpus, fallback), align_direction_small(rev_model, reverse, fallback)
    fwd_slots = rev_slots = None
    if transpose is not None and transpose.ok:
        fwd_slots = _slots(corpus, fwd_model.ttable)
        rev_slots = transpose.reverse_slots(corpus, fwd_slots, serial=True)

    def align_reverse():
        slots = rev_slots if rev_slots is not None else _slots(reverse, rev_model.ttable)
        return _align_from_slots(rev_model, reverse, slots)

    pending = submit_if_idle(align_reverse) if _concurrent(corpus) else None
    fwd = _align_from_slots(fwd_model, corpus, fwd_slots if fwd_slots is not None else _slots(corpus, fwd_model.ttable))
    return fwd, align_reverse() if pending is None else pending.result()
