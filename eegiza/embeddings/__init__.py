"""Cross-lingual word embeddings as a prior on t(f|e).

Pipeline (:func:`prepare_prior`): monolingual vectors per language (:mod:`.vectors`: loaded, or
trained: by default word2vec, PPMI-SVD (:mod:`.ppmi`) and fastText vectors side by side) -> the
bitext's dictionary (mutual-best Model 1 pairs), split into a fit half and a held-out half
(:func:`.calibrate.split_dictionary`) -> one shared space (:mod:`.mapping`: by default the
orthogonal Procrustes map of the identical strings and the fit half; or VecMap self-learning,
seeded or unsupervised) -> the mapping's precision@1 on the held-out half, the gate -> the mapping
refitted on the whole dictionary (``mapping_refit``) -> p_emb(f|e) over each direction's
co-occurring pairs (:mod:`.prior`) -> the prior weight lambda chosen by the likelihood the trained
models reach (:mod:`.calibrate`). The result is two ``prior_factory`` callables for
:func:`eegiza.train.train_pair` and a report.

Options are read from any object with these attributes (missing ones take the defaults of
:data:`PRIOR_DEFAULTS`), e.g. :class:`eegiza.AlignerConfig` once it has the fields.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Optional

import numpy as np

from ..config import AlignerConfig
from ..train import train_direction
from ..ttable import TTable
from . import joint as joint_space
from .calibrate import choose_lambda, confident_pairs, induction_precision, split_dictionary
from .mapping import Mapping, MappingError, identical_seed, map_embeddings, normalize, refine_mapping, unit_rows
from .prior import EmbeddingPrior, chain_factories, make_prior_factory, vocab_rows
from .vectors import (VectorFileError, WordVectors, cached_train_vectors, load_vectors, read_sentences,
                      save_word2vec, train_vectors)

PRIOR_DEFAULTS = {
    "src_vectors": None, "tgt_vectors": None,        # vector files (word2vec text/binary, gensim)
    "src_mono": None, "tgt_mono": None,              # or monolingual text to train them on
    "embed_kind": "word2vec+ppmi+fasttext",          # views side by side, each embed_dim wide
    "embed_dim": 100, "embed_epochs": 20, "embed_min_count": 3,
    "embed_window": None, "embed_sample": None,      # skip-gram window, subsampling (None: 5, 1e-4)
    "embed_max_words": 200000,                       # most frequent words of each space used
    "vectors_cache": None,                           # folder of trained vectors (default: the text's)
    "embed_space": "mapped",                         # mapped: a space per language, mapped (below);
                                                     # joint: one space of both texts (.joint)
    "joint_prob": 0.5,                               # joint: substitution probability of seed words
    "joint_identical": True,                         # joint: identical strings in the seed too
    "joint_bitext": False,                           # joint: the bitext's pairs as mixed sentences
    "joint_refine": False,                           # joint: then a Procrustes map of the seed on top
    "mapping": "procrustes",                         # procrustes | seeded | unsupervised | identical | none
    "mapping_rounds": 0,                             # procrustes: refinement rounds (CSLS mutual NN added)
    "mapping_whiten": False,                         # procrustes: VecMap's whitened step instead
    "seed_schedule": "1^5",                          # the bitext dictionary: mutual best of these models
    "seed_min_prob": 0.0,                            # ... with t(f|e), t(e|f) >= this
    "seed_min_count": 1,                             # ... and both words seen this often
    "seed_holdout_every": 2,                         # every k-th dictionary pair held out for the gate
    "mapping_refit": True,                           # after the gate, refit on the whole dictionary
    "mapping_cutoff": 20000, "mapping_interval": 50, "mapping_max_iterations": 1000,
    "mapping_threshold": None,                       # self-learning stops below this objective gain;
                                                     # None: 1e-3 seeded (en-fr N=1000: same AER and
                                                     # precision as 1e-6, 2.4x faster), 1e-6 unsupervised
    "prior_lambda": 1e4, "prior_temperature": 0.1, "prior_top_k": 100, "prior_csls_k": 10,
    "prior_models": "1H",
    "prior_calibrate": True,                         # choose lambda by training with each (else fixed)
    "prior_calibration_pairs": 20000,
    "prior_max_pairs": 20000,                        # calibration: lambda = 0 (nothing built) above this many pairs
    "prior_min_precision": 0.25,                     # calibration: lambda = 0 below this precision@1 (Model 1 dict.)
    "prior_file": None,                              # reuse saved priors: PREFIX.{fwd,rev}.eeprob
    "save_prior": None,                              # write PREFIX.{fwd,rev}.eeprob
    "save_mapped_vectors": None,                     # write PREFIX.{src,tgt}.vec (reuse: mapping none)
}

__all__ = ["prepare_prior", "make_prior_factory", "EmbeddingPrior", "WordVectors", "load_vectors",
           "train_vectors", "save_word2vec", "map_embeddings", "Mapping", "MappingError", "VectorFileError",
           "PRIOR_DEFAULTS", "prior_factory_from_eeprob"]


def _option(config, name):
    value = getattr(config, name, None)
    return PRIOR_DEFAULTS[name] if value is None else value


def _get_vectors(config, side: str, progress, vocab_words=None) -> WordVectors:
    """The side's vectors: loaded (lazily: only ``vocab_words`` and the ``mapping_cutoff`` most
    frequent words of the file are kept) or trained on monolingual text (cached, see
    :func:`cached_train_vectors`; with one gensim worker whatever ``threads`` is, as
    :func:`_joint_space` does); the first ``embed_max_words`` of them."""
    path, mono = _option(config, f"{side}_vectors"), _option(config, f"{side}_mono")
    limit = _option(config, "embed_max_words")
    t0 = time.perf_counter()
    if path is not None:
        keep = None if vocab_words is None else set(vocab_words)
        vec = load_vectors(path, keep=keep, keep_top=int(_option(config, "mapping_cutoff")))
        progress(f"{side} vectors: {len(vec)} words kept from {path} ({time.perf_counter() - t0:.1f} s)")
    elif mono is not None:
        vec, _ = cached_train_vectors(mono, _option(config, "vectors_cache"), progress,
                                      kind=_option(config, "embed_kind"), dim=_option(config, "embed_dim"),
                                      epochs=_option(config, "embed_epochs"),
                                      min_count=_option(config, "embed_min_count"),
                                      threads=1,     # several gensim workers give other vectors on every
                                                     # run: one, so a run's result is the same for any --threads
                                      lowercase=bool(getattr(config, "lowercase", False)),
                                      **_training_extras(config))
    else:
        raise ValueError(f"the embedding prior needs --{side}-vectors or --{side}-mono")
    return WordVectors(vec.words[:limit], vec.matrix[:limit], vec.oov)


def _training_extras(config) -> dict:
    """``window`` / ``sample`` for :func:`train_vectors` when ``embed_window`` / ``embed_sample`` are
    set; left out otherwise, so that vectors trained with the defaults keep their cache entries.
    (de-en, 1,000 lines: window 2 / 10 and sample 1e-3 / 1e-5 give held-out precision@1 0.106 /
    0.113 and 0.080 / 0.039 against 0.115 for 5 and 1e-4; benchmarks/README.md.)"""
    extras = {}
    for option, name, cast in (("embed_window", "window", int), ("embed_sample", "sample", float)):
        value = getattr(config, option, None)
        if value is not None:
            extras[name] = cast(value)
    return extras


def _model1_dictionary(corpus, config) -> np.ndarray:
    """The bitext's dictionary (corpus ids): mutual-best (e, f) pairs of ``seed_schedule`` (five
    Model 1 iterations) trained in each direction, kept when both t(f|e) and t(e|f) reach
    ``seed_min_prob`` and both words occur ``seed_min_count`` times (:func:`confident_pairs`).
    The tables are float64: which pair is mutual-best can turn on probabilities float32 rounds to
    the same value, and a float32 seed moved en-fr's 1,000-line AER with the prior from 11.72 to 12.24."""
    cfg = AlignerConfig(schedule=str(_option(config, "seed_schedule")), threads=getattr(config, "threads", 0) or 0,
                        table_precision="float64")
    fwd = train_direction(corpus, cfg).ttable
    rev = train_direction(corpus.reversed(), cfg).ttable
    return confident_pairs(fwd, rev, corpus.src_vocab.counts, corpus.tgt_vocab.counts,
                           float(_option(config, "seed_min_prob")), int(_option(config, "seed_min_count")))


