"""End-to-end: Moses' train-model.perl steps 1 and 2 with eegiza's GIZA-compatible commands.

In a temporary directory, on the shared ro-en data (the first 3,000 training lines + the 248 test
lines, lower-cased; f = ro, e = en), this runs what train-model.perl does: step 1 (its Perl
`get_vocabulary` and `numberize_txt_file`, re-done here in Python, and `mkcls` for each language)
and step 2 for both directions (`snt2cooc.out ... > cooc` and `GIZA++ ...`, or with --mgiza
`snt2cooc cooc ...`, `mgiza ... -ncpus 4 ...` and `merge_alignment.py X.part* > X`). The command
lines are the exact strings train-model.perl prints (options in `sort keys` order), split on
blanks and run in-process. Then both alignment files are converted to Pharaoh, symmetrised with
grow-diag-final-and, and scored against the gold test alignments.

The HMM variant (Moses' --hmm-align: `-m3 0 -m4 0 -hmmiterations 5 -hmmdumpfrequency 5 -nodumps 0`,
output `.Ahmm.5`) must give exactly the links, hence the AER, of `eegiza align` with the same
schedule and the options :func:`eegiza.giza.run.giza_config` derives from the same command line.
The default Moses call (`-m3 3 -m4 3`, output `.A3.final`) is expected to fail until Models 3/4
are integrated into train_direction.
"""
from __future__ import annotations

import glob
import io
import lzma
import os
import shutil
import sys
from collections import Counter

import pytest

from conftest import SHARED
from eegiza.cli.giza import giza_main
from eegiza.cli.giza_tools import merge_alignment_main, snt2cooc_main, snt2cooc_out_main
from eegiza.cli.main import main as eegiza_main
from eegiza.cli.mkcls import mkcls_main
from eegiza.evaluate import aer, read_gold
from eegiza.giza.alignment_files import a3_to_pharaoh, read_a3
from eegiza.formats.pharaoh import parse_links, read_pharaoh
from eegiza.giza.params import parse_giza_args
from eegiza.giza.run import giza_config, run_giza
from eegiza.symmetrize import symmetrize_corpus

DATA = SHARED / "data" / "ro-en"
N_TRAIN = 3000
F, E = "ro", "en"

MKCLS = "mkcls -c50 -n2 -pcorpus/train.{lang} -Vcorpus/{lang}.vcb.classes opt"
SNT2COOC_OUT = "snt2cooc.out corpus/{e}.vcb corpus/{f}.vcb corpus/{f}-{e}-int-train.snt > giza.{f}-{e}/{f}-{e}.cooc"
SNT2COOC = "snt2cooc giza.{f}-{e}/{f}-{e}.cooc corpus/{e}.vcb corpus/{f}.vcb corpus/{f}-{e}-int-train.snt"
GIZA_DEFAULT = ("GIZA++  -CoocurrenceFile giza.{f}-{e}/{f}-{e}.cooc -c corpus/{f}-{e}-int-train.snt -m1 5 -m2 0 "
                "-m3 3 -m4 3 -model1dumpfrequency 1 -model4smoothfactor 0.4 -nodumps 1 -nsmooth 4 "
                "-o giza.{f}-{e}/{f}-{e} -onlyaldumps 1 -p0 0.999 -s corpus/{e}.vcb -t corpus/{f}.vcb")
GIZA_HMM = ("GIZA++  -CoocurrenceFile giza.{f}-{e}/{f}-{e}.cooc -c corpus/{f}-{e}-int-train.snt "
            "-hmmdumpfrequency 5 -hmmiterations 5 -m1 5 -m2 0 -m3 0 -m4 0 -model1dumpfrequency 1 "
            "-model4smoothfactor 0.4 -nodumps 0 -nsmooth 4 -o giza.{f}-{e}/{f}-{e} -onlyaldumps 1 -p0 0.999 "
            "-s corpus/{e}.vcb -t corpus/{f}.vcb")
MGIZA_HMM = ("mgiza  -CoocurrenceFile giza.{f}-{e}/{f}-{e}.cooc -c corpus/{f}-{e}-int-train.snt "
             "-hmmdumpfrequency 5 -hmmiterations 5 -m1 5 -m2 0 -m3 0 -m4 0 -model1dumpfrequency 1 "
             "-model4smoothfactor 0.4 -ncpus 4 -nodumps 0 -nsmooth 4 -o giza.{f}-{e}/{f}-{e} -onlyaldumps 1 "
             "-p0 0.999 -s corpus/{e}.vcb -t corpus/{f}.vcb")
MERGE = "merge_alignment.py giza.{f}-{e}/{f}-{e}.{ext}.part* > giza.{f}-{e}/{f}-{e}.{ext}"
DIRECTIONS = ({"f": F, "e": E}, {"f": E, "e": F})  # giza.F-E (source E), giza.E-F (source F)

PROGRAMS = {
    "mkcls": mkcls_main,
    "snt2cooc.out": snt2cooc_out_main,
    "snt2cooc": snt2cooc_main,
    "GIZA++": lambda args: giza_main(args, "GIZA++"),
    "mgiza": lambda args: giza_main(args, "mgiza"),
    "merge_alignment.py": merge_alignment_main,
}


