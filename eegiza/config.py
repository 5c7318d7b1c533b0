"""Training configuration: every field names the GIZA++ parameter it corresponds to, if any."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Optional


def _giza(name: str, doc: str):
    return {"giza": name, "doc": doc}


def _choices(choices: tuple, giza: str, doc: str):
    return {"giza": giza, "doc": doc, "choices": choices}


#: the default t_cutoff of a training by agreement (AlignerConfig.effective_t_cutoff)
AGREEMENT_T_CUTOFF = 1e-7


@dataclass
class AlignerConfig:
    """Options of :class:`eegiza.Aligner` and ``eegiza align``.

    Defaults follow GIZA++ where GIZA++ has the option (metadata ``giza`` names its flag).
    """

    schedule: str = field(default="1^5 H^5 3^3 4^3", metadata=_giza(
        "m1/m2/mh/m3/m4", "training schedule: model^iterations in order 1, 2, H, 3, 4 ('eegiza align' without "
                          "--schedule on 500,000 pairs or more: the --fast preset, eegiza.presets)"))
    lowercase: bool = field(default=False, metadata=_giza("", "lower-case both sides (str.lower)"))
    max_sentence_length: Optional[int] = field(default=250, metadata=_giza(
        "ml", "a sentence pair with a side longer than this many tokens is long: see --on-long "
              "(0 = no cap; GIZA++ truncates at 100)"))
    max_length_ratio: float = field(default=9.0, metadata=_giza(
        "", "a pair whose longer side has more than this many times the tokens of the shorter is long too "
            "(fertility models cannot align it; 0 = no limit)"))
    on_long: str = field(default="fallback", metadata=_choices(("error", "skip", "fallback"),
        "", "long pairs: error (stop, naming the line), skip (not trained, empty output line) or fallback "
            "(not trained, aligned by Model 1's rule under the trained t-tables); 'eegiza align' reports them "
            "with their line numbers. The Python API's readers apply only 'error'"))
    threads: int = field(default=0, metadata=_giza("ncpus", "worker threads; 0 = all cores"))
    max_memory: float = field(default=0.0, metadata=_giza(
        "", "refuse to start training when its estimated peak memory (printed before training) exceeds "
            "this many MB (0 = no limit)"))
    max_slot_mb: float = field(default=1024.0, metadata=_giza(
        "", "Model 1/HMM training and alignment store the t-table slot of every (source word or NULL, target word) "
            "pair of the corpus while that takes at most this many MB (2 bytes a pair); a larger corpus looks the "
            "slots up in a hashed index as it goes: less memory, a little slower, the same result (-1 = always "
            "store)"))
    prob_smooth: float = field(default=1e-7, metadata=_giza("probsmooth", "floor of every t(f|e) lookup"))
    t_cutoff: Optional[float] = field(default=None, metadata=_giza(
        "probcutoff", "once Model 1/HMM are trained, remove the t(f|e) entries below this from each direction's "
                      "t-table (Models 3/4, the final pass and a saved model look them up as the floor); 0 = keep "
                      "all; default: 1e-7 when training by agreement (less memory, the same AER), 0 without (where "
                      "it cost ro-en 0.56 AER); 1e-6 saves more but cost en-fr 0.25"))
    table_precision: str = field(default="auto", metadata=_choices(("auto", "float32", "float64"), "",
        "storage of the t-tables: float32 (half the memory, as GIZA++'s float; sums and logs are still taken in "
        "float64 or fixed point), float64, or auto (the default): float32, but float64 with an embedding prior "
        "(low-resource runs, where memory is small; its seed dictionary is always float64)"))
    hmm_p_null: float = field(default=0.2, metadata=_giza(
        "emprobforempty", "HMM probability of moving to a NULL state"))
    hmm_jump_smooth: float = field(default=0.2, metadata=_giza(
        "emalsmooth", "interpolation of the HMM jump distribution with a uniform one"))
    word_classes: int = field(default=50, metadata=_giza(
        "mkcls -c", "word classes computed for the HMM jump model (0 = none, unless class files are given)"))
    src_classes: Optional[str] = field(default=None, metadata=_giza(
        "sourcevocabularyclasses", "read source word classes from this 'word<TAB>class' file (mkcls output)"))
    tgt_classes: Optional[str] = field(default=None, metadata=_giza(
        "targetvocabularyclasses", "read target word classes from this 'word<TAB>class' file"))
    p0: float = field(default=0.999, metadata=_giza(
        "p0", "Models 3/4: probability of not inserting a NULL-generated word (negative = learned); Moses' 0.999"))
    nsmooth: float = field(default=4.0, metadata=_giza(
        "nsmooth", "Models 3/4: weight of the smoothing of fertilities n(phi|e); Moses' 4 (GIZA++: 64)"))
    model4_smooth: float = field(default=0.4, metadata=_giza(
        "model4smoothfactor", "Model 4: interpolation of distortion tables with uniform; Moses' 0.4 (GIZA++: 0.2)"))
    pegging: bool = field(default=False, metadata=_giza(
        "pegging", "Models 3/4: also count over the neighbourhoods of the best alignments with each link pegged "
                   "(GIZA++'s pegging; much slower)"))
    min_link_posterior: float = field(default=0.99, metadata=_giza(
        "", "Models 3/4 output: leave a word unaligned when its link holds less than this share of the "
            "hill-climbed alignment's neighbourhood probability (0 = the Viterbi alignment, as GIZA++)"))
    final_alignment_pass: bool = field(default=True, metadata=_giza(
        "", "align the training corpus again under the final Model-3/4 tables (the cost of about one more Model-4 "
            "iteration; gdfa AER -0.1 to -0.6 on the shared pairs); off: the alignment the last iteration found, "
            "as GIZA++ writes its A3.final"))
    hmm_link_posterior: float = field(default=0.0, metadata=_giza(
        "", "HMM output (when the HMM is the last model): link each target word to its most probable source "
            "word if that link's posterior is at least this, else to NULL (0 = the Viterbi alignment)"))
    max_fertility: int = field(default=10, metadata=_giza("maxfertility", "Models 3/4: fertilities 0 .. this - 1"))
    model4_neighbour_cutoff: float = field(default=4.5e-5, metadata=_giza(
        "", "Model 4: leave out neighbours whose translation, fertility and NULL factors alone fall below this "
            "factor (about e^-10) without scoring their distortion (0 = all, as GIZA++)"))
    climb_from_previous: bool = field(default=True, metadata=_giza(
        "", "Model 4: hill-climb from the previous iteration's alignment instead of the HMM Viterbi alignment "
            "every iteration (GIZA++); fewer climbing steps"))
    symmetrization: str = field(default="grow-diag-final-and", metadata=_giza(
        "", "heuristic combining the two directions"))
    agreement: bool = field(default=True, metadata=_giza(
        "", "train Model 1 and the HMM of both directions jointly, counting the links they agree on "
            "(Liang et al. 2006); off = two independent directions as GIZA++"))
    agreement_power: float = field(default=0.3, metadata=_giza(
        "", "agreement: links are counted by (posterior fwd x posterior rev)^power, rescaled; 1 = the product "
            "(Liang et al.), 0.5 = geometric mean, smaller = flatter (0.3 aligned best at 1,000-10,000 lines)"))
    vb_alpha: float = field(default=0.1, metadata=_giza(
        "", "Dirichlet concentration of variational-Bayes t(f|e) (0 = maximum-likelihood EM as in GIZA++)"))
    seed: int = field(default=0, metadata=_giza("", "random seed (word clustering, embeddings)"))
    # the cognate prior (eegiza.cognates): from the spelling of co-occurring words, no other data
    cognate_lambda: float = field(default=1.0, metadata=_giza(
        "", "weight of the cognate prior on t(f|e) in the models of prior_models (0 = off)"))
    cognate_min_similarity: float = field(default=0.5, metadata=_giza(
        "", "cognate prior: least character-bigram Dice similarity of a candidate pair"))
    cognate_temperature: float = field(default=0.1, metadata=_giza(
        "", "cognate prior: softmax temperature over the candidates' similarities"))
    # the embedding prior (EE-GIZA++); used when vectors, monolingual text or a saved prior are given
    src_vectors: Optional[str] = field(default=None, metadata=_giza(
        "", "source word vectors for the embedding prior (word2vec text/binary or a gensim model)"))
    tgt_vectors: Optional[str] = field(default=None, metadata=_giza("", "target word vectors"))
    src_mono: Optional[str] = field(default=None, metadata=_giza(
        "", "source monolingual text to train vectors on (instead of --src-vectors)"))
    tgt_mono: Optional[str] = field(default=None, metadata=_giza("", "target monolingual text"))
    # word2vec, PPMI-SVD and fastText side by side, 100-d each, 20 epochs: on the protocol's monolingual
    # texts (13k-50k sentences a side) they map far better than any one kind alone (held-out
    # precision@1, benchmarks/README.md, issue 16)
    embed_kind: str = field(default="word2vec+ppmi+fasttext", metadata=_giza(
        "", "vectors trained from text: word2vec, fasttext, ppmi, or several joined with + (side by side, each "
            "--embed-dim wide)"))
    embed_dim: int = field(default=100, metadata=_giza("", "dimension of vectors trained from text"))
    embed_epochs: int = field(default=20, metadata=_giza("", "training passes of vectors trained from text"))
    vectors_cache: Optional[str] = field(default=None, metadata=_giza(
        "", "folder where vectors trained from --src-mono/--tgt-mono are cached, keyed by a hash of the "
            "text and the training options (default: the text's folder)"))
    mapping: str = field(default="procrustes", metadata=_giza(
        "", "cross-lingual mapping: procrustes (orthogonal map of the bitext's identical strings + Model 1 "
            "dictionary), seeded (the same seed, then VecMap self-learning), unsupervised, identical, or none "
            "(vectors already mapped)"))
    prior_lambda: float = field(default=1e4, metadata=_giza(
        "", "largest prior weight tried by calibration, or the weight itself without calibration"))
    prior_temperature: float = field(default=0.1, metadata=_giza("", "softmax temperature of p_emb(f|e)"))
    prior_top_k: int = field(default=100, metadata=_giza("", "candidate translations kept per source word"))
    prior_models: str = field(default="1H", metadata=_giza("", "models whose M-steps the prior enters, e.g. 1H"))
    prior_calibrate: bool = field(default=True, metadata=_giza(
        "", "choose the prior weight by training with each candidate and comparing the likelihood "
        "the models reach (down to 0 for a poor embedding space)"))
    prior_max_pairs: int = field(default=20000, metadata=_giza(
        "", "calibration uses no prior (lambda 0, and trains no vectors) on a bitext of more pairs than this: "
            "a prior that helps a calibration sample of 20,000 pairs did not help any larger bitext measured"))
    prior_min_precision: float = field(default=0.25, metadata=_giza(
        "", "calibration uses no prior (lambda 0) when the mapping's precision@1 on the held-out half "
            "of the bitext's Model 1 dictionary (pairs it was not fitted to) is below this"))
    prior_file: Optional[str] = field(default=None, metadata=_giza(
        "", "reuse priors saved with --save-prior (PREFIX.fwd.eeprob, PREFIX.rev.eeprob)"))
    save_prior: Optional[str] = field(default=None, metadata=_giza(
        "", "write the priors as EE-GIZA++ probability files PREFIX.{fwd,rev}.eeprob"))
    # issue 17: EM sharded over a Dask cluster (eegiza.distributed), identical results
    scheduler: Optional[str] = field(default=None, metadata=_giza(
        "", "run EM on a Dask cluster: a scheduler address (tcp://host:8786) or local:N for N local worker "
            "processes; needs pip install \"eegiza[distributed]\""))

    @property
    def reader_max_len(self) -> Optional[int]:
        """The cap the corpus readers enforce (an error at the first longer sentence): the maximum
        sentence length under ``on_long="error"``, else none (long pairs are handled after reading)."""
        if self.on_long == "error" and self.max_sentence_length:
            return self.max_sentence_length
        return None

    @property
    def effective_t_cutoff(self) -> float:
        """``t_cutoff``, with the default (None) resolved: 1e-7 (GIZA++'s ``probcutoff``) when Model 1
        and the HMM train by agreement, else 0 (eegiza.tprune's measurements)."""
        if self.t_cutoff is not None:
            return float(self.t_cutoff)
        return AGREEMENT_T_CUTOFF if self.agreement else 0.0

    @property
    def uses_embeddings(self) -> bool:
        return bool(self.src_vectors or self.src_mono or self.prior_file)

    @property
    def storage_precision(self) -> str:
        """The t-tables' dtype name: ``table_precision``, with "auto" resolved (float64 with an
        embedding prior, float32 otherwise)."""
        if self.table_precision != "auto":
            return self.table_precision
        return "float64" if self.uses_embeddings else "float32"

    @classmethod
    def describe(cls) -> dict:
        return {f.name: (f.default, f.metadata.get("giza", ""), f.metadata.get("doc", "")) for f in fields(cls)}
