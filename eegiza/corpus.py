"""Parallel corpus: vocabularies and sentences as flat integer arrays.

Terminology (kept throughout eegiza): the *source* side ``e`` is the conditioning side of a model
P(target | source); it receives the NULL word at position 0. The *target* side ``f`` is the observed
side. ``fwd`` models P(tgt | src) and ``rev`` models P(src | tgt), so for ``rev`` the roles swap
(:meth:`ParallelCorpus.reversed`).

A side of the corpus is a :class:`Side`: ``ids`` (int32, every token of every sentence, flat) and
``offsets`` (int64, ``len(sentences) + 1``), so sentence ``k`` is ``ids[offsets[k]:offsets[k+1]]``.
Vocabulary id 0 is NULL; real words start at 1.

Text is read as UTF-8 (``.gz``, ``.xz`` and ``.bz2`` decompressed; ``-`` is standard input), one
sentence per line, tokens separated by ASCII whitespace (like GIZA++'s ``istream >>`` and Python's
``bytes.split()``). Every problem in the input is reported with the file
and line: different line counts, invalid UTF-8, a joint-format line without ``|||`` or with two, a
sentence longer than a cap the readers were given (``max_len``; the CLI's other long-pair policies
are :mod:`eegiza.longlines`). Empty sides are allowed: such a pair gets an empty alignment.
"""
from __future__ import annotations

import bz2
import lzma
import gzip
import os
import sys
from collections import ChainMap
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from .textnum import number_seeded, number_text, seed_vocabulary

NULL_TOKEN = "NULL"
JOINT_SEPARATOR = "|||"


class CorpusError(ValueError):
    """Bad input text, with the file and line where the problem is."""

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ExtendedWords(SequenceABC):
    """The word list of an extended vocabulary (:meth:`Vocab.extended`): the known words (a list,
    not copied) followed by the new ones; indexing, slicing, iteration and ``len`` as a list."""

    __slots__ = ("known", "new")

    def __init__(self, known, new: list):
        self.known, self.new = known, new

    def __len__(self):
        return len(self.known) + len(self.new)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        n, size = len(self.known), len(self)
        if not -size <= k < size:
            raise IndexError(f"word id {k} out of range for a vocabulary of {size} words")
        k = k + size if k < 0 else k
        return self.known[k] if k < n else self.new[k - n]

    def __iter__(self):
        yield from self.known
        yield from self.new

    def __add__(self, other) -> list:
        return list(self) + list(other)

    def __eq__(self, other):
        return isinstance(other, SequenceABC) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self):
        return f"ExtendedWords({len(self.known)} known + {self.new!r})"