def run(command: str) -> None:
    """Run a shell-like command line in-process: blank-split, `*` globbed, `> file` redirected."""
    words = command.split()
    out = None
    if ">" in words:
        k = words.index(">")
        words, out = words[:k], words[k + 1]
    args = []
    for w in words[1:]:
        args += sorted(glob.glob(w)) if "*" in w else [w]
    if out is None:
        rc = PROGRAMS[words[0]](args)
    else:
        saved = sys.stdout
        with open(out, "wb") as fh:
            sys.stdout = io.TextIOWrapper(fh, encoding="utf-8", write_through=True)
            try:
                rc = PROGRAMS[words[0]](args)
            finally:
                sys.stdout.flush()
                sys.stdout.detach()
                sys.stdout = saved
    assert rc in (0, None), f"{command!r} exited with {rc}"


# ----------------------------------------------------------------------------- Moses step 1
def get_vocabulary(corpus: str, vcb: str) -> dict:
    """train-model.perl's get_vocabulary: `1 UNK 0`, then words by `reverse sort` of
    sprintf("%07d %s", count, word), ids from 2, TAB separated."""
    counts = Counter()
    with open(corpus, "rb") as fh:
        for line in fh:
            counts.update(line.split())
    keyed = sorted((b"%07d %s" % (c, w) for w, c in counts.items()), reverse=True)
    ids = {}
    with open(vcb, "wb") as out:
        out.write(b"1\tUNK\t0\n")
        for k, entry in enumerate(keyed, 2):
            count, word = entry.split(b" ", 1)
            out.write(b"%d\t%s\t%d\n" % (k, word, int(count)))
            ids[word] = k
    return ids


