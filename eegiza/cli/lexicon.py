"""``eegiza lexicon MODEL -o FILE``: a bilingual lexicon from a saved model (see :mod:`eegiza.lexicon`).

    eegiza lexicon M.npz -o lex.tsv [--min-prob 0.01] [--giza-t PREFIX]
"""
from __future__ import annotations


def add_lexicon_parser(sub) -> None:
    p = sub.add_parser("lexicon", help="write a bilingual lexicon (src, tgt, p(tgt|src), p(src|tgt)) of a saved model",
                       description="Rows src<TAB>tgt<TAB>p(tgt|src)<TAB>p(src|tgt) sorted by source word, then "
                       "p(tgt|src) descending, after a header naming the direction; a pair is listed if either "
                       "probability is at least --min-prob.")
    p.add_argument("model", help="a model saved by 'eegiza align --save-model'")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the lexicon file")
    p.add_argument("--min-prob", type=float, default=0.01, metavar="P", help="smallest probability listed "
                   "(default: 0.01)")
    p.add_argument("--giza-t", metavar="PREFIX", help="also write GIZA-format t-tables PREFIX.fwd.t and "
                   "PREFIX.rev.t with their vocabularies PREFIX.src.vcb and PREFIX.tgt.vcb")


def cmd_lexicon(args) -> int:
    from ..api import AlignmentModel
    from ..lexicon import build_lexicon, write_giza_tables, write_lexicon
    if not 0.0 <= args.min_prob <= 1.0:
        raise ValueError(f"--min-prob must be between 0 and 1, not {args.min_prob}")
    model = AlignmentModel.load(args.model)
    write_lexicon(args.output, model, build_lexicon(model, args.min_prob))
    if args.giza_t:
        write_giza_tables(args.giza_t, model)
    return 0