def _extended_space(vec: WordVectors, vocab_words, mapper) -> tuple:
    """Mapped vectors of the embedding vocabulary plus subword vectors of bitext words outside it."""
    words = list(vec.words)
    matrix = mapper(vec.matrix)
    if vec.oov is not None:
        missing = [w for w in vocab_words[1:] if w not in vec.index]
        mask, built = vec.lookup(missing)
        if mask.any():
            words += [w for w, ok in zip(missing, mask) if ok]
            matrix = np.concatenate([matrix, mapper(built)])
    return words, matrix


def _seed_pairs(kind, src_vec, tgt_vec, corpus, dictionary, held_out=None) -> Optional[tuple]:
    """(source rows, target rows) of the seed: identical strings, plus the dictionary (corpus ids)
    for the seeded kinds; no pair touching a word of the ``held_out`` pairs (corpus ids), so that
    the held-out precision judges words the mapping was not fitted to."""
    if kind == "unsupervised":
        return None
    src, trg = identical_seed(src_vec.words, tgt_vec.words)
    if kind in ("seeded", "procrustes") and len(dictionary):
        srow = vocab_rows(corpus.src_vocab.words, src_vec.words)[dictionary[:, 0]]
        trow = vocab_rows(corpus.tgt_vocab.words, tgt_vec.words)[dictionary[:, 1]]
        ok = (srow >= 0) & (trow >= 0)
        src, trg = np.concatenate([src, srow[ok]]), np.concatenate([trg, trow[ok]])
    if held_out is not None and len(held_out):
        bad_s = vocab_rows(corpus.src_vocab.words, src_vec.words)[held_out[:, 0]]
        bad_t = vocab_rows(corpus.tgt_vocab.words, tgt_vec.words)[held_out[:, 1]]
        ok = ~np.isin(src, bad_s[bad_s >= 0]) & ~np.isin(trg, bad_t[bad_t >= 0])
        src, trg = src[ok], trg[ok]
    if len(src) == 0:
        raise MappingError(f"mapping {kind!r}: no seed pairs (no identical strings"
                           + (" and no Model 1 dictionary pair" if kind != "identical" else "") + " with vectors)")
    return src, trg


