"""Atomic integer addition and memory prefetching for the parallel E-step kernels.

The E-step kernels add every sentence's expected counts to one shared array of fixed-point
integers (:data:`eegiza.ttable.COUNT_SCALE` units per unit of probability mass). Integer addition
is associative and commutative, so the sums are bit-identical whatever the number of threads and
whichever thread adds first; an atomic add (x86 ``lock xadd``) makes the concurrent adds safe
without one private copy of the table per thread, which would cost ``threads x table`` bytes.

Numba has no atomics for the CPU, so :func:`atomic_add` is a small LLVM intrinsic
(``atomicrmw add``, monotonic ordering: only the addition itself must be atomic; the kernels read
the totals after the parallel loop has joined, which orders everything).

An atomic add is also a full memory barrier on x86: the cache miss of one add cannot overlap the
next one's, so scattering a sentence's counts over a table larger than the cache waited for each
miss in turn (32 ns an add in a 7M-entry table, against 13 ns for plain adds). Prefetches are not
ordered with locked instructions, so :func:`prefetch` of the entry :data:`PREFETCH_AHEAD` adds
ahead lets the misses overlap again (12.5 ns an atomic add, measured on this machine). Prefetching
changes no result, only when the memory arrives; the kernels use it for the same reason in their
gathers through the sentence slots (t(f|e), the reverse slot map).

The helpers here that take arrays (:func:`prefetch_through`, :func:`prefetch_start`) are compiled
without reference counting (``_nrt=False``) and left to LLVM to inline, not inlined by Numba
(``inline="always"``): Numba's inlining of them left an atomic reference-count increment and
decrement of the array arguments per call in the caller's loop. Inlined that way
they took 29% of the Models 3/4 harness's samples (``NRT_incref``/``NRT_decref``) and made
agreement training 37% slower (en-fr 20k, one thread: 18.3 CPU s against 13.3).
"""
from __future__ import annotations

from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from llvmlite import ir


@intrinsic
def atomic_add(typingctx, array, index, value):
    """``array[index] += value`` atomically for a 1-d int64, uint32 or int32 array (no bounds
    check, no negative indices; ``value`` is cast to the array's type); returns the previous value."""
    if not (isinstance(array, types.Array) and array.ndim == 1
            and array.dtype in (types.int64, types.uint32, types.int32)
            and isinstance(index, types.Integer) and isinstance(value, types.Integer)):
        return None
    signature = array.dtype(array, index, value)

    def codegen(context, builder, sig, args):
        array_type, index_type, value_type = sig.args
        array_value, index_value, added = args
        ary = context.make_array(array_type)(context, builder, array_value)
        index_value = context.cast(builder, index_value, index_type, types.intp)
        added = context.cast(builder, added, value_type, array_type.dtype)
        pointer = cgutils.get_item_pointer(context, builder, array_type, ary, [index_value], wraparound=False)
        return builder.atomic_rmw("add", pointer, added, "monotonic")

    return signature, codegen


PREFETCH_AHEAD = 32   # how many scattered accesses ahead a kernel prefetches


@intrinsic
def prefetch(typingctx, array, index):
    """Hint that ``array[index]`` (1-d array) will be read or written soon (``llvm.prefetch``, for
    writing, into all cache levels); never faults, changes no value, costs one instruction."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None
    signature = types.void(array, index)

    def codegen(context, builder, sig, args):
        array_type, index_type = sig.args
        array_value, index_value = args
        ary = context.make_array(array_type)(context, builder, array_value)
        index_value = context.cast(builder, index_value, index_type, types.intp)
        pointer = cgutils.get_item_pointer(context, builder, array_type, ary, [index_value], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        llvm_prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32]), "llvm.prefetch.p0")
        # (address, 1 = for writing, 3 = keep in all cache levels, 1 = data cache)
        builder.call(llvm_prefetch, [builder.bitcast(pointer, byte_pointer), int32(1), int32(3), int32(1)])
        return context.get_dummy_value()

    return signature, codegen


@njit(cache=True, nogil=True, _nrt=False)   # not inline="always": see the module docstring
def prefetch_through(table, slots, x):
    """Prefetch ``table[slots[x]]``, the scattered access a loop over ``slots`` makes at step x
    (called :data:`PREFETCH_AHEAD` steps ahead of it); nothing past the end of ``slots`` or for a
    missing slot (-1)."""
    if x < len(slots):
        s = slots[x]
        if s >= 0:
            prefetch(table, s)


@njit(cache=True, nogil=True, _nrt=False)
def prefetch_start(table, slots):
    """Prefetch the scattered accesses of a loop's first :data:`PREFETCH_AHEAD` steps over ``slots``."""
    for x in range(PREFETCH_AHEAD):
        prefetch_through(table, slots, x)


SENTENCE_BLOCK = 16   # sentences a thread claims at a time in the E-step kernels
WORKERS = 256         # a kernel without a thread count runs prange(WORKERS) workers that claim blocks


@njit(nogil=True, inline="always")   # compiled into each caller (and cached with it)
def claim_block(counter, n_items):
    """The next block [lo, hi) of ``n_items`` sentences for the calling thread, from the shared
    one-element int64 ``counter`` (lo >= n_items: nothing left). Threads take blocks as they
    finish them, so a run of long sentences does not hold one thread up while the other idles;
    every result the kernels collect is per sentence or an integer sum, so which thread takes which
    block does not change them."""
    lo = atomic_add(counter, 0, SENTENCE_BLOCK)
    return lo, min(n_items, lo + SENTENCE_BLOCK)