@dataclass
class Vocab:
    """Words and their ids: ``words[0]`` is NULL, ``index[word] == id``, ``counts[id]`` corpus frequency.
    The index is built when first used (numbering new text with the vocabulary, reading word
    classes): training a corpus numbered with it needs none (it would hold de-en's 169k words again,
    10 MB)."""

    words: list
    counts: np.ndarray
    given_index: Optional[Mapping] = field(default=None, repr=False, compare=False)
    _seed: Optional[tuple] = field(default=None, init=False, repr=False, compare=False)
    _padded_counts: Optional[np.ndarray] = field(default=None, init=False, repr=False, compare=False)

    @property
    def index(self) -> Mapping:
        """word -> id (the NULL word left out)."""
        if self.given_index is None:
            self.given_index = {w: i for i, w in enumerate(self.words) if i > 0}
        return self.given_index

    def __len__(self):
        return len(self.words)

    def seed(self) -> tuple:
        """(UTF-8 words, int32 ids) of the index, checked once and kept: numbering many texts with
        one vocabulary (a loaded model's) costs the text, not the vocabulary, from the second on.
        A vocabulary is not changed after it is made (numbering extends a copy)."""
        if self._seed is None:
            self._seed = seed_vocabulary({w.encode("utf-8"): i for w, i in self.index.items()})
        return self._seed

    def get(self, word: str, default: int = -1) -> int:
        return self.index.get(word, default)

    def extended(self, new: dict, counts: Optional[np.ndarray] = None) -> "Vocab":
        """This vocabulary followed by ``new`` words (word -> id, ids from ``len(self)`` on, in
        order), with ``counts`` (one per id of the result; default: this vocabulary's, 0 for the new
        words, a read-only view of :meth:`padded_counts`). Its index looks up ``new`` and then this
        index (a ``ChainMap``), its words are an :class:`ExtendedWords` of this list and the new
        words: numbering one new sentence against a large model vocabulary costs the sentence, not
        the vocabulary."""
        if counts is None:
            counts = self.padded_counts(len(new))
        if not new:
            return Vocab(self.words, counts, self.index)
        known = self.words.known if isinstance(self.words, ExtendedWords) else self.words
        before = list(self.words.new) if isinstance(self.words, ExtendedWords) else []
        return Vocab(ExtendedWords(known, before + list(new)), counts, ChainMap(new, self.index))

    def padded_counts(self, n_new: int) -> np.ndarray:
        """``counts`` followed by ``n_new`` zeros: a read-only view of an array padded once (with room
        for at least 1,024 new words, twice as many when a text has more), not a copy per call."""
        if n_new == 0:
            return self.counts
        padded = self._padded_counts
        if padded is None or len(padded) < len(self.counts) + n_new:
            padded = np.concatenate([self.counts, np.zeros(max(2 * n_new, 1024), self.counts.dtype)])
            padded.flags.writeable = False
            self._padded_counts = padded
        return padded[:len(self.counts) + n_new]

    @classmethod
    def from_words(cls, words: Sequence[str], counts=None) -> "Vocab":
        counts = np.zeros(len(words), np.int64) if counts is None else np.asarray(counts, np.int64)
        return cls(list(words), counts)


@dataclass
class Side:
    """One language of the corpus: flat token ids and sentence offsets."""

    ids: np.ndarray
    offsets: np.ndarray

    def __len__(self):
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sentence(self, k: int) -> np.ndarray:
        return self.ids[self.offsets[k]:self.offsets[k + 1]]


@dataclass
class ParallelCorpus:
    src: Side
    tgt: Side
    src_vocab: Vocab
    tgt_vocab: Vocab

    def __len__(self):
        return len(self.src)

    def reversed(self) -> "ParallelCorpus":
        """The same corpus with source and target swapped (for the reverse direction)."""
        return ParallelCorpus(self.tgt, self.src, self.tgt_vocab, self.src_vocab)

    def subset(self, start: int, stop: int) -> "ParallelCorpus":
        """Sentences ``start:stop`` sharing this corpus' vocabularies."""
        return ParallelCorpus(_slice_side(self.src, start, stop), _slice_side(self.tgt, start, stop),
                              self.src_vocab, self.tgt_vocab)


def _slice_side(side: Side, start: int, stop: int) -> Side:
    lo, hi = side.offsets[start], side.offsets[stop]
    return Side(side.ids[lo:hi].copy(), side.offsets[start:stop + 1] - lo)


# --------------------------------------------------------------------------- reading text

#: leading bytes of compressed files: a misnamed one gets a clear error, not "invalid UTF-8"
_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd"}
STDIN = "-"


def read_bytes(path) -> bytes:
    """The raw bytes of a text file (``-``: standard input); ``.xz``, ``.gz`` and ``.bz2`` files
    are decompressed, and so are gzip/xz/bzip2 files under another name."""
    path = os.fspath(path)
    if path == STDIN:
        return sys.stdin.buffer.read()
    openers = {".xz": lzma.open, ".gz": gzip.open, ".bz2": bz2.open}
    for suffix, opener in openers.items():
        if path.endswith(suffix):
            try:
                with opener(path, "rb") as fh:
                    return fh.read()
            except (OSError, EOFError, lzma.LZMAError) as err:
                if isinstance(err, FileNotFoundError):
                    raise
                raise CorpusError(path, None, f"cannot decompress ({err})") from None
    with open(path, "rb") as fh:
        data = fh.read()
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            opener = {"gzip": gzip.decompress, "xz": lzma.decompress, "bzip2": bz2.decompress}.get(kind)
            if opener is None:
                raise CorpusError(path, None, f"a {kind}-compressed file: decompress it first")
            try:
                return opener(data)
            except (OSError, EOFError, lzma.LZMAError, ValueError) as err:
                raise CorpusError(path, None, f"looks {kind}-compressed but cannot be decompressed ({err})") from None
    return data