def _quality(corpus, src_words, xm, tgt_words, zm, dictionary, csls_k, held_out=None) -> dict:
    """Precision@1 of CSLS retrieval among the bitext target words, against identical strings, the
    Model 1 dictionary and its ``held_out`` part (pairs the mapping was not fitted to)."""
    s_rows = vocab_rows(corpus.src_vocab.words, src_words)
    t_rows = vocab_rows(corpus.tgt_vocab.words, tgt_words)
    t_ids = np.flatnonzero(t_rows >= 0)
    col = np.full(len(t_rows), -1, np.int64)
    col[t_ids] = np.arange(len(t_ids))
    z = zm[t_rows[t_ids]]
    tgt_index = corpus.tgt_vocab.index
    identical = [(s_rows[e], col[tgt_index[w]]) for e, w in enumerate(corpus.src_vocab.words)
                 if e > 0 and s_rows[e] >= 0 and w in tgt_index and col[tgt_index[w]] >= 0]
    def rows(pairs):
        return [(s_rows[e], col[f]) for e, f in np.asarray(pairs).reshape(-1, 2).tolist()
                if s_rows[e] >= 0 and col[f] >= 0]
    m1 = rows(dictionary)
    out = {"identical_pairs": len(identical),
           "identical_precision": induction_precision(xm, z, xm, identical, csls_k),
           "model1_pairs": len(m1), "model1_precision": induction_precision(xm, z, xm, m1, csls_k)}
    if held_out is not None:
        held = rows(held_out)
        out.update(heldout_pairs=len(held), heldout_precision=induction_precision(xm, z, xm, held, csls_k))
    out.update(src_coverage=float((s_rows[1:] >= 0).mean()), tgt_coverage=float((t_rows[1:] >= 0).mean()))
    return out


def _mapping_threshold(config, kind: str) -> float:
    value = _option(config, "mapping_threshold")
    return float(value) if value is not None else (1e-3 if kind == "seeded" else 1e-6)


