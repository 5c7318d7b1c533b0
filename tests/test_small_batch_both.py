"""Both directions of a few pairs (small_batch.align_both_small): the reverse direction on the second
thread gives the same positions and scores as in this thread, derived reverse slots equal searched
ones, an error in the second thread reaches the caller, and a forked child process still aligns."""
import multiprocessing
import threading

import numba
import numpy as np
import pytest

from eegiza import second_thread, small_batch
from eegiza.small_batch import _slots, align_both_small, small_corpus
from eegiza.train import align_direction
from test_saved_model import fertility_model, unpruned_fertility_model  # noqa: F401  (module-scoped fixtures)

SECOND = second_thread.THREAD_NAME + "_0"

NEW_PAIRS = [("the qqqunseen house .", "la zzzinconnu maison ."), ("wwwnew the the house", "vvvneu la la")]


def _corpus(model, src, tgt, n=6):
    pairs = list(zip(src[:n], tgt[:n])) + NEW_PAIRS
    return small_corpus(model, [s for s, _ in pairs], [t for _, t in pairs])


def _both(model, corpus, transpose=None):
    (fp, fs), (rp, rs) = align_both_small(*model._directions(corpus), corpus, align_direction, transpose)
    return fp.tobytes(), fs.tobytes(), rp.tobytes(), rs.tobytes()


def _record_threads(monkeypatch):
    """Names of the threads that aligned each direction (the reverse corpus has the target ids as source)."""
    seen = []
    run = small_batch._align_from_slots

    def recording(model, corpus, slots):
        seen.append(threading.current_thread().name)
        return run(model, corpus, slots)
    monkeypatch.setattr(small_batch, "_align_from_slots", recording)
    return seen


@pytest.mark.parametrize("derived", [False, True])
def test_the_second_thread_gives_the_serial_links_and_scores(unpruned_fertility_model, monkeypatch,  # noqa: F811
                                                            derived):
    model, src, tgt = unpruned_fertility_model   # (unpruned: the reverse slots can be derived)
    corpus = _corpus(model, src, tgt)
    transpose = model._slot_transpose() if derived else None
    seen = _record_threads(monkeypatch)
    monkeypatch.setattr(small_batch, "_concurrent", lambda c: False)
    serial = _both(model, corpus, transpose)
    assert all(name == threading.current_thread().name for name in seen)
    seen.clear()
    monkeypatch.setattr(small_batch, "_concurrent", lambda c: True)
    concurrent = _both(model, corpus, transpose)
    assert sorted(seen) == sorted([threading.current_thread().name, SECOND])   # one direction each
    assert concurrent == serial
    assert np.frombuffer(serial[0], np.int32).any() and np.frombuffer(serial[2], np.int32).any()   # real links


def test_model_align_is_the_same_with_one_numba_thread_or_two(fertility_model, monkeypatch):  # noqa: F811
    model, src, tgt = fertility_model
    pairs = list(zip(src[:6], tgt[:6])) + NEW_PAIRS
    monkeypatch.setattr(small_batch, "CONCURRENT_MIN_CELLS", 1)   # every pair long enough
    seen = _record_threads(monkeypatch)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = [model.align([p])[0] for p in pairs]
        assert SECOND not in seen               # one thread: no second thread
        if numba.config.NUMBA_NUM_THREADS >= 2:
            numba.set_num_threads(2)
            seen.clear()
            assert [model.align([p])[0] for p in pairs] == one
            assert seen.count(SECOND) == len(pairs)
    finally:
        numba.set_num_threads(before)
    assert one == model.align(pairs)


def test_concurrency_needs_long_enough_pairs(fertility_model, monkeypatch):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    cells = int(np.dot(corpus.src.lengths, corpus.tgt.lengths))
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    monkeypatch.setattr(small_batch, "CONCURRENT_MIN_CELLS", cells)
    assert small_batch._concurrent(corpus)
    monkeypatch.setattr(small_batch, "CONCURRENT_MIN_CELLS", cells + 1)
    assert not small_batch._concurrent(corpus)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)
    monkeypatch.setattr(small_batch, "CONCURRENT_MIN_CELLS", 1)
    assert not small_batch._concurrent(corpus)


def test_derived_small_batch_reverse_slots_equal_searched_ones(unpruned_fertility_model):  # noqa: F811
    model, src, tgt = unpruned_fertility_model
    corpus = _corpus(model, src, tgt)
    fwd, rev = model._directions(corpus)
    transpose = model._slot_transpose()
    assert transpose.ok
    fwd_slots = _slots(corpus, fwd.ttable)
    derived = transpose.reverse_slots(corpus, fwd_slots, serial=True)
    searched = _slots(corpus.reversed(), rev.ttable)
    parallel = transpose.reverse_slots(corpus, fwd_slots)
    for got in (derived, parallel):
        assert got[0].dtype == searched[0].dtype
        np.testing.assert_array_equal(got[1], searched[1])
        np.testing.assert_array_equal(got[0], searched[0])
    assert (searched[0] >= 0).sum() > len(searched[0]) // 4 and (searched[0] < 0).any()   # new words: -1


def test_an_error_on_the_second_thread_reaches_the_caller(fertility_model, monkeypatch):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    run = small_batch._align_from_slots

    def failing(m, c, slots):
        if threading.current_thread().name.startswith("eegiza-second"):
            raise RuntimeError("reverse direction failed")
        return run(m, c, slots)
    monkeypatch.setattr(small_batch, "_align_from_slots", failing)
    monkeypatch.setattr(small_batch, "_concurrent", lambda c: True)
    with pytest.raises(RuntimeError, match="reverse direction failed"):
        _both(model, corpus)


def test_a_busy_second_thread_leaves_the_reverse_direction_to_the_caller(fertility_model, monkeypatch):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    monkeypatch.setattr(small_batch, "_concurrent", lambda c: True)
    expected = _both(model, corpus)
    seen = _record_threads(monkeypatch)
    release, started = threading.Event(), threading.Event()

    def blocking():
        started.set()
        release.wait(60)
    busy = second_thread.submit_if_idle(blocking)
    assert busy is not None and started.wait(60)
    try:
        assert second_thread.submit_if_idle(lambda: None) is None
        assert _both(model, corpus) == expected            # another thread's work on the worker: not waited for
        assert seen == [threading.current_thread().name] * 2
    finally:
        release.set()
        busy.result(60)
    seen.clear()
    assert _both(model, corpus) == expected and SECOND in seen   # idle again


def _child(model, corpus, queue):
    small_batch._concurrent = lambda c: True
    queue.put(_both(model, corpus))


def test_a_forked_child_starts_its_own_second_thread(fertility_model, monkeypatch):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    monkeypatch.setattr(small_batch, "_concurrent", lambda c: True)
    expected = _both(model, corpus)                    # the parent's second thread exists now
    assert second_thread._pool is not None
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(model, corpus, queue))
    child.start()
    try:
        got = queue.get(timeout=120)                   # the inherited pool has no thread: it would hang
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    assert got == expected and child.exitcode == 0


def test_derived_reverse_slots_give_the_same_links_and_scores(fertility_model):  # noqa: F811
    model, src, tgt = fertility_model
    corpus = _corpus(model, src, tgt)
    searched = _both(model, corpus)
    derived = _both(model, corpus, model._slot_transpose())
    assert derived == searched
    assert np.frombuffer(searched[0], np.int32).any() and np.frombuffer(searched[2], np.int32).any()   # real links