def decode_utf8(data: bytes, path) -> str:
    """Decode UTF-8, or raise :class:`CorpusError` naming the line of the first invalid byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - data.rfind(b"\n", 0, err.start)
        raise CorpusError(path, line, f"invalid UTF-8 (byte 0x{data[err.start]:02x} at byte column {column})") from None


def normalise_text(data: bytes, path, lowercase: bool) -> bytes:
    """Validate UTF-8 and optionally lower-case (``str.lower``); returns UTF-8 bytes."""
    text = decode_utf8(data, path)
    if lowercase:
        return text.lower().encode("utf-8")
    return data


def count_lines(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def split_joint(data: bytes, path) -> tuple:
    """Split ``src ||| tgt`` lines into the two sides' bytes (one line each)."""
    src_lines, tgt_lines = [], []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    sep = JOINT_SEPARATOR.encode()
    for lineno, line in enumerate(lines, 1):
        pos = line.find(sep)
        if pos < 0:
            raise CorpusError(path, lineno, f"no '{JOINT_SEPARATOR}' separator between source and target")
        if line.find(sep, pos + len(sep)) >= 0:
            raise CorpusError(path, lineno, f"more than one '{JOINT_SEPARATOR}' separator (one line holds "
                                            "one source and one target sentence)")
        src_lines.append(line[:pos])
        tgt_lines.append(line[pos + len(sep):])
    return b"\n".join(src_lines) + b"\n", b"\n".join(tgt_lines) + b"\n", len(lines)


def _number_side(data: bytes, vocab: Optional[Vocab], name):
    """Number one side; a given vocabulary is extended with new words (ids appended to a copy)."""
    if vocab is not None:
        return _number_with(data, vocab, name)
    numbered = number_text(data, None, source=str(name))
    words = [NULL_TOKEN] + [w.decode("utf-8") for w in numbered.words[1:]]
    counts = np.asarray(numbered.counts, np.int64)
    if len(counts) < len(words):
        counts = np.concatenate([counts, np.zeros(len(words) - len(counts), np.int64)])
    return Side(numbered.ids.astype(np.int32, copy=False), numbered.offsets.astype(np.int64, copy=False)), \
        Vocab(words, counts)


def _number_with(data: bytes, vocab: Vocab, name):
    """Number one side with a known vocabulary (:meth:`Vocab.seed`, checked once): its words keep
    their ids, new words get ids from ``len(vocab)`` on in order of appearance; the returned
    vocabulary is ``vocab``'s words then the new ones, with this text's counts."""
    seed_words, seed_ids = vocab.seed()
    ids, offsets, new_words, counts = number_seeded(data, seed_words, seed_ids, first_id=len(vocab),
                                                    source=str(name))
    new = {w.decode("utf-8"): i for i, w in enumerate(new_words, len(vocab))}
    n_words = len(vocab) + len(new)
    counts = np.asarray(counts, np.int64)
    if len(counts) < n_words:
        counts = np.concatenate([counts, np.zeros(n_words - len(counts), np.int64)])
    side = Side(ids.astype(np.int32, copy=False), offsets.astype(np.int64, copy=False))
    return side, vocab.extended(new, counts)


def _check_lengths(side: Side, path, max_len: Optional[int]):
    if max_len is None or len(side) == 0:
        return
    lengths = side.lengths
    too_long = np.flatnonzero(lengths > max_len)
    if len(too_long):
        k = int(too_long[0])
        raise CorpusError(path, k + 1, f"sentence has {int(lengths[k])} tokens, more than the maximum "
                                       f"sentence length {max_len} ({len(too_long)} such lines in all; "
                                       "--on-long skip or fallback leaves them out of training instead)")


