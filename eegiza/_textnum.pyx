# cython: boundscheck=False, wraparound=False
"""Compiled twin of :func:`eegiza.textnum._number_python`: numbers a tokenized text with csrc/textnum.c.

Memory: the C library fills malloc'ed buffers; the id and offset buffers are handed to NumPy (each
array frees its buffer when it dies), everything else is freed before returning, on success or error.
"""
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free
from libc.string cimport memset
from cython cimport view

import numpy as np


cdef extern from "textnum.h" nogil:
    enum:
        TN_OK
        TN_NOMEM
        TN_IDS_EXHAUSTED
        TN_DUPLICATE

    ctypedef struct tn_word:
        size_t offset
        size_t length
        int64_t count
        int32_t id

    ctypedef struct tn_vocab:
        tn_word *words
        size_t n_types
        unsigned char *arena
        int64_t next_id

    ctypedef struct tn_output:
        int32_t *ids
        size_t n_ids
        int64_t *offsets
        size_t n_offsets

    int tn_vocab_init(tn_vocab *v, int32_t first_id, size_t expected_types)
    void tn_vocab_free(tn_vocab *v)
    int tn_vocab_insert(tn_vocab *v, const unsigned char *word, size_t length, int32_t id)
    int tn_output_init(tn_output *out, size_t expected_tokens, size_t expected_lines)
    void tn_output_free(tn_output *out)
    int tn_number(tn_vocab *v, const unsigned char *data, size_t n, tn_output *out, size_t *bad_line)


class IdSpaceExhausted(Exception):
    """A new word would need an id above 2**31 - 1; ``args[0]`` is its 1-based line."""


cdef object _adopt(void *data, size_t n, Py_ssize_t itemsize, str fmt, object dtype):
    """A NumPy array over data[:n] owning the malloc'ed buffer, which is freed even on error."""
    cdef view.array arr
    if n == 0:
        free(data)
        return np.empty(0, dtype)
    try:
        arr = view.array(shape=(n,), itemsize=itemsize, format=fmt, mode="c", allocate_buffer=False)
    except BaseException:
        free(data)
        raise
    arr.data = <char *>data
    arr.callback_free_data = free
    return np.asarray(arr)


def number(const unsigned char[::1] data not None, list seed_words, const int32_t[::1] seed_ids not None,
           int32_t first_id):
    """Number ``data`` (see ``eegiza.textnum``) after seeding the vocabulary with known words.

    Returns ``(ids, offsets, new_words, counts)``: int32 ids of all tokens, int64 line offsets, the
    new words (bytes) in order of first appearance, and int64 token counts indexed by id.
    """
    cdef tn_vocab v
    cdef tn_output out
    cdef size_t n = data.shape[0], k, bad_line = 0
    cdef Py_ssize_t j
    cdef const unsigned char *text = &data[0] if n > 0 else <const unsigned char *>b""
    cdef bytes word
    cdef int st
    cdef tn_word *w
    cdef int64_t[::1] counts_view
    cdef void *buffer

    if len(seed_words) != seed_ids.shape[0]:
        raise ValueError("seed_words and seed_ids differ in length")
    memset(&v, 0, sizeof(v))
    memset(&out, 0, sizeof(out))
    try:
        if (tn_vocab_init(&v, first_id, len(seed_words)) != TN_OK
                or tn_output_init(&out, n // 6, n // 64) != TN_OK):
            raise MemoryError("textnum: cannot allocate the vocabulary or the output buffers")
        for j in range(len(seed_words)):
            word = seed_words[j]
            st = tn_vocab_insert(&v, <const unsigned char *>word, len(word), seed_ids[j])
            if st == TN_DUPLICATE:
                raise ValueError(f"word {word!r} is given twice")
            if st != TN_OK:
                raise MemoryError("textnum: out of memory while seeding the vocabulary")
        with nogil:
            st = tn_number(&v, text, n, &out, &bad_line)
        if st == TN_IDS_EXHAUSTED:
            raise IdSpaceExhausted(bad_line)
        if st != TN_OK:
            raise MemoryError("textnum: out of memory while numbering the text")

        new_words = []
        for k in range(len(seed_words), v.n_types):
            w = &v.words[k]
            new_words.append(v.arena[w.offset:w.offset + w.length])
        counts = np.zeros(v.next_id, np.int64)
        counts_view = counts
        for k in range(v.n_types):
            counts_view[v.words[k].id] = v.words[k].count
        buffer, out.ids = out.ids, NULL
        ids = _adopt(buffer, out.n_ids, sizeof(int32_t), "i", np.int32)
        buffer, out.offsets = out.offsets, NULL
        offsets = _adopt(buffer, out.n_offsets, sizeof(int64_t), "q", np.int64)
        return ids, offsets, new_words, counts
    finally:
        tn_output_free(&out)
        tn_vocab_free(&v)
