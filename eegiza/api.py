"""Python API: train an aligner on sentence pairs, align new pairs, save and load models.

    >>> from eegiza import Aligner, AlignerConfig
    >>> model = Aligner(AlignerConfig(schedule="1^5 H^5")).train(src_sentences, tgt_sentences)
    >>> model.align(["das haus"], ["the house"])          # grow-diag-final-and links per pair
    [[(0, 0), (1, 1)]]
    >>> model.translation_probability("haus", "house")    # t(house | haus) of the forward model
    >>> model.save("de-en.eegiza"); model = AlignmentModel.load("de-en.eegiza")
    >>> model.align([("das haus", "the house")])         # or a list of (src, tgt) pairs
    >>> model.scores(["das haus"], ["the house"])         # log P(tgt|src), log P(src|tgt), per word

A saved model is one ``.npz`` file: both directions' tables, the vocabularies, the word classes,
the configuration it was trained with and the eegiza version that wrote it (see :data:`FORMAT_VERSION`).
Words the model never saw are aligned with the probability floor (``prob_smooth``, 1e-7) for every
t(f|e) they take part in, and class 0 for the HMM and Model 4: usually NULL or a neighbour's position
wins, never an error or a NaN.

Sentences are strings (split on whitespace) or lists of tokens. Links are ``(i, j)`` pairs, 0-based,
source first. The forward model is P(target | source), the reverse model P(source | target).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

from .clustering import cluster_words, read_classes_file
from .config import AlignerConfig
from .corpus import ParallelCorpus, Vocab, corpus_from_sentences
from .direction_file import direction_arrays, direction_from_arrays, direction_meta, open_npz
from .distributed.errors import SchedulerLostError
from .formats.atomic import atomic_open
from .heap import release_free_memory
from .links import directional_links, to_lists
from .memory import check_memory_limit, estimate_training_memory
from .phases import NO_PROFILE, PhaseProfile
from .scoring import KIND, LinkPosteriors, SentenceScores, direction_scores, link_posteriors
from .slot_source import looks_up
from .slot_transpose import REUSE_MAX_SLOTS, SlotTranspose, corpus_slot_count
from .small_batch import SMALL_BATCH, align_both_small, small_corpus
from .symmetrize import symmetrize_flat
from .train import DirectionModel, _engine, align_direction, train_pair, training_alignment
from .ttable import TTable, sentence_slots
from .version import __version__

#: Version of the model file layout. 2 adds the eegiza version to the metadata; files of
#: version 1 (the same arrays) are still read. A newer version is refused, naming who wrote it.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


#: :meth:`AlignmentModel._extended` pads a direction's t-table rows and classes for at least this
#: many new source words at once (12 bytes each per direction), so texts with new words take views.
PADDING = 1024


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, not an eegiza model, or from another version."""


@dataclass
class CorpusAlignment:
    """Alignments of a corpus: flat link arrays (i, j, offsets) per direction and symmetrised,
    plus the Viterbi log-probability of every pair in each direction."""

    fwd: tuple
    rev: tuple
    symmetrized: Dict[str, tuple]
    fwd_scores: np.ndarray
    rev_scores: np.ndarray

    def links(self, which: str) -> List[List[tuple]]:
        """Per-sentence sorted links of ``"fwd"``, ``"rev"`` or a symmetrisation method."""
        return to_lists(*self._flat(which))

    def iter_links(self, which: str, block: int = 4096) -> Iterator[List[tuple]]:
        """:meth:`links` one sentence at a time, built ``block`` sentences at a time (a large
        corpus' lists of tuples would take far more memory than its flat arrays; a block of 4,096
        lines takes a few MB)."""
        i, j, offsets = self._flat(which)
        for a in range(0, len(offsets) - 1, block):
            b = min(a + block, len(offsets) - 1)
            lo, hi = offsets[a], offsets[b]
            yield from to_lists(i[lo:hi], j[lo:hi], offsets[a:b + 1] - lo)

    def _flat(self, which: str) -> tuple:
        return self.fwd if which == "fwd" else self.rev if which == "rev" else self.symmetrized[which]