def corpus_from_bytes(src_data: bytes, tgt_data: bytes, src_name="<source>", tgt_name="<target>",
                      lowercase: bool = False, max_len: Optional[int] = None,
                      src_vocab: Optional[Vocab] = None, tgt_vocab: Optional[Vocab] = None) -> ParallelCorpus:
    """Build a corpus from the contents of two line-aligned files (validated, numbered)."""
    return _numbered(normalise_text(src_data, src_name, lowercase), normalise_text(tgt_data, tgt_name, lowercase),
                     src_name, tgt_name, max_len, src_vocab, tgt_vocab)


def _numbered(src_data: bytes, tgt_data: bytes, src_name, tgt_name, max_len: Optional[int],
              src_vocab: Optional[Vocab], tgt_vocab: Optional[Vocab]) -> ParallelCorpus:
    """The corpus of two sides' valid UTF-8 bytes (lower-cased if asked for): line counts checked,
    numbered, lengths checked."""
    n_src, n_tgt = count_lines(src_data), count_lines(tgt_data)
    if n_src != n_tgt:
        shorter = tgt_name if n_tgt < n_src else src_name
        raise CorpusError(shorter, min(n_src, n_tgt) + 1,
                          f"line counts differ: {src_name} has {n_src} lines, {tgt_name} has {n_tgt}")
    src_side, src_vocab = _number_side(src_data, src_vocab, src_name)
    tgt_side, tgt_vocab = _number_side(tgt_data, tgt_vocab, tgt_name)
    _check_lengths(src_side, src_name, max_len)
    _check_lengths(tgt_side, tgt_name, max_len)
    return ParallelCorpus(src_side, tgt_side, src_vocab, tgt_vocab)


def read_parallel(src_path, tgt_path, lowercase: bool = False, max_len: Optional[int] = None) -> ParallelCorpus:
    """Read two line-aligned token files (plain, .gz or .xz)."""
    return corpus_from_bytes(read_bytes(src_path), read_bytes(tgt_path), src_path, tgt_path,
                             lowercase=lowercase, max_len=max_len)


def read_joint(path, lowercase: bool = False, max_len: Optional[int] = None) -> ParallelCorpus:
    """Read one ``src ||| tgt`` file (fast_align / eflomal input)."""
    data = normalise_text(read_bytes(path), path, lowercase)
    src_data, tgt_data, _ = split_joint(data, path)
    return corpus_from_bytes(src_data, tgt_data, path, path, lowercase=False, max_len=max_len)


def _join_sentences(sentences: Iterable, name: str, lowercase: bool = False) -> bytes:
    """The sentences (strings, or lists of tokens) as the UTF-8 lines of a file, lower-cased if asked
    for (the text is lower-cased before it is encoded: no decoding and re-encoding, as a file's
    bytes take; the same ``str.lower`` of the same text)."""
    lines = sentences if isinstance(sentences, list) else list(sentences)
    try:
        text = "\n".join(lines)
    except TypeError:                    # some sentences are lists of tokens
        lines = [sent if isinstance(sent, str) else " ".join(sent) for sent in lines]
        text = "\n".join(lines)
    if text.count("\n") != max(len(lines) - 1, 0):   # some sentence holds a newline: which one
        k = next(k for k, line in enumerate(lines, 1) if "\n" in line)
        raise CorpusError(name, k, "a sentence contains a newline")
    if lowercase:
        text = text.lower()
    return (text + "\n").encode("utf-8") if lines else b""


def corpus_from_sentences(src_sentences, tgt_sentences, lowercase: bool = False,
                          max_len: Optional[int] = None, src_vocab: Optional[Vocab] = None,
                          tgt_vocab: Optional[Vocab] = None) -> ParallelCorpus:
    """Build a corpus from Python sentences: strings (split on whitespace) or lists of tokens."""
    src_name, tgt_name = "<source sentences>", "<target sentences>"
    return _numbered(_join_sentences(src_sentences, src_name, lowercase),
                     _join_sentences(tgt_sentences, tgt_name, lowercase), src_name, tgt_name, max_len, src_vocab,
                     tgt_vocab)
