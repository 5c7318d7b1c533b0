"""Low-resource benchmark of the priors (issue 4): eegiza without priors, with the cognate prior (the
default), with the cognate and the embedding prior, and eflomal.

For every row ``pair:N`` (N = first training lines, or ``full``; en-fr's full = first 100,000) of the
shared protocol (/work/shared/data/README.md items 1 and 5) it runs, each in a fresh child process so
that peak RSS is per run: eegiza trained as GIZA++ would (``GIZA_LIKE``: no agreement, no
link-posterior threshold, no cognate prior, no variational Bayes; "gizalike"), eegiza without any
prior (``cognate_lambda=0``, "plain"; ``--no-plain`` skips it), eegiza with its
defaults (the cognate prior, "base"), eegiza with the embedding prior as well, eflomal
(benchmarks/run_eflomal.py), and prints one table: gdfa AER of the four, the chosen prior weight
lambda (fwd/rev), the mapping quality prepare_prior reports (precision@1 on the held-out half of
the Model 1 dictionary, the gate's number, on the whole dictionary and on identical strings),
seconds (vectors / mapping / prior / training) and peak RSS.

Vectors: trained once per pair on the protocol's monolingual texts (item 5: source side of the
even-numbered training lines, target side of the odd ones, lower-cased; of all training lines, but
en-fr's first 100,000 only, ``MONO_CAP``, unless ``--mono-all``) with eegiza's own
:func:`eegiza.embeddings.vectors.cached_train_vectors` (``--kind``/``--dim``/``--epochs``:
by default the defaults of ``--src-mono`` training, word2vec, PPMI-SVD and fastText vectors of 100
dimensions each side by side, 20 epochs), cached in eegiza's
vector cache (``--vectors-cache``, default ``--vectors-dir``; the "vectors" seconds are those of
this run: training, or loading a cached entry) and saved under ``--vectors-dir`` as word2vec binary.
The mapping and the prior are recomputed per row, seeded by that row's N-line bitext. eegiza
uses the default AlignerConfig except ``--schedule``; ``--prior-set NAME=VALUE`` changes an
option of the embedding prior (:data:`eegiza.embeddings.PRIOR_DEFAULTS`) in the prior run.

    PYTHONPATH=/work/main python benchmarks/bench_lowres.py --out /tmp/lowres.jsonl \
        [ro-en:1000 de-en:full ...] [--schedule "1^5 H^5 3^3 4^3"] [--resume] [--threads 1] \
        [--no-eflomal] [--no-plain] [--kind word2vec --dim 100 --epochs 20] [--vectors-cache DIR] \
        [--prior-set mapping=seeded ...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import (DEFAULT_DATA_DIR, cpu_seconds, load_protocol, write_mono_halves,  # noqa: E402
                      peak_rss_mb, print_table)

DEFAULT_ROWS = [f"{pair}:{n}" for n in ("1000", "10000") for pair in ("ro-en", "de-en", "en-fr")] + \
               ["ro-en:full", "de-en:full", "en-fr:full"]
FULL_CAP = {"en-fr": 100000}
#: monolingual text = protocol item 5 on the first lines of the training text (all when absent):
#: en-fr's 1,130,104 lines would take an hour of vector training a side here
MONO_CAP = {"en-fr": 100000}
#: the seed paper's baseline: GIZA++-like EM (no agreement, no link-posterior threshold, no cognate
#: prior, no variational Bayes)
GIZA_LIKE = {"agreement": False, "min_link_posterior": 0.0, "cognate_lambda": 0.0, "vb_alpha": 0.0}
COLUMNS = ["pair", "N", "aer_gizalike", "aer_plain", "aer_base", "aer_prior", "aer_eflomal", "lambda",
           "p1_heldout", "p1_m1", "p1_ident", "s_vectors", "s_mapping", "s_prior", "s_train", "s_plain", "s_base", "s_eflomal",
           "rss_plain", "rss_base", "rss_prior", "rss_eflomal"]


def row_lines(spec: str):
    """``"de-en:full"`` -> ("de-en", None or the cap); ``"ro-en:1000"`` -> ("ro-en", 1000)."""
    pair, _, n = spec.partition(":")
    return pair, (FULL_CAP.get(pair) if n in ("", "full") else int(n))


def ensure_vectors(pair: str, directory: Path, kind: str, dim: int, epochs: int, data_dir: Path,
                   cache: Path | None = None) -> dict:
    """Train (once) and cache word vectors of the pair's monolingual texts (protocol item 5 on the
    first ``MONO_CAP`` lines, or all); returns their metadata. Training goes through eegiza's
    vector cache (``cache``, default ``directory``), keyed by the text and the options as
    ``--src-mono`` runs and ``bench_mapping_heldout.py`` key it, so all three share vectors; with
    one gensim worker, as eegiza trains them (reproducible vectors)."""
    from eegiza.embeddings import save_word2vec
    from eegiza.embeddings.vectors import cached_train_vectors

    meta_path = directory / f"{pair}.{kind}{dim}e{epochs}.json"
    mono = {f"{side}_mono": str(directory / f"{pair}.mono.{lang}") for side, lang in zip(("src", "tgt"), pair.split("-"))}
    if meta_path.exists():
        return {**json.loads(meta_path.read_text()), **mono}      # the texts: for embed_space=joint
    directory.mkdir(parents=True, exist_ok=True)
    src_lang, tgt_lang = pair.split("-")
    meta = {"kind": kind, "dim": dim, "epochs": epochs, "seconds": 0.0, "mono_lines": MONO_CAP.get(pair)}
    texts = write_mono_halves(pair, directory, data_dir, MONO_CAP.get(pair))
    for side, lang, text in zip(("src", "tgt"), (src_lang, tgt_lang), texts):
        start = time.perf_counter()
        vectors, cached = cached_train_vectors(text, cache or directory, kind=kind, dim=dim, epochs=epochs,
                                               min_count=3, threads=1, lowercase=False,   # as eegiza
                                               progress=lambda m: print("  ", m, file=sys.stderr, flush=True))
        meta["seconds"] += time.perf_counter() - start
        meta[f"{side}_cached"] = cached
        path = directory / f"{pair}.{lang}.{kind}{dim}e{epochs}.bin"
        save_word2vec(path, vectors, binary=True)
        meta[side] = str(path)
        meta[f"{side}_lines"], meta[f"{side}_words"] = text.read_bytes().count(b"\n"), len(vectors)
    meta_path.write_text(json.dumps(meta))
    return {**meta, **mono}


def run_eegiza(pair: str, n_lines, schedule: str, data_dir: Path, vectors: dict | None,
               settings: dict | None = None, prior_options: dict | None = None) -> dict:
    """One eegiza run (both directions + gdfa), with the embedding prior if ``vectors`` are given;
    ``settings``: other AlignerConfig fields; ``prior_options``: options of
    :data:`eegiza.embeddings.PRIOR_DEFAULTS` set on the config (``--prior-set``)."""
    from eegiza import Aligner, AlignerConfig, aer, read_gold
    from eegiza.corpus import corpus_from_sentences

    protocol = load_protocol(pair, n_lines, data_dir)
    start, start_cpu = time.perf_counter(), cpu_seconds()
    extra = {} if vectors is None else {"src_vectors": vectors["src"], "tgt_vectors": vectors["tgt"]}
    if vectors is not None and (prior_options or {}).get("embed_space") == "joint":
        extra = {"src_mono": vectors["src_mono"], "tgt_mono": vectors["tgt_mono"]}   # one space of both texts
    aligner = Aligner(AlignerConfig(schedule=schedule, **extra, **(settings or {})))
    for name, value in (prior_options or {}).items():
        setattr(aligner.config, name, value)      # not AlignerConfig fields: Aligner() would drop them
    corpus = corpus_from_sentences(protocol.src_lines, protocol.tgt_lines)
    progress = (lambda m: print("  ", m, file=sys.stderr, flush=True)) if vectors is not None else None
    model = aligner.train_corpus(corpus, progress)
    links = model.align_corpus(corpus, ["grow-diag-final-and"]).links("grow-diag-final-and")
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    row = {"lines": len(protocol.src_lines), "aer_gdfa": 100 * aer(read_gold(protocol.gold_path), links).aer,
           "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(include_children=False)}
    if vectors is not None:
        report = model.prior_report
        stage = report["seconds"]
        row["lambda"] = report["lambda"]
        row["quality"] = report.get("quality")
        row["s_mapping"] = stage.get("model1_dictionary", 0.0) + stage.get("mapping", 0.0)
        row["s_prior"] = stage.get("prior_setup", 0.0) + stage.get("calibration", 0.0)
        row["s_load"] = stage.get("embeddings", 0.0)
        row["s_train"] = seconds - sum(stage.values())
        row["report"] = report
    return row


def parse_prior_options(items) -> dict:
    """``["mapping=procrustes", "seed_min_prob=0.3"]`` -> options of PRIOR_DEFAULTS (numbers and
    true/false/none parsed); an unknown name is an error."""
    from eegiza.embeddings import PRIOR_DEFAULTS
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in PRIOR_DEFAULTS:
            raise SystemExit(f"--prior-set {item!r}: expected NAME=VALUE with NAME one of {sorted(PRIOR_DEFAULTS)}")
        value = {"true": True, "false": False, "none": None}.get(text.lower(), text)
        for cast in (int, float):
            try:
                value = cast(text)
                break
            except ValueError:
                pass
        out[name] = value
    return out


def child(command) -> dict:
    result = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_row(spec: str, args) -> dict:
    pair, n_lines = row_lines(spec)
    vectors = ensure_vectors(pair, args.vectors_dir, args.kind, args.dim, args.epochs, args.data,
                             args.vectors_cache)
    base_cmd = [sys.executable, __file__, "--data", str(args.data), "--schedule", args.schedule,
                "--threads", str(args.threads)]
    gizalike = {"aer_gdfa": float("nan"), "seconds": 0.0, "peak_rss_mb": 0.0}
    if not args.no_gizalike:
        gizalike = child(base_cmd + ["--child", "gizalike", spec])
    print(f"{spec} GIZA++-like: gdfa AER {gizalike['aer_gdfa']:.2f}, {gizalike['seconds']:.1f} s", flush=True)
    plain = {"aer_gdfa": float("nan"), "seconds": 0.0, "peak_rss_mb": 0.0}
    if not args.no_plain:
        plain = child(base_cmd + ["--child", "plain", spec])
    print(f"{spec} without priors: gdfa AER {plain['aer_gdfa']:.2f}, {plain['seconds']:.1f} s", flush=True)
    base = child(base_cmd + ["--child", "base", spec])
    print(f"{spec} with the cognate prior: gdfa AER {base['aer_gdfa']:.2f}, {base['seconds']:.1f} s",
          flush=True)
    prior = child(base_cmd + ["--child", "prior", spec, "--vectors", json.dumps(vectors)]
                  + [arg for item in args.prior_set for arg in ("--prior-set", item)])
    print(f"{spec} with the embedding prior too: gdfa AER {prior['aer_gdfa']:.2f}, lambda {prior['lambda']}",
          flush=True)
    efl_spec = pair if n_lines is None else f"{pair}:{n_lines}"
    eflomal = {"aer_gdfa": float("nan"), "seconds": 0.0, "peak_rss_mb": 0.0}
    if not args.no_eflomal:
        eflomal = child([sys.executable, str(Path(__file__).parent / "run_eflomal.py"), "--child", efl_spec,
                         "--data", str(args.data)])
    quality = prior.get("quality") or {}
    lam = prior["lambda"]
    return {"pair": pair, "N": spec.partition(":")[2] or "full", "lines": base["lines"],
            "aer_gizalike": gizalike["aer_gdfa"], "aer_plain": plain["aer_gdfa"], "aer_base": base["aer_gdfa"], "aer_prior": prior["aer_gdfa"],
            "aer_eflomal": 100 * eflomal["aer_gdfa"],
            "lambda": f"{lam['fwd']:g}/{lam['rev']:g}",
            "p1_ident": quality.get("identical_precision"), "p1_m1": quality.get("model1_precision"),
            "p1_heldout": quality.get("heldout_precision"), "heldout_pairs": quality.get("heldout_pairs"),
            "s_vectors": vectors["seconds"], "s_mapping": prior["s_mapping"], "s_prior": prior["s_prior"],
            "s_train": prior["s_train"], "s_plain": plain["seconds"], "s_base": base["seconds"],
            "s_eflomal": eflomal["seconds"], "rss_plain": plain["peak_rss_mb"], "rss_base": base["peak_rss_mb"],
            "rss_prior": prior["peak_rss_mb"], "rss_eflomal": eflomal["peak_rss_mb"],
            "schedule": args.schedule, "vectors": {k: v for k, v in vectors.items() if k not in ("src", "tgt")},
            "prior_report": prior["report"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", nargs="*", default=DEFAULT_ROWS, help="pair:N or pair:full (default: all 9)")
    parser.add_argument("--schedule", default="1^5 H^5 3^3 4^3")
    parser.add_argument("--threads", type=int, default=0, help="eegiza's threads (0 = all; vectors train with one)")
    parser.add_argument("--no-eflomal", action="store_true", help="skip the eflomal column")
    parser.add_argument("--no-plain", action="store_true", help="skip the run without any prior")
    parser.add_argument("--no-gizalike", action="store_true", help="skip the GIZA++-like run")
    parser.add_argument("--out", type=Path, help="append every finished row here as a JSON line")
    parser.add_argument("--resume", action="store_true", help="skip rows already in --out")
    parser.add_argument("--vectors-dir", type=Path, default=Path("/tmp/lowres_vectors"))
    parser.add_argument("--kind", default="word2vec+ppmi+fasttext",
                        help="vectors trained: word2vec, fasttext, ppmi or several joined with + "
                             "(default: word2vec+ppmi+fasttext, the default of --src-mono training)")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--mono-all", action="store_true",
                        help="monolingual text of all training lines for every pair (en-fr too: no MONO_CAP); "
                             "use another --vectors-dir")
    parser.add_argument("--vectors-cache", type=Path, help="eegiza's vector cache folder (default: --vectors-dir)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--prior-set", action="append", default=[], metavar="NAME=VALUE",
                        help="an option of eegiza.embeddings.PRIOR_DEFAULTS for the prior run, e.g. "
                             "mapping=procrustes (numbers parsed; repeatable)")
    parser.add_argument("--child", choices=["gizalike", "plain", "base", "prior"], help=argparse.SUPPRESS)
    parser.add_argument("--vectors", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        pair, n_lines = row_lines(args.rows[0])
        vectors = json.loads(args.vectors) if args.child == "prior" else None
        settings = {"plain": {"cognate_lambda": 0.0}, "gizalike": GIZA_LIKE}.get(args.child, {})
        settings["threads"] = args.threads
        print(json.dumps(run_eegiza(pair, n_lines, args.schedule, args.data, vectors, settings,
                                    parse_prior_options(args.prior_set))))
        return
    if args.mono_all:
        MONO_CAP.clear()
    done = []
    if args.resume and args.out is not None and args.out.exists():
        done = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
    rows = [r for r in done if f"{r['pair']}:{r['N']}" in args.rows]
    from eegiza import Aligner, AlignerConfig      # warm the Numba cache, as bench_align does
    Aligner(AlignerConfig(schedule=args.schedule)).train(["a b", "b c"], ["x y", "y z"])
    start = time.perf_counter()
    for spec in args.rows:
        if any(f"{r['pair']}:{r['N']}" == spec for r in rows):
            continue
        row_start = time.perf_counter()
        rows.append(run_row(spec, args))
        rows[-1]["s_row_wall"] = time.perf_counter() - row_start
        if args.out is not None:
            with open(args.out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(rows[-1]) + "\n")
        print_table(rows[-1:], COLUMNS, "{:.2f}")
    print(f"\nwall time {time.perf_counter() - start:.0f} s\n")
    print_table(rows, COLUMNS, "{:.2f}")


if __name__ == "__main__":
    main()