def mapping_precision(quality: dict) -> float:
    """The mapping's precision@1 as calibration trusts it: against the held-out part of the bitext's
    dictionary (pairs whose words the mapping was not fitted to) when there is one; else against
    the whole mutual-best Model 1 dictionary, or the identical strings when that dictionary has no
    pair with vectors (0 when none has pairs).

    The held-out part is the honest one: a seeded mapping scores on its own seed pairs what it was
    fitted to (ro-en, 1,000 lines, seed-only map: 0.318 on its seed, 0.062 held out).

    Below ``prior_min_precision`` (0.25) calibration sets lambda = 0 without training with others.
    The Model 1 dictionary is the bitext's own evidence of what translates what; identical strings
    are not (names, numbers, false friends such as en "a" / fr "a"), and a seeded mapping is fitted
    to them. With fastText vectors, ro-en's mapping scores 0.27-0.30 on identical strings but
    0.04-0.07 on the Model 1 dictionary, and its prior, which the likelihood accepted at 10,000
    lines (lambda 0.1), made gdfa AER worse (27.43 -> 28.00). On en-fr (Model 1 precision
    0.35-0.58) the prior lowered AER at every size measured or left it as it was."""
    value = quality.get("heldout_precision") if "heldout_precision" in quality else quality.get("model1_precision")
    if value is None and "heldout_precision" not in quality:
        value = quality.get("identical_precision")
    return 0.0 if value is None else float(value)


def _with_lambda(factory: Callable, lam: float, save_path=None, vocabs=None) -> Callable:
    def wrapped(ttable):
        prior = factory(ttable)
        prior.lam = lam
        if save_path is not None:
            save_eeprob(save_path, ttable, prior, *vocabs)
        return prior
    return wrapped


def save_eeprob(path, ttable, prior: EmbeddingPrior, src_counts, tgt_counts) -> None:
    """Write a prior (aligned with ``ttable``) in the EE-GIZA++ probability format."""
    from ..formats.eeprob import write_eeprob
    e = ttable.row_ids()
    f = ttable.indices
    write_eeprob(path, e, f, np.asarray(src_counts)[e], np.asarray(tgt_counts)[f], prior.p_emb)


def prior_factory_from_eeprob(path, lam: float = 1e4, src_counts=None, models: str = "1H") -> Callable:
    """A prior factory from an EE-GIZA++ probability file (pairs outside the t-table are ignored)."""
    from ..formats.eeprob import read_eeprob
    e_ids, f_ids, _, _, probs = read_eeprob(path)

    def factory(ttable) -> EmbeddingPrior:
        slot = ttable.find_slots(e_ids, f_ids)
        hit = slot >= 0
        p = np.zeros(ttable.nnz)
        p[slot[hit]] = probs[hit]
        has = np.zeros(ttable.n_src, bool)
        has[ttable.row_ids()[p > 0]] = True
        return EmbeddingPrior(p, has, lam, src_counts, models)
    return factory


