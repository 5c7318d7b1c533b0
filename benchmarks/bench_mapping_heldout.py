"""Held-out precision@1 of the embedding prior's cross-lingual mapping (issue 16), one setting at a time.

For a protocol pair at N lines, the vectors of the protocol's monolingual texts (item 5, all
training lines; en-fr's first 100,000, as ``bench_lowres.py``) are trained with eegiza's own
:func:`eegiza.embeddings.vectors.cached_train_vectors` (cached under ``--vectors-cache``, so each
vector setting is trained once) and mapped exactly as ``prepare_prior`` maps them; the row printed
is the mapping's quality report: precision@1 on the held-out part of the bitext dictionary (the
number the calibration gate trusts), on the whole dictionary and on identical strings.

    PYTHONPATH=. nice -n 19 python benchmarks/bench_mapping_heldout.py ro-en:1000 \\
        --vectors-cache /tmp/vcache --set mapping=procrustes --set embed_dim=100 [--label idea] \\
        [--out rows.jsonl]

``--set NAME=VALUE`` sets any option of :data:`eegiza.embeddings.PRIOR_DEFAULTS` (numbers parsed),
e.g. ``--set embed_space=joint`` for one space trained on both texts instead of two mapped ones
(``--set mapping_refit=false`` skips the refit, a second training of that space, when only the
held-out precision is wanted).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DEFAULT_DATA_DIR, load_protocol, write_mono_halves  # noqa: E402
from bench_lowres import MONO_CAP, parse_prior_options, row_lines  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("row", help="pair:N, e.g. ro-en:1000")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--label", default="")
    parser.add_argument("--vectors-cache", type=Path, default=Path("/tmp/eegiza_vcache"))
    parser.add_argument("--mono-dir", type=Path, default=Path("/tmp/eegiza_mono"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from eegiza.corpus import corpus_from_sentences
    from eegiza.embeddings import _embedding_priors

    pair, n_lines = row_lines(args.row)
    mono_dir = args.mono_dir / pair
    src_lang, tgt_lang = pair.split("-")
    texts = [mono_dir / f"{pair}.mono.{lang}" for lang in (src_lang, tgt_lang)]
    if not all(t.exists() for t in texts):
        texts = write_mono_halves(pair, mono_dir, args.data, MONO_CAP.get(pair))
    options = parse_prior_options(args.set)
    config = SimpleNamespace(src_mono=str(texts[0]), tgt_mono=str(texts[1]), vectors_cache=str(args.vectors_cache),
                             threads=args.threads, lowercase=False, **options)
    protocol = load_protocol(pair, n_lines, args.data)
    corpus = corpus_from_sentences(protocol.src_lines, protocol.tgt_lines)
    report = {"seconds": {}}
    start = time.perf_counter()
    _embedding_priors(corpus, config, 1e4, report, lambda m: print("  ", m, file=sys.stderr, flush=True))
    q = report["quality"]
    row = {"label": args.label, "row": args.row, "options": options,
           "heldout_p1": q.get("heldout_precision"), "heldout_pairs": q.get("heldout_pairs"),
           "dict_p1": q["model1_precision"], "dict_pairs": q["model1_pairs"],
           "ident_p1": q["identical_precision"], "vectors": report["vectors"],
           "dictionary": report["dictionary"], "seconds_under_load": time.perf_counter() - start}
    line = json.dumps(row)
    print(line, flush=True)
    if args.out is not None:
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