class AlignmentModel:
    """A trained aligner: both directions, the vocabularies and the configuration."""

    def __init__(self, config: AlignerConfig, src_vocab: Vocab, tgt_vocab: Vocab, fwd: DirectionModel,
                 rev: DirectionModel):
        self.config, self.src_vocab, self.tgt_vocab, self.fwd, self.rev = config, src_vocab, tgt_vocab, fwd, rev
        self.prior_report: Optional[dict] = None   # mapping quality, chosen prior weights, seconds
        self.trained_on: Optional[ParallelCorpus] = None   # the training corpus (align_corpus reuses its alignment)
        self._transpose = None   # (fwd t-table, rev t-table, their SlotTranspose), built on first use
        self._padded = {}        # direction -> (t-table, classes, padded indptr, padded classes): _extended

    # ------------------------------------------------------------------ probabilities
    def translation_probability(self, src_word: str, tgt_word: str, reverse: bool = False) -> float:
        """t(tgt_word | src_word) of the forward model; with ``reverse``, t(src_word | tgt_word) of the
        reverse model. Unknown words and pairs that never co-occurred get the floor (probsmooth)."""
        if reverse:
            return self.rev.ttable.prob(self.tgt_vocab.get(tgt_word, -1), self.src_vocab.get(src_word, 0))
        return self.fwd.ttable.prob(self.src_vocab.get(src_word, -1), self.tgt_vocab.get(tgt_word, 0))

    def translations(self, src_word: str, top: int = 10, reverse: bool = False) -> List[tuple]:
        """The ``top`` most probable translations of a word: [(word, probability), ...]."""
        vocab_in, vocab_out, direction = ((self.tgt_vocab, self.src_vocab, self.rev) if reverse else
                                          (self.src_vocab, self.tgt_vocab, self.fwd))
        e = vocab_in.get(src_word, -1)
        if e < 0:
            return []
        ids, probs = direction.ttable.row(e)
        order = np.argsort(-probs, kind="stable")[:top]
        return [(vocab_out.words[ids[k]], float(probs[k])) for k in order]

    # ------------------------------------------------------------------ alignment
    def align_corpus(self, corpus: ParallelCorpus, methods: Sequence[str] = (), realign: bool = False,
                     profile: PhaseProfile = NO_PROFILE) -> CorpusAlignment:
        """Align a corpus numbered with this model's vocabularies (new words may extend them).

        The corpus this model was trained on (the same object) is not aligned again when the last
        model is Model 3 or 4: its alignment is the one the last EM iteration found, as GIZA++ writes
        ``A3.final`` (``realign``, or the configuration's ``final_alignment_pass``, aligns it again
        under the final tables instead). Up to ``SMALL_BATCH`` pairs take the serial path of
        :mod:`eegiza.small_batch` (same links). ``profile`` gets the phases "final alignment" and
        "symmetrisation"."""
        realign = realign or self.config.final_alignment_pass
        trained = None if realign or corpus is not self.trained_on else (
            training_alignment(self.fwd), training_alignment(self.rev))
        if trained is not None and None not in trained:
            (fwd_pos, fwd_scores), (rev_pos, rev_scores) = trained
        elif len(corpus) <= SMALL_BATCH and not self.config.scheduler:   # a few pairs: serial kernels
            (fwd_pos, fwd_scores), (rev_pos, rev_scores) = align_both_small(
                *self._directions(corpus), corpus, align_direction, self._built_transpose())
        else:
            engine = _engine(self.config)   # issue 17: the alignment pass on the Dask cluster

            def align(model, c):
                return align_direction(model, c, engine=engine, max_slot_mb=self.config.max_slot_mb)
            fwd_model, rev_model = self._directions(corpus)
            release_free_memory()   # what training freed, before the pass allocates its slots (eegiza.heap)
            if engine is None and self._derives_reverse_slots(corpus, fwd_model, rev_model):
                fwd_slots = sentence_slots(corpus, fwd_model.ttable)
                fwd_pos, fwd_scores = align_direction(fwd_model, corpus, fwd_slots)
                rev_slots = self._slot_transpose().reverse_slots(corpus, fwd_slots)
                del fwd_slots   # before the reverse direction's pass: one direction's slots at a time
            else:
                fwd_pos, fwd_scores = align(fwd_model, corpus)
                rev_slots = None
            rev_pos, rev_scores = (align(rev_model, corpus.reversed()) if rev_slots is None
                                   else align_direction(rev_model, corpus.reversed(), rev_slots))
            del rev_slots
        fwd = directional_links(fwd_pos, corpus.tgt.offsets, reverse=False)
        rev = directional_links(rev_pos, corpus.src.offsets, reverse=True)
        profile.mark("final alignment")
        methods = list(methods) or [self.config.symmetrization]
        sym = {m: symmetrize_flat(*fwd, *rev, corpus.src.lengths, corpus.tgt.lengths, m) for m in methods}
        profile.mark("symmetrisation")
        return CorpusAlignment(fwd, rev, sym, fwd_scores, rev_scores)

    def _derives_reverse_slots(self, corpus: ParallelCorpus, fwd: DirectionModel, rev: DirectionModel) -> bool:
        """Both directions align through stored sentence slots (:mod:`eegiza.slot_source`) and the
        corpus is small enough (:data:`eegiza.slot_transpose.REUSE_MAX_SLOTS`) to derive the reverse ones
        from the forward ones, and
        neither t-table is pruned (:mod:`eegiza.tprune`: each direction's own pruning leaves the two
        supports different)."""
        return (_uses_slots(fwd) and _uses_slots(rev) and corpus_slot_count(corpus) <= REUSE_MAX_SLOTS
                and not looks_up(corpus, self.config.max_slot_mb)
                and not (fwd.t_pruned_below or rev.t_pruned_below))

    def _slot_transpose(self) -> SlotTranspose:
        """The forward-to-reverse slot map of this model's t-tables, built once (:mod:`eegiza.slot_transpose`)."""
        cached = self._transpose
        if cached is None or cached[0] is not self.fwd.ttable or cached[1] is not self.rev.ttable:
            cached = self._transpose = (self.fwd.ttable, self.rev.ttable,
                                        SlotTranspose(self.fwd.ttable, self.rev.ttable))
        return cached[2]

    def _built_transpose(self) -> Optional[SlotTranspose]:
        """The slot map of :meth:`_slot_transpose` if it has been built for the current tables, else
        None. A few pairs derive their reverse slots through it only then: building it costs about a
        tenth of a second and 4 bytes per table entry (27 ms and 10 MB for ro-en, 99 ms and 44 MB for
        de-en) to save at most about 0.3 ms of slot search per pair (the longest ro-en test pair)."""
        cached = self._transpose
        if cached is not None and cached[0] is self.fwd.ttable and cached[1] is self.rev.ttable:
            return cached[2]
        return None

    def _both_slots(self, corpus: ParallelCorpus, fwd: DirectionModel, rev: DirectionModel):
        """(forward slots, reverse slots) of the corpus, the reverse ones derived, when
        :meth:`_derives_reverse_slots`, else (None, None) (benchmarks/bench_saved_model_stages.py)."""
        if not self._derives_reverse_slots(corpus, fwd, rev):
            return None, None
        fwd_slots = sentence_slots(corpus, fwd.ttable)
        rev_slots = self._slot_transpose().reverse_slots(corpus, fwd_slots)
        return (fwd_slots, rev_slots) if rev_slots is not None else (None, None)

    def align(self, src_sentences, tgt_sentences=None, method: Optional[str] = None) -> List[List[tuple]]:
        """Symmetrised links of new sentence pairs (``method`` defaults to the configured heuristic;
        ``"fwd"`` or ``"rev"`` give one direction). Give the two sides, or one list of pairs:
        ``(src, tgt)`` tuples or ``"src ||| tgt"`` strings."""
        corpus = self.corpus(src_sentences, tgt_sentences)
        method = method or self.config.symmetrization
        sym = [] if method in ("fwd", "rev") else [method]
        return self.align_corpus(corpus, sym).links(method)

    def corpus(self, src_sentences, tgt_sentences=None) -> ParallelCorpus:
        """Number sentence pairs with this model's vocabularies (unknown words get new ids; the
        model's vocabularies are not changed). Without ``tgt_sentences``, ``src_sentences`` is a
        list of pairs (see :meth:`align`). No length limit: every pair is aligned."""
        if tgt_sentences is None:
            src_sentences, tgt_sentences = _split_pairs(src_sentences)
        if len(src_sentences) <= SMALL_BATCH and len(tgt_sentences) <= SMALL_BATCH:
            return small_corpus(self, list(src_sentences), list(tgt_sentences))
        return corpus_from_sentences(src_sentences, tgt_sentences, lowercase=self.config.lowercase,
                                     max_len=None, src_vocab=self.src_vocab, tgt_vocab=self.tgt_vocab)

    # ------------------------------------------------------------------ scores and posteriors
    def corpus_scores(self, corpus: ParallelCorpus, alignment: Optional[CorpusAlignment] = None) -> SentenceScores:
        """Per-pair log P(tgt|src) and log P(src|tgt) (:mod:`eegiza.scoring` says which quantity);
        ``alignment``: this corpus' :meth:`align_corpus` result, if already computed (Models 2-4
        score their alignment)."""
        fwd, rev = self._directions(corpus)
        if alignment is None and (fwd.last_model not in "1H" or rev.last_model not in "1H"):
            alignment = self.align_corpus(corpus, ())
        fwd_v = alignment.fwd_scores if alignment is not None else None
        rev_v = alignment.rev_scores if alignment is not None else None
        engine = _engine(self.config)   # issue 17: Model 1 / HMM scores on the Dask cluster
        return SentenceScores(direction_scores(fwd, corpus, fwd_v, engine),
                              direction_scores(rev, corpus.reversed(), rev_v, engine),
                              corpus.tgt.lengths, corpus.src.lengths, KIND[fwd.last_model], KIND[rev.last_model])

    def scores(self, src_sentences, tgt_sentences=None) -> List[Optional[tuple]]:
        """(log P(tgt|src), log P(src|tgt), per target word, per source word) of each pair, None
        for a pair with an empty side."""
        return self.corpus_scores(self.corpus(src_sentences, tgt_sentences)).rows()

    def corpus_posteriors(self, corpus: ParallelCorpus, fertility: bool = False) -> LinkPosteriors:
        """Link posteriors of both directions (:mod:`eegiza.models.posteriors`: Model 1 or the HMM;
        with ``fertility``, Models 3/4 neighbourhood posteriors, :mod:`eegiza.models.neighbourhood`)."""
        fwd, rev = self._directions(corpus)
        return link_posteriors(fwd, rev, corpus, fertility, engine=_engine(self.config))

    def posteriors(self, src_sentences, tgt_sentences=None, fertility: bool = False) -> List[tuple]:
        """Per pair (forward (m, l+1), reverse (l, m+1)) posterior matrices: row j of the forward
        matrix is P(a_j = NULL, 1..l) of target word j; each row sums to one."""
        corpus = self.corpus(src_sentences, tgt_sentences)
        post = self.corpus_posteriors(corpus, fertility)
        return [(post.fwd_matrix(k), post.rev_matrix(k)) for k in range(len(corpus))]

    def _directions(self, corpus: ParallelCorpus):
        return self._extended("fwd", len(corpus.src_vocab)), self._extended("rev", len(corpus.tgt_vocab))

    def _extended(self, name: str, n_src: int) -> DirectionModel:
        """Direction ``name`` ("fwd" or "rev") with empty t-table rows and class 0 for the source ids
        ``len(vocab) .. n_src - 1`` added after training (new words). Those rows are the same for
        every text, so the padded arrays are built once per direction (with room for at least 1,024
        new words, rebuilt twice as large when a text has more) and each call takes views of them:
        a pair with one new word does not copy the vocabulary-sized arrays."""
        d = getattr(self, name)
        extra = n_src - d.ttable.n_src
        if extra <= 0:
            return d
        padded = self._padded.get(name)
        if padded is None or padded[0] is not d.ttable or padded[1] is not d.src_class or len(padded[3]) < n_src:
            room = max(2 * extra, PADDING)
            indptr = np.concatenate([d.ttable.indptr, np.full(room, d.ttable.indptr[-1], np.int64)])
            padded = (d.ttable, d.src_class, indptr, np.concatenate([d.src_class, np.zeros(room, d.src_class.dtype)]))
            self._padded[name] = padded
        ttable = TTable(padded[2][:n_src + 1], d.ttable.indices, d.ttable.probs, d.ttable.dtype)
        return replace(d, ttable=ttable, src_class=padded[3][:n_src])

    # ------------------------------------------------------------------ continued training
    def continue_training(self, corpus: ParallelCorpus, config: Optional[AlignerConfig] = None,
                          progress=None) -> "AlignmentModel":
        """More EM iterations (``config.schedule``, default this model's configuration) on ``corpus``
        (numbered with :meth:`corpus` or read with this model's vocabularies), starting from this
        model's t-tables (as saved: not renormalised; the first M-step normalises), HMM jump tables,
        word classes and, for a schedule of Models 3/4 only, fertility tables. Trained as
        :class:`Aligner` trains: by agreement (the joint E-step of Model 1 and the HMM) if the
        configuration says so, with the cognate prior if it is on (recomputed from ``corpus``, as
        training computes it). So on the training corpus, continuing a model trained with
        ``"1^5 H^3"`` for ``"H^2"`` gives the tables and alignments of training ``"1^5 H^5"``
        (bit-identical, tested). The embedding prior is not applied (it needs the vectors and its
        calibration; the returned model's configuration has it off).

        New words (in ``corpus``, not in the model) start at the floor probability (``prob_smooth``)
        in every t(f|e) they take part in, in both directions, rows not renormalised, and in word
        class 0; the first E-step gives them counts like any word, so a new word that co-occurs
        with a known translation learns it in the first iteration. Returns a new model (its
        vocabularies are ``corpus``'s); this one is unchanged."""
        config = replace(config or self.config, src_vectors=None, tgt_vectors=None, src_mono=None, tgt_mono=None,
                         prior_file=None)
        if config.table_precision == "auto":   # "auto" keeps the precision the model was trained in
            config = replace(config, table_precision=str(self.fwd.ttable.probs.dtype))
        fwd0, rev0 = self._directions(corpus)
        src_class, tgt_class = fwd0.src_class, rev0.src_class
        fwd_prior = rev_prior = None
        if config.cognate_lambda > 0:
            from .cognates import cognate_priors
            fwd_prior, rev_prior = cognate_priors(corpus, config)

        def tagged(tag):
            return None if progress is None else (lambda msg: progress(f"[{tag}] {msg}"))
        fwd, rev = train_pair(corpus, config, src_class, tgt_class, fwd_prior, rev_prior, tagged("fwd"),
                              tagged("rev"), initial=(fwd0, rev0), initial_as_is=True)
        model = AlignmentModel(config, corpus.src_vocab, corpus.tgt_vocab, fwd, rev)
        model.trained_on = corpus
        return model

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the whole model to one ``.npz`` file (atomically: complete or not at all)."""
        arrays = {"meta": np.frombuffer(json.dumps(self._meta()).encode(), np.uint8),
                  "src_words": _pack_words(self.src_vocab.words), "tgt_words": _pack_words(self.tgt_vocab.words),
                  "src_counts": self.src_vocab.counts, "tgt_counts": self.tgt_vocab.counts}
        for name, direction in (("fwd", self.fwd), ("rev", self.rev)):
            for key, value in direction_arrays(direction).items():
                arrays[f"{name}_{key}"] = value
        with atomic_open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path) -> "AlignmentModel":
        """Read a model written by :meth:`save`. Raises :class:`ModelFileError` naming the file if
        it is missing, not an eegiza model, or of a format this version cannot read (the message
        names the eegiza version that wrote it)."""
        with open_npz(path, ModelFileError, "model file", "model file") as data:
            meta = _read_meta(data, path)
            config = AlignerConfig(**{k: v for k, v in meta["config"].items()
                                      if k in {f.name for f in fields(AlignerConfig)}})
            src_vocab = Vocab(_unpack_words(data["src_words"]), data["src_counts"])
            tgt_vocab = Vocab(_unpack_words(data["tgt_words"]), data["tgt_counts"])
            fwd = direction_from_arrays(data, "fwd", meta["fwd"])
            rev = direction_from_arrays(data, "rev", meta["rev"])
        return cls(config, src_vocab, tgt_vocab, fwd, rev)

    def _meta(self) -> dict:
        return {"format": "eegiza-model", "version": FORMAT_VERSION, "eegiza_version": __version__,
                "config": {**asdict(self.config), "scheduler": None},   # issue 17: no cluster in a model
                "fwd": direction_meta(self.fwd), "rev": direction_meta(self.rev)}


def _read_meta(data, path) -> dict:
    if not hasattr(data, "files") or "meta" not in data.files:
        raise ModelFileError(f"{path}: not an eegiza model file (no model metadata)")
    try:
        meta = json.loads(bytes(data["meta"]).decode())
    except (ValueError, UnicodeDecodeError):
        raise ModelFileError(f"{path}: not an eegiza model file (unreadable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != "eegiza-model":
        raise ModelFileError(f"{path}: not an eegiza model file")
    version = meta.get("version")
    if version not in READABLE_VERSIONS:
        writer = meta.get("eegiza_version", "an unknown version")
        raise ModelFileError(f"{path}: model written by eegiza {writer} (model format {version}); this is eegiza "
                             f"{__version__}, which reads model formats {', '.join(map(str, READABLE_VERSIONS))}: "
                             "retrain, or align with the eegiza version that wrote it")
    return meta


def _split_pairs(pairs):
    """(sources, targets) of ``(src, tgt)`` tuples or ``"src ||| tgt"`` strings."""
    src, tgt = [], []
    for k, pair in enumerate(pairs, 1):
        if isinstance(pair, str):
            if "|||" not in pair:
                raise ValueError(f"pair {k}: no '|||' between source and target: {pair[:60]!r}")
            pair = pair.split("|||", 1)
        s, t = pair
        src.append(s)
        tgt.append(t)
    return src, tgt


def _pack_words(words: List[str]) -> np.ndarray:
    return np.frombuffer("\n".join(words).encode("utf-8"), np.uint8)


def _unpack_words(packed: np.ndarray) -> List[str]:
    return bytes(packed).decode("utf-8").split("\n")


def _uses_slots(d: DirectionModel) -> bool:
    """True if :func:`eegiza.train.align_direction` aligns this direction through sentence slots."""
    return d.last_model in "1H" or (d.last_model in "34" and d.base_model in "1H")


class Aligner:
    """Trains an :class:`AlignmentModel` with an :class:`AlignerConfig`."""

    def __init__(self, config: Optional[AlignerConfig] = None, **overrides):
        config = config or AlignerConfig()
        self.config = AlignerConfig(**{**asdict(config), **overrides})

    def train(self, src_sentences, tgt_sentences, progress=None, checkpoint=None, resume=None) -> AlignmentModel:
        """Train both directions on sentence pairs (strings or token lists); ``checkpoint`` and
        ``resume`` as in :meth:`train_corpus`."""
        corpus = corpus_from_sentences(src_sentences, tgt_sentences, lowercase=self.config.lowercase,
                                       max_len=self.config.reader_max_len)
        return self.train_corpus(corpus, progress, checkpoint=checkpoint, resume=resume)

    def train_corpus(self, corpus: ParallelCorpus, progress=None, profile: PhaseProfile = NO_PROFILE,
                     checkpoint=None, resume=None) -> AlignmentModel:
        """Train both directions on a numbered corpus; ``progress`` gets a line per iteration,
        ``profile`` a mark per phase (word classes, priors, every model; :mod:`eegiza.phases`).

        On a Dask cluster (``scheduler``), a lost scheduler raises
        :class:`eegiza.distributed.SchedulerLostError`; with ``checkpoint`` (a path) the state after
        the last completed iteration is first saved there (:mod:`eegiza.checkpoint`; the error's
        ``checkpoint`` names the file, None if no iteration had completed). ``resume`` (such a
        path, or a loaded :class:`eegiza.checkpoint.Checkpoint`) continues that training with the
        rest of the schedule, on a cluster or not: the model is the uninterrupted run's, bit for
        bit. It must be the same corpus and configuration (``scheduler``, ``threads`` and
        ``max_memory`` may differ) and eegiza version, else :class:`eegiza.checkpoint.CheckpointError`.
        Trainings with the embedding prior are not checkpointed."""
        from .checkpoint import Checkpoint, save_on_lost_scheduler
        if resume is not None:
            if self.config.uses_embeddings:
                raise ValueError("a training with the embedding prior cannot be resumed from a checkpoint")
            resume = resume if isinstance(resume, Checkpoint) else Checkpoint.load(resume)
            resume.check(corpus, self.config)
        try:
            return self._train(corpus, progress, profile, resume)
        except SchedulerLostError as err:
            if checkpoint is not None and not self.config.uses_embeddings:
                save_on_lost_scheduler(err, self.config, corpus, checkpoint)
            raise

    def _training_config(self, corpus: ParallelCorpus) -> AlignerConfig:
        """The configuration the training of ``corpus`` uses: this aligner's, except that the
        ``auto`` table precision resolves to float32 (as without a prior) when an embedding prior is
        configured but will not be used because the bitext is too large for it
        (:func:`eegiza.embeddings.too_large_for_prior`)."""
        config = self.config
        if config.uses_embeddings and config.table_precision == "auto":
            from .embeddings import too_large_for_prior
            if too_large_for_prior(len(corpus), config):
                config = replace(config, table_precision="float32")
        return config

    def _train(self, corpus: ParallelCorpus, progress, profile: PhaseProfile, resume) -> AlignmentModel:
        def tagged(tag):
            return None if progress is None else (lambda msg: progress(f"[{tag}] {msg}"))
        config = self._training_config(corpus)
        if progress is not None or config.max_memory > 0:
            estimate = estimate_training_memory(corpus, config)
            if progress is not None:
                progress(f"estimated peak memory: {estimate.describe()}")
            check_memory_limit(estimate, config.max_memory)
            profile.mark("memory estimate")
        src_class = word_classes(corpus.src, corpus.src_vocab, config.src_classes, config)
        tgt_class = word_classes(corpus.tgt, corpus.tgt_vocab, config.tgt_classes, config)
        profile.mark("word classes")
        fwd_prior = rev_prior = report = None
        if config.cognate_lambda > 0:
            from .cognates import cognate_priors
            fwd_prior, rev_prior = cognate_priors(corpus, config)
            profile.mark("cognate prior")
        if config.uses_embeddings:
            from .embeddings import prepare_prior
            fwd_prior, rev_prior, report = prepare_prior(corpus, config, tagged("prior"),
                                                          (src_class, tgt_class), (fwd_prior, rev_prior),
                                                          keep_models=True)
            profile.mark("embedding prior (vectors, mapping, calibration)")
        if report is not None and "models" in report:      # calibration trained them already
            fwd, rev = report.pop("models")
        else:
            fwd, rev = train_pair(corpus, config, src_class, tgt_class, fwd_prior, rev_prior,
                                  tagged("fwd"), tagged("rev"), profile,
                                  resume=None if resume is None else resume.states())
        model = AlignmentModel(self.config, corpus.src_vocab, corpus.tgt_vocab, fwd, rev)
        model.prior_report = report
        model.trained_on = corpus
        return model


def word_classes(side, vocab: Vocab, path: Optional[str], config: AlignerConfig) -> Optional[np.ndarray]:
    """Classes of one side's words: read from ``path`` if given, else clustered (``word_classes``
    classes) if asked for, else None (one class)."""
    if path:
        classes = read_classes_file(path, vocab.index)
        return np.concatenate([classes, np.zeros(len(vocab) - len(classes), np.int32)])
    if config.word_classes > 0:
        return cluster_words((side.ids, side.offsets), len(vocab), config.word_classes, seed=config.seed)
    return None