def prepare_prior(corpus, config, progress: Optional[Callable[[str], None]] = None,
                  classes: tuple = (None, None), base: tuple = (None, None), keep_models: bool = False) -> tuple:
    """(fwd_factory, rev_factory, report) for ``train_pair(..., fwd_prior=..., rev_prior=...)``.

    The priors come from saved EE-GIZA++ probability files (``prior_file``) or from vectors
    mapped into one space; their weight lambda is ``prior_lambda``, or chosen by calibration.
    ``report``: vocabulary sizes, mapping quality (precision@1 against identical strings and the
    Model 1 dictionary), chosen lambda per direction with the calibration's scores, seconds per
    stage. ``classes``: the (source, target) word classes the training will use (calibration
    trains the whole schedule). ``base``: (fwd, rev) factories of priors applied before this one
    (e.g. the cognate prior), in calibration too; the returned factories include them.
    ``keep_models``: when calibration trained the whole corpus (not a sample), ``report["models"]``
    holds the (fwd, rev) models it trained with the chosen lambda, the same a training with the
    returned factories would give (the saved priors of ``save_prior`` are written here then)."""
    say = progress or (lambda msg: None)
    report = {"seconds": {}}
    if too_large_for_prior(len(corpus), config):
        return _not_used_on_large_bitext(corpus, config, base, report, say)
    lam_max = float(_option(config, "prior_lambda"))
    models = str(_option(config, "prior_models"))
    if _option(config, "prior_file") is not None:
        prefix = _option(config, "prior_file")
        fwd = prior_factory_from_eeprob(f"{prefix}.fwd.eeprob", lam_max, corpus.src_vocab.counts, models)
        rev = prior_factory_from_eeprob(f"{prefix}.rev.eeprob", lam_max, corpus.tgt_vocab.counts, models)
    else:
        fwd, rev = _embedding_priors(corpus, config, lam_max, report, say)

    t0 = time.perf_counter()
    lam = _calibrated_lambda(corpus, config, fwd, rev, classes, base, lam_max, report, say, keep_models)
    report["lambda"] = {"fwd": lam, "rev": lam}
    report["seconds"]["calibration"] = time.perf_counter() - t0
    say(f"prior lambda: {lam:g}")
    prefix_save = _option(config, "save_prior")
    vocabs_f = (corpus.src_vocab.counts, corpus.tgt_vocab.counts)
    vocabs_r = (corpus.tgt_vocab.counts, corpus.src_vocab.counts)
    fwd = _with_lambda(fwd, lam, prefix_save and f"{prefix_save}.fwd.eeprob", vocabs_f)
    rev = _with_lambda(rev, lam, prefix_save and f"{prefix_save}.rev.eeprob", vocabs_r)
    if prefix_save and "models" in report:         # no training will call the factories
        fwd(TTable.from_corpus(corpus))
        rev(TTable.from_corpus(corpus.reversed()))
    return chain_factories(base[0], fwd), chain_factories(base[1], rev), report


def too_large_for_prior(n_pairs: int, config) -> bool:
    """Whether calibration keeps the prior out of a bitext of ``n_pairs`` without building it: more
    pairs than ``prior_max_pairs`` (with ``prior_calibrate``; :func:`_not_used_on_large_bitext`)."""
    return bool(_option(config, "prior_calibrate")) and n_pairs > int(_option(config, "prior_max_pairs"))


def _not_used_on_large_bitext(corpus, config, base: tuple, report: dict, say) -> tuple:
    """What :func:`prepare_prior` returns for a bitext larger than ``prior_max_pairs``: the ``base``
    priors alone, lambda 0, and no vectors trained or mapped.

    Calibration of such a bitext trains on a sample, and the sample measures what the prior does for
    a bitext of the sample's size, not for the whole: on en-fr, 100,000 lines, a space of held-out
    precision@1 0.453, calibration on 20,000 pairs chose lambda 10 (each step up gained 0.017-0.018
    nats a token) and every weight made gdfa AER worse (6.72 without the prior; lambda 0.1 / 1 / 10:
    6.94 / 7.05 / 7.06); on all 1.13M en-fr lines lambda 100 moved it by 0.01; at 1,000 and 10,000
    lines, where calibration trains the whole bitext, the priors the gate let through helped
    (benchmarks/README.md, issue 16).
    """
    limit = int(_option(config, "prior_max_pairs"))
    reason = (f"the bitext has {len(corpus):,} pairs, more than prior_max_pairs ({limit:,}): the embedding "
              "prior is a low-resource tool and has not helped a bitext this large (raise --prior-max-pairs "
              "to calibrate it on a sample anyway)")
    say(f"not used: {reason}")
    report["calibration"] = {"reason": reason}
    report["lambda"] = {"fwd": 0.0, "rev": 0.0}
    return base[0], base[1], report


def _calibrated_lambda(corpus, config, fwd, rev, classes, base, lam_max, report, say,
                       keep_models: bool = False) -> float:
    """``lam_max`` without calibration; 0 for a mapping below ``prior_min_precision``; else the
    weight :func:`choose_lambda` picks among 0 and lam_max * 10^-k, k = 0..5 (its models of the
    chosen weight go to ``report["models"]`` with ``keep_models``)."""
    if not _option(config, "prior_calibrate"):
        return lam_max
    if "quality" in report:
        precision = mapping_precision(report["quality"])
        min_precision = float(_option(config, "prior_min_precision"))
        if precision < min_precision:
            report["calibration"] = {"reason": f"mapping precision@1 {precision:.3f} < {min_precision:g}"}
            say(f"mapping precision@1 {precision:.3f} is below {min_precision:g}: the prior is not used")
            return 0.0
    lambdas = [0.0] + [lam_max * 10.0 ** -k for k in range(6)]
    result = choose_lambda(corpus, config, fwd, rev, lambdas, classes, base,
                           max_pairs=int(_option(config, "prior_calibration_pairs")), progress=say,
                           keep_models=keep_models)
    if "models" in result:
        report["models"] = result.pop("models")
        say(f"the models calibration trained with lambda {result['lambda']:g} are kept")
    report["calibration"] = result
    return result["lambda"]