def numberize(vcb_1: dict, txt_1: str, vcb_2: dict, txt_2: str, out_path: str) -> None:
    """train-model.perl's numberize_txt_file: per line pair `1`, the ids of txt_1, the ids of
    txt_2 (no trailing blank; empty lines kept)."""
    with open(txt_1, "rb") as a, open(txt_2, "rb") as b, open(out_path, "wb") as out:
        for line_1, line_2 in zip(a, b):
            ids_1 = b" ".join(b"%d" % vcb_1[w] for w in line_1.split())
            ids_2 = b" ".join(b"%d" % vcb_2[w] for w in line_2.split())
            out.write(b"1\n" + ids_1 + b"\n" + ids_2 + b"\n")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """Step 1 of train-model.perl on the lower-cased ro-en sample: corpus/ with the text, the
    .vcb, the .snt of both directions and the mkcls classes."""
    root = tmp_path_factory.mktemp("moses")
    corpus = root / "corpus"
    corpus.mkdir()
    for lang, test in ((F, "test.src"), (E, "test.tgt")):
        with lzma.open(DATA / f"train.{lang}.xz", "rt", encoding="utf-8") as fh:
            lines = [next(fh) for _ in range(N_TRAIN)]
        lines += (DATA / test).read_text(encoding="utf-8").splitlines(keepends=True)
        (corpus / f"train.{lang}").write_text("".join(lines).lower(), encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        vcb = {lang: get_vocabulary(f"corpus/train.{lang}", f"corpus/{lang}.vcb") for lang in (F, E)}
        numberize(vcb[E], f"corpus/train.{E}", vcb[F], f"corpus/train.{F}", f"corpus/{F}-{E}-int-train.snt")
        numberize(vcb[F], f"corpus/train.{F}", vcb[E], f"corpus/train.{E}", f"corpus/{E}-{F}-int-train.snt")
        for lang in (F, E):
            run(MKCLS.format(lang=lang))
    finally:
        os.chdir(cwd)
    return corpus


@pytest.fixture
def workdir(corpus_dir, tmp_path, monkeypatch):
    shutil.copytree(corpus_dir, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ----------------------------------------------------------------------------- Moses step 2 and scoring
def step2(giza: str, cooc: str, merge_ext: str | None = None) -> None:
    for d in DIRECTIONS:
        os.makedirs("giza.{f}-{e}".format(**d), exist_ok=True)
        run(cooc.format(**d))
        run(giza.format(**d))
        if merge_ext:
            run(MERGE.format(ext=merge_ext, **d))


def symmetrised(ext: str):
    """Both directions' alignment files -> Pharaoh -> grow-diag-final-and, in (ro, en) order."""
    fwd = [parse_links(a3_to_pharaoh(s)) for s in read_a3(f"giza.{E}-{F}/{E}-{F}.{ext}")]  # source ro
    rev = [[(j, i) for i, j in parse_links(a3_to_pharaoh(s))] for s in read_a3(f"giza.{F}-{E}/{F}-{E}.{ext}")]
    ro = [len(x.split()) for x in open(f"corpus/train.{F}", encoding="utf-8")]
    en = [len(x.split()) for x in open(f"corpus/train.{E}", encoding="utf-8")]
    return symmetrize_corpus(fwd, rev, ro, en, "grow-diag-final-and")


def eegiza_align_links(schedule_command: str):
    """`eegiza align` on the same text with the schedule and options giza_config derives from the
    GIZA command line (and the same mkcls classes; directions trained independently and Viterbi
    alignments, Model 4 climbing from the HMM's alignment every iteration over the whole
    neighbourhood, and a final alignment pass under the final tables, as the drop-in does),
    grow-diag-final-and links."""
    args = schedule_command.format(f=F, e=E).split()[1:]
    config = giza_config(parse_giza_args(args)[0])
    rc = eegiza_main(["align", f"corpus/train.{F}", f"corpus/train.{E}", "-o", "ee", "--lowercase", "--quiet",
                      "--schedule", config.schedule, "--hmm-p-null", repr(config.hmm_p_null),
                      "--hmm-jump-smooth", repr(config.hmm_jump_smooth), "--prob-smooth", repr(config.prob_smooth),
                      "--vb-alpha", repr(config.vb_alpha), "--no-agreement", "--min-link-posterior", "0",
                      "--cognate-lambda", "0", "--no-climb-from-previous", "--model4-neighbour-cutoff", "0",
                      "--final-alignment-pass",   # (the default; GIZA's drop-in aligns again too)
                      "--p0", repr(config.p0),
                      "--nsmooth", repr(config.nsmooth),
                      "--model4-smooth", repr(config.model4_smooth), "--max-fertility", str(config.max_fertility),
                      "--src-classes", f"corpus/{F}.vcb.classes", "--tgt-classes", f"corpus/{E}.vcb.classes"])
    assert rc == 0
    return read_pharaoh("ee.gdfa")


def test_reference_a3_is_what_moses_reads():
    """The reference GIZA++ run of Moses' command parses into blocks with the toy corpus' lengths."""
    ref = SHARED / "giza-reference"
    blocks = read_a3(ref / "moses" / "de-en.A3.final")
    en = (ref / "toy.en").read_text(encoding="utf-8").splitlines()
    de = (ref / "toy.de").read_text(encoding="utf-8").splitlines()
    assert [b.pair_no for b in blocks] == list(range(1, len(en) + 1))
    assert [(b.l, b.m) for b in blocks] == [(len(x.split()), len(y.split())) for x, y in zip(en, de)]


def test_moses_hmm_align_matches_eegiza_align(workdir):
    step2(GIZA_HMM, SNT2COOC_OUT)
    n_lines = sum(1 for _ in open(f"corpus/train.{F}", encoding="utf-8"))
    for d in DIRECTIONS:
        prefix = "giza.{f}-{e}/{f}-{e}".format(**d)
        files = set(os.listdir(os.path.dirname(prefix)))
        base = os.path.basename(prefix)
        expected = {f"{base}.{x}" for x in ("cooc", "gizacfg", "perp", "Decoder.config", "trn.src.vcb", "trn.trg.vcb",
                                            "tst.src.vcb", "tst.trg.vcb", "Ahmm.5", "thmm.5", "hhmm.5", "ahmm.5")}
        expected |= {f"{base}.{x}.{k}" for x in ("A1", "t1") for k in range(1, 6)}
        assert files == expected
        blocks = read_a3(prefix + ".Ahmm.5")
        assert len(blocks) == n_lines
        src = "corpus/train.{e}".format(**d)  # GIZA source of giza.F-E is E
        assert [b.l for b in blocks] == [len(x.split()) for x in open(src, encoding="utf-8")]
    links = symmetrised("Ahmm.5")
    expected = eegiza_align_links(GIZA_HMM)
    assert links == expected
    gold = read_gold(DATA / "test.gold")
    score = aer(gold, links)
    assert score.aer == aer(gold, expected).aer
    assert score.aer < aer(gold, symmetrised("A1.1")).aer  # training goes on improving after Model 1, it. 1


def test_moses_mgiza_hmm_align_gives_the_same_alignments(workdir):
    step2(MGIZA_HMM, SNT2COOC, merge_ext="Ahmm.5")
    parts = sorted(glob.glob(f"giza.{F}-{E}/{F}-{E}.Ahmm.5.part*"))
    assert [os.path.basename(p)[-7:] for p in parts] == ["part000", "part001", "part002", "part003"]
    merged = symmetrised("Ahmm.5")
    assert merged == eegiza_align_links(MGIZA_HMM)


def test_moses_default_models_3_and_4(workdir):
    for d in DIRECTIONS:
        os.makedirs("giza.{f}-{e}".format(**d), exist_ok=True)
        run(SNT2COOC_OUT.format(**d))
        words = GIZA_DEFAULT.format(**d).split()
        params, messages = parse_giza_args(words[1:])
        assert messages == []
        run_giza(params)
        assert sorted(os.listdir("giza.{f}-{e}".format(**d))) == sorted(
            "{f}-{e}.{x}".format(x=x, **d) for x in ("cooc", "gizacfg", "A3.final"))
    links = symmetrised("A3.final")
    assert links == eegiza_align_links(GIZA_DEFAULT)
