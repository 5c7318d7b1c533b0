"""One shared embedding space for both languages, trained on a pseudo-bilingual text.

Instead of training a space per language and mapping one onto the other (:mod:`.mapping`), both
monolingual texts are fed to ONE skip-gram model (gensim Word2Vec), every token tagged with its
side (:data:`SRC_TAG` / :data:`TGT_TAG`, so "die" of German and "die" of English stay two words).
While the sentences are fed, each word that has a seed-dictionary translation is replaced by one of
its translations with probability ``prob`` (drawn again on every pass over the text), so the two
languages' words share contexts: the pseudo-bilingual corpus of Gouws & Søgaard (2015, "Simple
task-specific bilingual word embeddings") and Duong et al. (2016, "Learning crosslingual word
embeddings without bilingual corpora"). Optionally the bitext's sentence pairs are added too,
each as one mixed sentence (the two sides merged by relative position, Vulić & Moens 2016).

Words of the held-out half of the dictionary must not be in the seed (the caller removes them,
:func:`seed_word_pairs`), so the gate's held-out precision stays honest: those words only share
contexts through other words' substitutions.

Deterministic for a ``seed`` with one thread (the substitutions of pass k come from
``numpy.random.default_rng((seed, k))``; gensim's own randomness from its ``seed``).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from .vectors import WordVectors

SRC_TAG, TGT_TAG = "1|", "2|"


def seed_word_pairs(src_words: Sequence[str], tgt_words: Sequence[str], fit: np.ndarray,
                    held_out: Optional[np.ndarray] = None, identical: Iterable[str] = ()) -> list:
    """Sorted (source word, target word) seed pairs: the dictionary pairs ``fit`` (corpus ids into
    ``src_words`` / ``tgt_words``) plus the ``identical`` strings, without any pair that touches a
    word of a ``held_out`` pair (on either side), so held-out words are never substituted."""
    pairs = {(src_words[e], tgt_words[f]) for e, f in np.asarray(fit, np.int64).reshape(-1, 2).tolist()}
    pairs |= {(w, w) for w in identical}
    if held_out is not None and len(held_out):
        held = np.asarray(held_out, np.int64).reshape(-1, 2)
        bad_s = {src_words[e] for e in held[:, 0].tolist()}
        bad_t = {tgt_words[f] for f in held[:, 1].tolist()}
        pairs = {(s, t) for s, t in pairs if s not in bad_s and t not in bad_t}
    return sorted(pairs)


def without_words(bitext: Sequence[tuple], src_words: Sequence[str], tgt_words: Sequence[str],
                  held_out: Optional[np.ndarray]) -> list:
    """The bitext's sentence pairs (word lists) without the words of the ``held_out`` pairs (corpus
    ids into ``src_words`` / ``tgt_words``; None or empty: unchanged), so that a space judged on
    held-out pairs has not seen those words in the sentences of their translations."""
    if held_out is None or not len(held_out) or not len(bitext):
        return list(bitext)
    held = np.asarray(held_out, np.int64).reshape(-1, 2)
    bad_s = {src_words[e] for e in held[:, 0].tolist()}
    bad_t = {tgt_words[f] for f in held[:, 1].tolist()}
    return [([w for w in s if w not in bad_s], [w for w in t if w not in bad_t]) for s, t in bitext]


def identical_words(src_sentences, tgt_sentences, min_count: int = 3) -> list:
    """The strings seen at least ``min_count`` times in both texts (sorted): numbers, names,
    punctuation, and words the two languages spell alike."""
    from collections import Counter
    a = Counter(w for s in src_sentences for w in s)
    b = Counter(w for s in tgt_sentences for w in s)
    return sorted(w for w, c in a.items() if c >= min_count and b.get(w, 0) >= min_count)


def mixed_pair(src: Sequence[str], tgt: Sequence[str]) -> list:
    """One sentence of a sentence pair's tagged tokens, merged by relative position (the source
    token at i/len(src) before the target token at j/len(tgt) on ties)."""
    keyed = [((i + 0.5) / len(src), 0, i, SRC_TAG + w) for i, w in enumerate(src)]
    keyed += [((j + 0.5) / len(tgt), 1, j, TGT_TAG + w) for j, w in enumerate(tgt)]
    return [item[3] for item in sorted(keyed)]


class PseudoBilingualText:
    """The restartable sentence stream gensim trains on: the source and target monolingual
    sentences (alternating, tagged) with seed-dictionary substitutions, and the bitext's mixed
    sentences spread evenly among them. Pass k (0 = gensim's vocabulary scan) draws its
    substitutions from ``default_rng((seed, k))``."""

    def __init__(self, src_sentences: Sequence[Sequence[str]], tgt_sentences: Sequence[Sequence[str]],
                 pairs: Sequence[tuple], prob: float = 0.5, bitext: Sequence[tuple] = (), seed: int = 1):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"substitution probability must be in [0, 1], got {prob}")
        names, index = [], {}

        def token(word):
            if word not in index:
                index[word] = len(names)
                names.append(word)
            return index[word]

        def encode(sentences, tag):
            ids = np.fromiter((token(tag + w) for s in sentences for w in s), np.int64)
            offsets = np.zeros(len(sentences) + 1, np.int64)
            np.cumsum([len(s) for s in sentences], out=offsets[1:])
            return ids, offsets

        self.src_ids, self.src_offsets = encode(src_sentences, SRC_TAG)
        self.tgt_ids, self.tgt_offsets = encode(tgt_sentences, TGT_TAG)
        candidates = {}
        for s, t in pairs:
            a, b = token(SRC_TAG + s), token(TGT_TAG + t)
            candidates.setdefault(a, []).append(b)
            candidates.setdefault(b, []).append(a)
        self.names = np.array(names, dtype=object)
        counts = np.zeros(len(names), np.int64)
        self.cand_ptr = np.zeros(len(names) + 1, np.int64)
        for k, options in candidates.items():
            counts[k] = len(options)
        np.cumsum(counts, out=self.cand_ptr[1:])
        self.cands = np.zeros(self.cand_ptr[-1], np.int64)
        for k, options in candidates.items():
            self.cands[self.cand_ptr[k]:self.cand_ptr[k + 1]] = sorted(options)
        self.n_cands = counts
        self.prob = float(prob)
        self.bitext = [mixed_pair(s, t) for s, t in bitext if len(s) and len(t)]
        self.seed = int(seed)
        self.passes = 0
        n_s, n_t, n_b = len(self.src_offsets) - 1, len(self.tgt_offsets) - 1, len(self.bitext)
        keys = np.concatenate([(np.arange(n_s) + 0.25) / max(n_s, 1), (np.arange(n_t) + 0.5) / max(n_t, 1),
                               (np.arange(n_b) + 0.75) / max(n_b, 1)])
        self.order = np.argsort(keys, kind="stable")      # 0..n_s-1 source, then target, then bitext
        self.n_src, self.n_tgt = n_s, n_t

    def __len__(self) -> int:
        return len(self.order)

    def substitute(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``ids`` with each word that has translations replaced by one of them (uniformly) with
        probability ``prob``."""
        n = self.n_cands[ids]
        swap = (n > 0) & (rng.random(len(ids)) < self.prob)
        pick = (rng.random(len(ids)) * n).astype(np.int64)
        out = ids.copy()
        out[swap] = self.cands[self.cand_ptr[ids[swap]] + pick[swap]]
        return out

    def sentences(self, pass_number: int) -> list:
        """All sentences of one pass (lists of tagged tokens), in stream order."""
        rng = np.random.default_rng((self.seed, pass_number))
        src = self.names[self.substitute(self.src_ids, rng)].tolist()
        tgt = self.names[self.substitute(self.tgt_ids, rng)].tolist()
        so, to = self.src_offsets.tolist(), self.tgt_offsets.tolist()
        out = []
        for k in self.order.tolist():
            if k < self.n_src:
                out.append(src[so[k]:so[k + 1]])
            elif k < self.n_src + self.n_tgt:
                k -= self.n_src
                out.append(tgt[to[k]:to[k + 1]])
            else:
                out.append(self.bitext[k - self.n_src - self.n_tgt])
        return out

    def __iter__(self):
        sentences = self.sentences(self.passes)
        self.passes += 1
        return iter(sentences)


def split_joint(words: Sequence[str], matrix: np.ndarray) -> tuple:
    """(source WordVectors, target WordVectors) of a joint vocabulary of tagged words, tags
    removed, each in the joint order (most frequent first)."""
    sides = []
    for tag in (SRC_TAG, TGT_TAG):
        rows = [i for i, w in enumerate(words) if w.startswith(tag)]
        sides.append(WordVectors([words[i][len(tag):] for i in rows], np.asarray(matrix, np.float32)[rows]))
    return tuple(sides)


def train_joint_vectors(src, tgt, pairs: Sequence[tuple], prob: float = 0.5,
                        bitext: Sequence[tuple] = (), dim: int = 100, epochs: int = 20, window: int = 5,
                        min_count: int = 3, negative: int = 5, sample: float = 1e-4, threads: int = 1,
                        seed: int = 1, cache_dir=None,
                        progress: Optional[Callable[[str], None]] = None) -> tuple:
    """(source WordVectors, target WordVectors, cached) of one skip-gram space trained on the
    pseudo-bilingual text of the two monolingual texts ``src`` / ``tgt`` (lists of tokenized
    sentences, :func:`eegiza.embeddings.vectors.read_sentences`; :class:`PseudoBilingualText`). With ``cache_dir`` the joint
    vectors are saved there (``eegiza-joint-<hash>``, the hash of both texts, the seed pairs, the
    bitext and the options) and reused by a later identical call. ``threads`` > 1 is faster but
    gensim's training is then not deterministic."""
    say = progress or (lambda msg: None)
    options = dict(prob=prob, dim=dim, epochs=epochs, window=window, min_count=min_count, negative=negative,
                   sample=sample, seed=seed)
    entry = None
    if cache_dir is not None:
        digest = hashlib.sha256()
        for text in (src, tgt):
            digest.update(hashlib.sha256("\n".join(" ".join(s) for s in text).encode("utf-8")).digest())
        digest.update(json.dumps([options, [list(p) for p in pairs], [list(map(list, b)) for b in bitext]],
                                 sort_keys=True).encode("utf-8"))
        entry = os.path.join(os.fspath(cache_dir), f"eegiza-joint-{digest.hexdigest()[:24]}")
        if os.path.exists(entry):
            from .vectors import _load_gensim_object
            kv = _load_gensim_object(os.path.join(entry, "vectors.kv"))
            say(f"reusing cached joint vectors {entry} ({len(kv)} words)")
            return split_joint(kv.index_to_key, kv.vectors) + (True,)
    from gensim.models import Word2Vec
    if not len(src) or not len(tgt):
        raise ValueError("joint vectors need monolingual text on both sides")
    stream = PseudoBilingualText(src, tgt, pairs, prob, bitext, seed)
    say(f"training joint word2vec vectors ({dim}-d, {epochs} epochs) on {len(stream)} sentences "
        f"({len(src)} source, {len(tgt)} target, {len(stream.bitext)} bitext), {len(pairs)} seed pairs, "
        f"substitution probability {prob:g}")
    t0 = time.perf_counter()
    model = Word2Vec(vector_size=dim, sg=1, window=window, min_count=min_count, negative=negative, sample=sample,
                     epochs=epochs, workers=max(1, threads), seed=seed)
    model.build_vocab(corpus_iterable=stream)
    if len(model.wv) == 0:
        raise ValueError(f"joint vectors: no word occurs min_count={min_count} times")
    model.train(corpus_iterable=stream, total_examples=model.corpus_count, epochs=model.epochs)
    say(f"joint vectors trained in {time.perf_counter() - t0:.1f} s ({len(model.wv)} words)")
    if entry is not None:
        try:
            tmp = f"{entry}.tmp{os.getpid()}"
            os.makedirs(tmp, exist_ok=True)
            model.wv.save(os.path.join(tmp, "vectors.kv"))
            os.replace(tmp, entry)
        except OSError as err:
            say(f"joint vectors not cached ({err})")
    return split_joint(model.wv.index_to_key, model.wv.vectors) + (False,)
