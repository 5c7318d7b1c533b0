"""Number the tokens of a tokenized text: every distinct word gets an integer id, in one pass.

The input is the whole content of one UTF-8 file as bytes (validated and, if wanted, lower-cased by
the caller). Lines are split on ``b"\\n"`` only; a final ``b"\\n"`` does not start another line, and a
file not ending in ``b"\\n"`` still has its last line. Tokens are separated by runs of ASCII
whitespace, exactly as ``bytes.split()`` does (space, ``\\t``, ``\\r``, ``\\x0b``, ``\\x0c``), so ``\\r\\n``
line ends and trailing blanks are harmless.

Ids are given in order of first appearance, starting at ``first_id`` (1 by default, since 0 is NULL;
GIZA's plain2snt starts at 2). A ``vocab_index`` (bytes -> id, e.g. from another file or a saved
model) is not modified: its words keep their ids, and new words get ids after
``max(first_id - 1, largest known id)``.

The result is a :class:`NumberedText`; its ``words`` and ``counts`` are both indexed by id:
``words[i]`` is the word with id ``i`` (known and new words alike) and ``b""`` where no word has
that id (ids below ``first_id``, gaps in a given ``vocab_index``); ``counts[i]`` is how often id ``i``
occurs in *this* text. ``len(words) == len(counts) ==`` the largest id + 1 (at least ``first_id``).

Two implementations give identical results: the compiled extension ``eegiza._textnum`` (Cython over
csrc/textnum.c: one pass, open-addressing hash table, runs without the GIL) and
:func:`_number_python`, the readable reference used by the tests.
"""
from __future__ import annotations

import operator
from array import array
from typing import NamedTuple, Optional

import numpy as np

try:
    from . import _textnum
    _IMPORT_ERROR = None
except ImportError as exc:  # not built: the pure-Python path still works
    _textnum = None
    _IMPORT_ERROR = exc

MAX_ID = 2**31 - 1  # ids are int32


class VocabularyError(ValueError):
    """A bad ``vocab_index``, or a text needing more ids than int32 allows (with source and line)."""


class NumberedText(NamedTuple):
    """A numbered text; line ``k`` is ``ids[offsets[k]:offsets[k + 1]]``."""

    ids: np.ndarray      # int32, every token of every line, flat
    offsets: np.ndarray  # int64, n_lines + 1
    words: list          # bytes indexed by id; b"" where no word has the id
    counts: np.ndarray   # int64 indexed by id: occurrences in this text

    def vocab_index(self) -> dict:
        """The updated vocabulary, word -> id (pass it on to number the next file)."""
        return {word: i for i, word in enumerate(self.words) if word}