def _fit_mapping(kind, x, z, seed, config, say) -> Mapping:
    """The mapping of ``kind``: VecMap self-learning (seeded, identical, unsupervised) or the seed's
    Procrustes map refined with mutual nearest neighbours (procrustes)."""
    csls_k = int(_option(config, "prior_csls_k"))
    if kind == "procrustes":
        return refine_mapping(x, z, seed, rounds=int(_option(config, "mapping_rounds")),
                              vocabulary_cutoff=int(_option(config, "mapping_cutoff")), csls_k=csls_k,
                              whiten=bool(_option(config, "mapping_whiten")), progress=say)
    return map_embeddings(x, z, seed, vocabulary_cutoff=int(_option(config, "mapping_cutoff")),
                          stochastic_interval=int(_option(config, "mapping_interval")),
                          max_iterations=int(_option(config, "mapping_max_iterations")),
                          threshold=_mapping_threshold(config, kind), csls_k=csls_k, progress=say)


def _embedding_priors(corpus, config, lam_max: float, report: dict, say) -> tuple:
    """(fwd_factory, rev_factory) from the vectors of both languages in one space (``embed_space``:
    two spaces mapped, :func:`_mapped_space`, or one joint space, :func:`_joint_space`); fills
    ``report`` with the vectors, the mapping, its quality and the seconds spent."""
    opts = dict(temperature=float(_option(config, "prior_temperature")), top_k=int(_option(config, "prior_top_k")),
                models=str(_option(config, "prior_models")))
    space = _option(config, "embed_space")
    if space not in ("mapped", "joint"):
        raise ValueError(f"unknown embed_space {space!r}: use mapped or joint")
    build = _joint_space if space == "joint" else _mapped_space
    (src_words, xm, tgt_words, zm), dictionary, held_out, refit = build(corpus, config, report, say)
    report["embed_space"] = space
    if _option(config, "save_mapped_vectors") is not None:
        base = _option(config, "save_mapped_vectors")
        save_word2vec(f"{base}.src.vec", WordVectors(src_words, xm))
        save_word2vec(f"{base}.tgt.vec", WordVectors(tgt_words, zm))

    t0 = time.perf_counter()
    csls_k = int(_option(config, "prior_csls_k"))
    report["quality"] = _quality(corpus, src_words, xm, tgt_words, zm, dictionary, csls_k, held_out)
    say("mapping quality: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                        for k, v in report["quality"].items()))
    gated = bool(_option(config, "prior_calibrate")) and \
        mapping_precision(report["quality"]) < float(_option(config, "prior_min_precision"))
    if _option(config, "mapping_refit") and refit is not None and len(held_out) and not gated:
        t1 = time.perf_counter()
        src_words, xm, tgt_words, zm = refit()
        report["seconds"]["mapping"] += time.perf_counter() - t1
    fwd = make_prior_factory(corpus.src_vocab.words, corpus.tgt_vocab.words, (src_words, xm), (tgt_words, zm),
                             lam_max, csls_k=csls_k, src_counts=corpus.src_vocab.counts, **opts)
    rev = make_prior_factory(corpus.tgt_vocab.words, corpus.src_vocab.words, (tgt_words, zm), (src_words, xm),
                             lam_max, csls_k=csls_k, src_counts=corpus.tgt_vocab.counts, **opts)
    report["seconds"]["prior_setup"] = time.perf_counter() - t0
    return fwd, rev


def _mapped_space(corpus, config, report: dict, say) -> tuple:
    """Two monolingual spaces mapped into one (``mapping``, seeded with identical strings and the fit
    half of the bitext dictionary). Returns ((source words, vectors, target words, vectors), the
    dictionary, its held-out half, the refit: a function giving the space mapped with the whole
    dictionary as seed, or None)."""
    t0 = time.perf_counter()
    src_vec = _get_vectors(config, "src", say, corpus.src_vocab.words[1:])
    tgt_vec = _get_vectors(config, "tgt", say, corpus.tgt_vocab.words[1:])
    if src_vec.dim != tgt_vec.dim:
        raise MappingError(f"source vectors have dimension {src_vec.dim}, target vectors {tgt_vec.dim}")
    report["seconds"]["embeddings"] = time.perf_counter() - t0
    report["vectors"] = {"src_words": len(src_vec), "tgt_words": len(tgt_vec), "dim": src_vec.dim}

    t0 = time.perf_counter()
    dictionary = _model1_dictionary(corpus, config)
    report["seconds"]["model1_dictionary"] = time.perf_counter() - t0
    kind = _option(config, "mapping")
    if kind not in ("unsupervised", "seeded", "identical", "procrustes", "none"):
        raise ValueError(f"unknown mapping {kind!r}: use unsupervised, seeded, identical, procrustes or none")
    fit, held_out = split_dictionary(dictionary, int(_option(config, "seed_holdout_every")))
    report["dictionary"] = {"pairs": len(dictionary), "fit": len(fit), "held_out": len(held_out)}
    t0 = time.perf_counter()
    if kind == "none":
        src_map, tgt_map = unit_rows, unit_rows
    else:
        try:
            seed = _seed_pairs(kind, src_vec, tgt_vec, corpus, fit, held_out)
        except MappingError:
            if not len(held_out):
                raise
            say(f"no seed pair is left once {len(held_out)} dictionary pairs are held out: the mapping is "
                "fitted to all of them and cannot be judged, so the gate keeps the prior out")
            seed = _seed_pairs(kind, src_vec, tgt_vec, corpus, dictionary)
            held_out = held_out[:0]
        say(f"mapping ({kind}, {0 if seed is None else len(seed[0])} seed pairs; {len(held_out)} "
            "dictionary pairs held out)")
        mapping = _fit_mapping(kind, src_vec.matrix, tgt_vec.matrix, seed, config, say)
        src_map, tgt_map = mapping.map_src, mapping.map_tgt
        report["mapping_iterations"] = len(mapping.log)
    src_words, xm = _extended_space(src_vec, corpus.src_vocab.words, src_map)
    tgt_words, zm = _extended_space(tgt_vec, corpus.tgt_vocab.words, tgt_map)
    report["seconds"]["mapping"] = time.perf_counter() - t0
    say(f"vectors ready in {report['seconds']['embeddings']:.1f} s; Model 1 dictionary "
        f"{report['seconds']['model1_dictionary']:.1f} s; mapping ({kind}) {report['seconds']['mapping']:.1f} s")
    report["mapping"] = kind

    def refit() -> tuple:
        seed = _seed_pairs(kind, src_vec, tgt_vec, corpus, dictionary)
        mapping = _fit_mapping(kind, src_vec.matrix, tgt_vec.matrix, seed, config, say)
        report["refit_seed_pairs"] = len(seed[0])
        say(f"mapping refitted on the whole dictionary ({len(seed[0])} seed pairs) for the prior")
        return (_extended_space(src_vec, corpus.src_vocab.words, mapping.map_src)
                + _extended_space(tgt_vec, corpus.tgt_vocab.words, mapping.map_tgt))

    space = (src_words, xm, tgt_words, zm)
    return space, dictionary, held_out, (None if kind in ("none", "unsupervised") else refit)


def _joint_space(corpus, config, report: dict, say) -> tuple:
    """One skip-gram space of both monolingual texts (:mod:`.joint`): seed-dictionary words (the fit
    half of the bitext dictionary, plus identical strings with ``joint_identical``; never a word of
    the held-out half) replaced by their translation with probability ``joint_prob``, the bitext's
    pairs as mixed sentences with ``joint_bitext`` (for the gate's space without the held-out
    pairs' words: else each held-out word would share the sentences of its translation, the very
    co-occurrence the dictionary was read from, and the gate would judge nothing); each side then centred and normalised
    (``joint_refine``: a Procrustes map of the seed instead). Returns what :func:`_mapped_space`
    does; the refit trains the space again with the whole dictionary as seed. Trained with one
    gensim worker whatever ``threads`` is (several workers give a different space on every run),
    cached under ``vectors_cache`` (default: the source text's folder)."""
    src_mono, tgt_mono = _option(config, "src_mono"), _option(config, "tgt_mono")
    if src_mono is None or tgt_mono is None:
        raise ValueError("embed_space=joint trains one space on monolingual text of both languages: it needs "
                         "--src-mono and --tgt-mono (pretrained vectors can only be mapped: embed_space=mapped)")
    prob = float(_option(config, "joint_prob"))
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"joint_prob must be in [0, 1], got {prob}")
    t0 = time.perf_counter()
    dictionary = _model1_dictionary(corpus, config)
    report["seconds"]["model1_dictionary"] = time.perf_counter() - t0
    fit, held_out = split_dictionary(dictionary, int(_option(config, "seed_holdout_every")))
    report["dictionary"] = {"pairs": len(dictionary), "fit": len(fit), "held_out": len(held_out)}

    t0 = time.perf_counter()
    lowercase = bool(getattr(config, "lowercase", False))
    src_text = read_sentences(src_mono, lowercase)
    tgt_text = read_sentences(tgt_mono, lowercase)
    min_count = int(_option(config, "embed_min_count"))
    identical = joint_space.identical_words(src_text, tgt_text, min_count) if _option(config, "joint_identical") else []
    bitext = ()
    if _option(config, "joint_bitext"):
        sw, tw = corpus.src_vocab.words, corpus.tgt_vocab.words
        bitext = [([sw[i] for i in corpus.src.sentence(k)], [tw[i] for i in corpus.tgt.sentence(k)])
                  for k in range(len(corpus))]
    extras = _training_extras(config)
    limit = int(_option(config, "embed_max_words"))
    refine = bool(_option(config, "joint_refine"))

    def build(fit_pairs, held) -> tuple:
        pairs = joint_space.seed_word_pairs(corpus.src_vocab.words, corpus.tgt_vocab.words, fit_pairs, held,
                                            identical)
        mixed = joint_space.without_words(bitext, corpus.src_vocab.words, corpus.tgt_vocab.words, held)
        src_vec, tgt_vec, cached = joint_space.train_joint_vectors(
            src_text, tgt_text, pairs, prob, mixed, dim=int(_option(config, "embed_dim")),
            epochs=int(_option(config, "embed_epochs")), min_count=min_count,
            threads=1,          # gensim with several workers is not deterministic: same space for any --threads
            cache_dir=_option(config, "vectors_cache") or os.path.dirname(os.path.abspath(str(src_mono))),
            progress=say, **extras)
        src_vec = WordVectors(src_vec.words[:limit], src_vec.matrix[:limit])
        tgt_vec = WordVectors(tgt_vec.words[:limit], tgt_vec.matrix[:limit])
        report.setdefault("joint", []).append({"seed_pairs": len(pairs), "cached": cached})
        if refine:
            seed = _seed_pairs("procrustes", src_vec, tgt_vec, corpus, fit_pairs, held)
            mapping = _fit_mapping("procrustes", src_vec.matrix, tgt_vec.matrix, seed, config, say)
            return (src_vec.words, mapping.map_src(src_vec.matrix), tgt_vec.words, mapping.map_tgt(tgt_vec.matrix))
        return src_vec.words, normalize(src_vec.matrix)[0], tgt_vec.words, normalize(tgt_vec.matrix)[0]

    space = build(fit, held_out)
    report["seconds"]["embeddings"] = time.perf_counter() - t0
    report["seconds"]["mapping"] = 0.0
    report["vectors"] = {"src_words": len(space[0]), "tgt_words": len(space[2]), "dim": space[1].shape[1],
                         "identical": len(identical), "bitext_sentences": len(bitext)}
    report["mapping"] = "joint+procrustes" if refine else "joint"
    say(f"joint space ready in {report['seconds']['embeddings']:.1f} s ({report['joint'][0]['seed_pairs']} seed "
        f"pairs, {len(held_out)} dictionary pairs held out); Model 1 dictionary "
        f"{report['seconds']['model1_dictionary']:.1f} s")

    def refit() -> tuple:
        say("joint space trained again with the whole dictionary as seed, for the prior")
        return build(dictionary, None)

    return space, dictionary, held_out, refit
