"""Monolingual word vectors: training (gensim Word2Vec and FastText, count-based PPMI-SVD of
:mod:`.ppmi`, or several of them side by side) and loading/saving.

:class:`WordVectors` is words (most frequent first) + a float32 matrix, and optionally a function
that builds vectors for words outside the vocabulary (FastText's character n-grams). Files:

* word2vec text: a header line ``<count> <dim>`` then ``word v1 ... vd`` per line;
* word2vec binary: the same header, then per word ``word<space>`` and ``dim`` little-endian float32;
* gensim: a ``KeyedVectors`` or a whole ``Word2Vec``/``FastText`` model saved with ``.save()``
  (FastText keeps its subword vectors, so rare and unseen words get vectors too).

gensim is imported only inside the functions that need it.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .mapping import unit_rows


class VectorFileError(ValueError):
    """A malformed vector file, with the file and line."""

    def __init__(self, path, line, message):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass
class WordVectors:
    words: list
    matrix: np.ndarray
    oov: Optional[Callable[[Sequence[str]], np.ndarray]] = None

    def __post_init__(self):
        self.matrix = np.asarray(self.matrix, np.float32)
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    def lookup(self, words: Sequence[str]) -> tuple:
        """(mask, matrix): which words have a vector (in-vocabulary, or built from subwords) and
        their vectors (rows of the masked words, in order)."""
        rows = np.fromiter((self.index.get(w, -1) for w in words), np.int64, len(words))
        mask = rows >= 0
        out = np.zeros((len(words), self.dim), np.float32)
        out[mask] = self.matrix[rows[mask]]
        if self.oov is not None and not mask.all():
            missing = np.flatnonzero(~mask)
            built = np.asarray(self.oov([words[k] for k in missing]), np.float32)
            ok = np.linalg.norm(built, axis=1) > 0
            out[missing[ok]] = built[ok]
            mask[missing[ok]] = True
        return mask, out[mask]


# --------------------------------------------------------------------------- training

def _progress_callback(progress, epochs: int):
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochProgress(CallbackAny2Vec):
        def __init__(self):
            self.epoch, self.t0 = 0, time.perf_counter()

        def on_epoch_end(self, model):
            self.epoch += 1
            loss = model.get_latest_training_loss() if getattr(model, "compute_loss", False) else None
            extra = f", loss {loss:.4g}" if loss else ""
            progress(f"embedding epoch {self.epoch}/{epochs} done ({time.perf_counter() - self.t0:.1f} s{extra})")

    return EpochProgress()


def read_sentences(path, lowercase: bool = False) -> list:
    """The non-empty lines of a text file (.gz/.xz ok), split on whitespace: what the vectors are
    trained on (:class:`VectorFileError` if there are none)."""
    from ..corpus import decode_utf8, read_bytes
    text = decode_utf8(read_bytes(path), path)
    if lowercase:
        text = text.lower()
    sentences = [s for s in (line.split() for line in text.splitlines()) if s]
    if not sentences:
        raise VectorFileError(path, None, "no text to train embeddings on")
    return sentences


#: the kinds of vectors :func:`train_vectors` trains; several joined with ``+`` (e.g. the
#: default of ``--src-mono`` training, ``word2vec+ppmi+fasttext``) give their unit-length vectors
#: side by side (:func:`concatenate_views`)
VIEW_KINDS = ("fasttext", "word2vec", "ppmi")


def view_kinds(kind: str) -> list:
    """The views of a (possibly composite) ``kind``, checked: ``"word2vec+ppmi"`` -> [word2vec, ppmi]."""
    views = [part.strip() for part in str(kind).split("+")]
    for view in views:
        if view not in VIEW_KINDS:
            raise ValueError(f"unknown embedding kind {view!r}: use {', '.join(VIEW_KINDS)} or several "
                             "joined with '+' (e.g. word2vec+ppmi+fasttext)")
    if len(set(views)) != len(views):
        raise ValueError(f"embedding kind {kind!r} names a view twice")
    return views


def concatenate_views(views: Sequence[WordVectors]) -> WordVectors:
    """The words every view has (in the first view's order, most frequent first), each with its
    views' vectors scaled to unit length and placed side by side: every view weighs the same in a
    cosine. No subword function (a word outside a view has no full vector).

    Why several views: on small monolingual texts each kind of vector is noisy in its own way, and
    the concatenation maps better than any one of them (benchmark protocol, 1,000 lines, held-out
    precision@1 of the mapped space on de-en: word2vec 0.125, word2vec+ppmi 0.241,
    word2vec+ppmi+fasttext 0.288; benchmarks/README.md, "issue 16, stop 31")."""
    if len(views) == 1:
        return views[0]
    common = set(views[0].words)
    for view in views[1:]:
        common &= set(view.words)
    words = [w for w in views[0].words if w in common]
    parts = [unit_rows(view.matrix[[view.index[w] for w in words]] if words else np.zeros((0, view.dim), np.float32))
             for view in views]
    return WordVectors(words, np.hstack(parts).astype(np.float32))


def train_vectors(path, kind: str = "fasttext", dim: int = 300, epochs: int = 5, window: int = 5,
                  min_count: int = 3, negative: int = 5, sample: float = 1e-4, threads: int = 0,
                  lowercase: bool = False, seed: int = 1, progress: Optional[Callable[[str], None]] = None,
                  save_path=None, buckets: Optional[int] = None, _keyed: Optional[dict] = None) -> WordVectors:
    """Vectors of a tokenized text file (one sentence per line; .gz/.xz ok).

    ``kind``: ``"fasttext"`` (skip-gram with subword n-grams 3-6, vectors for unseen words),
    ``"word2vec"`` (skip-gram), ``"ppmi"`` (count-based, :mod:`.ppmi`; ``epochs``, ``window``,
    ``negative``, ``sample`` do not apply), or several joined with ``+`` (each of ``dim``
    dimensions, :func:`concatenate_views`).
    ``save_path``: also save the gensim model there (reload with :func:`load_vectors`).
    ``buckets``: FastText's hashed n-gram table (rows of ``dim`` floats); None sizes it to the
    vocabulary (:func:`ngram_buckets`) instead of gensim's fixed 2,000,000 rows, which alone take
    2.4 GB at 300 dimensions whatever the text."""
    views = view_kinds(kind)
    options = dict(dim=dim, epochs=epochs, window=window, min_count=min_count, negative=negative, sample=sample,
                   threads=threads, lowercase=lowercase, seed=seed, progress=progress, buckets=buckets)
    if len(views) > 1:
        if save_path is not None:
            raise ValueError(f"a composite embedding kind ({kind}) has no single gensim model to save")
        return concatenate_views([train_vectors(path, view, **options) for view in views])
    sentences = read_sentences(path, lowercase)
    if kind == "ppmi":
        from .ppmi import ppmi_svd_vectors
        if progress is not None:
            progress(f"counting ppmi vectors ({dim}-d) on {len(sentences)} sentences of {path}")
        words, matrix = ppmi_svd_vectors(sentences, dim=dim, min_count=min_count)
        if not words:
            raise VectorFileError(path, None, f"no word occurs min_count={min_count} times")
        vec = WordVectors(words, matrix)
        if _keyed is not None or save_path is not None:
            kv = to_keyed_vectors(vec)
            if save_path is not None:
                kv.save(os.fspath(save_path))
            if _keyed is not None:
                _keyed["kv"] = kv
        return vec
    from gensim.models import FastText, Word2Vec

    workers = threads if threads > 0 else (os.cpu_count() or 1)
    cls = FastText if kind == "fasttext" else Word2Vec
    callbacks = [_progress_callback(progress, epochs)] if progress is not None else []
    if progress is not None:
        progress(f"training {kind} vectors ({dim}-d, {epochs} epochs) on {len(sentences)} sentences of {path}")
    extra = {}
    if kind == "fasttext":
        extra["bucket"] = buckets if buckets else ngram_buckets(sentences, min_count)
    model = cls(sentences=sentences, vector_size=dim, sg=1, window=window, min_count=min_count,
                negative=negative, sample=sample, epochs=epochs, workers=workers, seed=seed, callbacks=callbacks,
                **extra)
    if len(model.wv) == 0:
        raise VectorFileError(path, None, f"no word occurs min_count={min_count} times")
    if save_path is not None:
        model.callbacks = ()          # the progress callback is not picklable
        model.save(os.fspath(save_path))
    if _keyed is not None:
        _keyed["kv"] = model.wv
    return from_keyed_vectors(model.wv)


def to_keyed_vectors(vec: WordVectors):
    """A gensim KeyedVectors of ``vec`` (what the vector cache stores)."""
    from gensim.models import KeyedVectors
    kv = KeyedVectors(vec.dim, dtype=np.float32)
    kv.add_vectors(list(vec.words), vec.matrix)
    return kv


def vectors_cache_key(path, **options) -> str:
    """Hash of a monolingual text's bytes and the training options (the cache entry's name)."""
    import hashlib
    import json
    from ..corpus import read_bytes
    digest = hashlib.sha256(read_bytes(path))
    digest.update(json.dumps(options, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()[:24]


def cached_train_vectors(path, cache_dir=None, progress: Optional[Callable[[str], None]] = None,
                         **options) -> tuple:
    """(vectors, cached): :func:`train_vectors` of ``path``, or the vectors a previous call with the
    same text and options saved under ``cache_dir`` (default: the text's folder) in the folder
    ``eegiza-vectors-<hash>`` (a gensim KeyedVectors ``vectors.kv``; FastText's subwords included).
    ``threads`` is not part of the key. A cache folder that cannot be written is skipped.
    ``cached_train_vectors.last_entry`` names the cache file of the last call. A composite ``kind``
    (``word2vec+ppmi``) caches each view in its own entry and concatenates them
    (:func:`concatenate_views`; ``cached`` only if every view was; ``last_entry`` names them all,
    joined with " + ")."""
    say = progress or (lambda msg: None)
    views = view_kinds(options.get("kind", "fasttext"))
    if len(views) > 1:             # each view cached on its own: a word2vec entry serves both uses
        parts, entries = [], []
        for view in views:
            parts.append(cached_train_vectors(path, cache_dir, progress, **{**options, "kind": view}))
            entries.append(cached_train_vectors.last_entry)
        cached_train_vectors.last_entry = " + ".join(entries)
        return concatenate_views([vec for vec, _ in parts]), all(cached for _, cached in parts)
    key_options = {k: v for k, v in options.items() if k not in ("threads", "save_path")}
    if options.get("kind") == "ppmi":
        key_options["svd_signs"] = "largest entry positive"     # not an entry of an earlier version
    key = vectors_cache_key(path, **key_options)
    folder = os.fspath(cache_dir) if cache_dir else (os.path.dirname(os.path.abspath(os.fspath(path))))
    entry = os.path.join(folder, f"eegiza-vectors-{key}")
    cached_train_vectors.last_entry = entry
    if os.path.exists(entry):
        t0 = time.perf_counter()
        vec = _load_gensim(os.path.join(entry, "vectors.kv"))
        say(f"reusing cached vectors {entry} for {path} ({len(vec)} words, {time.perf_counter() - t0:.1f} s)")
        return vec, True
    holder = {}
    t0 = time.perf_counter()
    vec = train_vectors(path, progress=progress, _keyed=holder, **options)
    say(f"vectors of {path} trained in {time.perf_counter() - t0:.1f} s ({len(vec)} words)")
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = f"{entry}.tmp{os.getpid()}"
        os.makedirs(tmp, exist_ok=True)         # gensim writes large arrays as .npy files beside
        holder["kv"].save(os.path.join(tmp, "vectors.kv"))
        os.replace(tmp, entry)                  # the folder appears whole or not at all
        say(f"cached as {entry}")
    except OSError as err:
        say(f"vectors not cached ({err})")
    return vec, False


#: FastText n-gram rows per vocabulary word (a word has about 20 distinct n-grams of 3-6
#: characters, many shared), and the bounds of the table (gensim's default is the upper one)
BUCKETS_PER_WORD = 100
MIN_BUCKETS, MAX_BUCKETS = 20_000, 2_000_000


def ngram_buckets(sentences, min_count: int) -> int:
    """Rows of FastText's n-gram table for this text: :data:`BUCKETS_PER_WORD` per word kept
    (``min_count`` occurrences or more), between :data:`MIN_BUCKETS` and :data:`MAX_BUCKETS`; memory
    then grows with the vocabulary (2,000 Hansards lines: 158,000 rows, 190 MB at 300-d, instead
    of 2.4 GB). Large corpora keep the 2M rows: the en-fr protocol's monolingual halves have 27,335
    and 34,789 such words."""
    from collections import Counter
    counts = Counter(word for sentence in sentences for word in sentence)
    kept = sum(1 for c in counts.values() if c >= min_count)
    return int(min(MAX_BUCKETS, max(MIN_BUCKETS, BUCKETS_PER_WORD * kept)))


def from_keyed_vectors(kv) -> WordVectors:
    """WordVectors of a gensim KeyedVectors / FastTextKeyedVectors."""
    oov = None
    if hasattr(kv, "get_vector") and hasattr(kv, "vectors_ngrams") and len(getattr(kv, "vectors_ngrams", ())):
        def oov(words):
            return np.stack([kv.get_vector(w) for w in words]) if len(words) else np.zeros((0, kv.vector_size))
    return WordVectors(list(kv.index_to_key), np.asarray(kv.vectors, np.float32), oov)


# --------------------------------------------------------------------------- loading and saving

def _read_header(line: bytes, path) -> tuple:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise VectorFileError(path, 1, f"expected a header '<words> <dimension>', got {line[:80]!r}")
    count, dim = int(parts[0]), int(parts[1])
    if dim <= 0:
        raise VectorFileError(path, 1, f"dimension must be positive, got {dim}")
    return count, dim


def _read_word2vec_text(data: bytes, path) -> WordVectors:
    lines = data.split(b"\n")
    count, dim = _read_header(lines[0], path)
    words, rows = [], []
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        parts = line.rstrip().split(b" ")
        if len(parts) != dim + 1:
            raise VectorFileError(path, lineno, f"expected a word and {dim} numbers, got {len(parts) - 1} numbers")
        try:
            words.append(parts[0].decode("utf-8"))
            rows.append(np.array(parts[1:], dtype=np.float32))
        except (UnicodeDecodeError, ValueError) as err:
            raise VectorFileError(path, lineno, f"bad entry: {err}") from None
    if len(words) != count:
        raise VectorFileError(path, None, f"header says {count} words, the file has {len(words)}")
    return WordVectors(words, np.stack(rows) if rows else np.zeros((0, dim), np.float32))


def _read_word2vec_binary(data: bytes, path) -> WordVectors:
    end = data.find(b"\n")
    count, dim = _read_header(data[:end], path)
    pos, words = end + 1, []
    matrix = np.empty((count, dim), np.float32)
    width = 4 * dim
    for k in range(count):
        while pos < len(data) and data[pos:pos + 1] in (b"\n", b" "):
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + width > len(data):
            raise VectorFileError(path, None, f"truncated binary vector file: entry {k + 1} of {count}")
        try:
            words.append(data[pos:space].decode("utf-8"))
        except UnicodeDecodeError:
            raise VectorFileError(path, None, f"entry {k + 1}: word is not UTF-8") from None
        matrix[k] = np.frombuffer(data, "<f4", dim, space + 1)
        pos = space + 1 + width
    return WordVectors(words, matrix)


FASTTEXT_MAGIC = 793712314     # first int32 of a fastText .bin model


def load_vectors(path, limit: Optional[int] = None, keep=None, keep_top: int = 0) -> WordVectors:
    """Load vectors: word2vec text or binary (detected), a fastText ``.bin`` model, or a gensim
    KeyedVectors/Word2Vec/FastText model file. ``limit``: keep only the first (most frequent)
    ``limit`` words.

    ``keep`` (a set of words; None = all): load lazily, keeping only the rows of these words plus
    the first ``keep_top`` words of the file. word2vec files are streamed entry by entry, so memory
    is that of the kept rows (a 2M-word Common Crawl ``.vec`` file and a 1,000-line bitext: a few
    MB). A fastText ``.bin`` is loaded with gensim, the vectors of the kept words (built from
    subwords for words the model has not seen) are taken, and the model is dropped."""
    path = os.fspath(path)
    with open(path, "rb") as fh:
        head = fh.read(64)
    first = head.split(b"\n", 1)[0]
    if len(first.split()) == 2 and all(p.isdigit() for p in first.split()):
        end = head.find(b"\n")
        with open(path, "rb") as fh:
            fh.seek(end + 1)
            body = fh.read(4096)
        binary = b"\x00" in body or not _looks_textual(body)
        if keep is not None:
            reader = _stream_word2vec_binary if binary else _stream_word2vec_text
            vec = reader(path, keep, keep_top)
        else:
            from ..corpus import read_bytes
            data = read_bytes(path)
            vec = _read_word2vec_binary(data, path) if binary else _read_word2vec_text(data, path)
    elif len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC:
        vec = _load_fasttext_bin(path, keep, keep_top)
    else:
        vec = _load_gensim(path)
        if keep is not None:
            vec = _subset(vec, keep, keep_top)
    if limit is not None:
        vec = WordVectors(vec.words[:limit], vec.matrix[:limit], vec.oov)
    return vec


def _subset(vec: WordVectors, keep, keep_top: int) -> WordVectors:
    """The rows of ``keep`` and the first ``keep_top`` words (file order), plus subword-built
    vectors of kept words outside the vocabulary; no ``oov`` function (the model may go)."""
    rows = [i for i, w in enumerate(vec.words) if i < keep_top or w in keep]
    words = [vec.words[i] for i in rows]
    matrix = vec.matrix[rows]
    if vec.oov is not None:
        missing = sorted(w for w in keep if w not in vec.index)
        mask, built = vec.lookup(missing)
        words += [w for w, ok in zip(missing, mask) if ok]
        matrix = np.concatenate([matrix, built]) if len(built) else matrix
    return WordVectors(words, matrix)


def _open_text(path):
    """A text file (UTF-8), read as a stream; ``.gz``/``.xz``/``.bz2`` decompressed on the fly."""
    import bz2
    import gzip
    import lzma
    opener = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}.get(os.path.splitext(path)[1], open)
    return opener(path, "rt", encoding="utf-8", newline="\n")


def _stream_word2vec_text(path, keep, keep_top: int) -> WordVectors:
    """word2vec text read line by line, keeping only wanted words' rows."""
    words, rows, count, seen = [], [], 0, 0
    with _open_text(path) as handle:
        header = handle.readline()
        count, dim = _read_header(header.encode("utf-8"), path)
        for lineno, line in enumerate(handle, 2):
            word, sep, rest = line.rstrip("\n").rstrip(" ").partition(" ")
            if not word and not rest:
                continue
            if seen < keep_top or word in keep:
                try:
                    row = np.array(rest.split(" "), dtype=np.float32)
                except ValueError as err:
                    raise VectorFileError(path, lineno, f"bad entry: {err}") from None
                if len(row) != dim:
                    raise VectorFileError(path, lineno, f"expected a word and {dim} numbers, got {len(row)} numbers")
                words.append(word)
                rows.append(row)
            seen += 1
    if seen != count:
        raise VectorFileError(path, None, f"header says {count} words, the file has {seen}")
    return WordVectors(words, np.stack(rows) if rows else np.zeros((0, dim), np.float32))


def _stream_word2vec_binary(path, keep, keep_top: int) -> WordVectors:
    """word2vec binary read entry by entry, keeping only wanted words' rows."""
    words, rows = [], []
    with open(path, "rb") as fh:
        count, dim = _read_header(fh.readline(), path)
        width = 4 * dim
        for k in range(count):
            chars = bytearray()
            while True:
                ch = fh.read(1)
                if not ch:
                    raise VectorFileError(path, None, f"truncated binary vector file: entry {k + 1} of {count}")
                if ch == b" ":
                    if chars:
                        break
                    continue
                if ch == b"\n" and not chars:
                    continue
                chars += ch
            data = fh.read(width)
            if len(data) < width:
                raise VectorFileError(path, None, f"truncated binary vector file: entry {k + 1} of {count}")
            try:
                word = chars.decode("utf-8")
            except UnicodeDecodeError:
                raise VectorFileError(path, None, f"entry {k + 1}: word is not UTF-8") from None
            if k < keep_top or word in keep:
                words.append(word)
                rows.append(np.frombuffer(data, "<f4").astype(np.float32))
    return WordVectors(words, np.stack(rows) if rows else np.zeros((0, dim), np.float32))


def _load_fasttext_bin(path, keep, keep_top: int) -> WordVectors:
    from gensim.models.fasttext import load_facebook_vectors
    vec = from_keyed_vectors(load_facebook_vectors(path))
    return vec if keep is None else _subset(vec, keep, keep_top)


def _looks_textual(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > len(sample) - 4     # a character cut at the end of the sample
    return True


def _load_gensim_object(path):
    import pickle
    from gensim.utils import SaveLoad
    try:
        obj = SaveLoad.load(path)
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError) as err:
        raise VectorFileError(path, None, f"neither a word2vec file (header '<words> <dim>') nor a gensim "
                                          f"model ({err.__class__.__name__}: {err})") from None
    kv = getattr(obj, "wv", obj)
    if not hasattr(kv, "index_to_key"):
        raise VectorFileError(path, None, f"gensim object of type {type(obj).__name__} holds no word vectors")
    return kv


def _load_gensim(path) -> WordVectors:
    return from_keyed_vectors(_load_gensim_object(path))


def save_word2vec(path, vectors: WordVectors, binary: bool = False) -> None:
    """Write word2vec text (or binary) format."""
    with open(path, "wb") as fh:
        fh.write(f"{len(vectors.words)} {vectors.dim}\n".encode())
        for word, row in zip(vectors.words, vectors.matrix):
            if binary:
                fh.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
            else:
                fh.write((word + " " + " ".join(f"{v:.6g}" for v in row) + "\n").encode("utf-8"))