def number_text(data: bytes, vocab_index: Optional[dict] = None, first_id: int = 1,
                use_c: Optional[bool] = None, *, source: str = "<text>") -> NumberedText:
    """Number the tokens of ``data``; see the module docstring for the conventions.

    ``use_c=None`` takes the compiled extension when it is importable, ``True`` requires it
    (ImportError otherwise), ``False`` runs the pure-Python reference. ``source`` names the text in
    error messages (e.g. the file path).
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"{source}: data must be bytes, not {type(data).__name__}")
    first_id = operator.index(first_id)
    if not 0 <= first_id <= MAX_ID:
        raise ValueError(f"first_id must be in [0, {MAX_ID}], got {first_id}")
    seed_words, seed_ids = _check_vocab_index(vocab_index, first_id)
    ids, offsets, new_words, counts = number_seeded(data, seed_words, seed_ids, first_id, use_c, source=source)
    words = [b""] * len(counts)
    for word, i in zip(seed_words, seed_ids.tolist()):
        words[i] = word
    words[len(words) - len(new_words):] = new_words
    return NumberedText(ids, offsets, words, counts)


def seed_vocabulary(vocab_index: Optional[dict], first_id: int = 1):
    """(words, ids) of a ``vocab_index`` after checking it (the arguments :func:`number_seeded`
    takes): check a vocabulary once, then number many texts with it."""
    return _check_vocab_index(vocab_index, operator.index(first_id))


def number_seeded(data: bytes, seed_words: list, seed_ids: np.ndarray, first_id: int = 1,
                  use_c: Optional[bool] = None, *, source: str = "<text>"):
    """:func:`number_text` with a vocabulary already checked by :func:`seed_vocabulary`, without
    building the id-indexed word list: (ids, offsets, new words in id order, counts by id)."""
    if use_c is None:
        use_c = _textnum is not None
    if use_c:
        if _textnum is None:
            raise ImportError(
                "the compiled extension eegiza._textnum is not built "
                f"({_IMPORT_ERROR}); build it with `python setup.py build_ext --inplace` in the source "
                "tree or install with `pip install .`, or pass use_c=False for the pure-Python path")
        try:
            ids, offsets, new_words, counts = _textnum.number(data, seed_words, seed_ids, first_id)
        except _textnum.IdSpaceExhausted as exc:
            raise _ids_exhausted(source, exc.args[0]) from None
    else:
        ids, offsets, new_words, counts = _number_python(bytes(data), seed_words, seed_ids, first_id,
                                                         source)
    return ids, offsets, new_words, counts


def _check_vocab_index(vocab_index: Optional[dict], first_id: int):
    """The known words and their ids (int32), after checking they can be used."""
    if not vocab_index:
        return [], np.empty(0, np.int32)
    words = list(vocab_index)
    ids = []
    for word, i in vocab_index.items():
        if type(word) is not bytes:
            raise VocabularyError(f"vocab_index key {word!r} is not bytes")
        if word.split() != [word]:
            raise VocabularyError(f"vocab_index key {word!r} is empty or contains whitespace, "
                                  "so it can never be a token")
        try:
            i = operator.index(i)
        except TypeError:
            raise VocabularyError(f"vocab_index[{word!r}] = {i!r} is not an integer") from None
        if not first_id <= i <= MAX_ID:
            raise VocabularyError(f"vocab_index[{word!r}] = {i} is outside [first_id={first_id}, {MAX_ID}]")
        ids.append(i)
    ids = np.array(ids, np.int32)
    unique, counts = np.unique(ids, return_counts=True)
    if len(unique) < len(ids):
        dup = int(unique[np.argmax(counts > 1)])
        raise VocabularyError(f"vocab_index gives id {dup} to several words: "
                              f"{[w for w, i in vocab_index.items() if i == dup][:5]}")
    return words, ids


def _ids_exhausted(source: str, line: int) -> VocabularyError:
    return VocabularyError(f"{source}:{line}: a new word would need an id above {MAX_ID} "
                           "(ids are int32)")


def _number_python(data: bytes, seed_words: list, seed_ids: np.ndarray, first_id: int, source: str):
    """Reference implementation of ``_textnum.number``: (ids, offsets, new_words, counts)."""
    index = dict(zip(seed_words, seed_ids.tolist()))
    next_id = max(first_id, max(index.values(), default=-1) + 1)
    new_words = []
    ids = array("i")
    offsets = array("q", [0])
    assert ids.itemsize == 4 and offsets.itemsize == 8
    lines = data.split(b"\n")
    if lines[-1] == b"":  # a final "\n" ends the last line (and b"" has no lines)
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        tokens = line.split()
        for token in tokens:
            if token not in index:
                if next_id > MAX_ID:
                    raise _ids_exhausted(source, lineno)
                index[token] = next_id
                new_words.append(token)
                next_id += 1
        ids.extend(map(index.__getitem__, tokens))
        offsets.append(len(ids))
    ids = np.frombuffer(ids, np.int32) if len(ids) else np.empty(0, np.int32)
    counts = np.bincount(ids, minlength=next_id).astype(np.int64, copy=False)
    return ids, np.frombuffer(offsets, np.int64), new_words, counts
