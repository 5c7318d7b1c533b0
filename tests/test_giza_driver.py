"""The `GIZA++` / `mgiza` commands (eegiza.cli.giza, eegiza.giza.run, eegiza.giza.writers) on the
toy corpus of shared/giza-reference, compared with the files the original GIZA++ wrote there."""
from __future__ import annotations

import math
import os
import re
import shutil

import numpy as np
import pytest

from conftest import SHARED
from eegiza.cli.giza import giza_main
from eegiza.cli.giza_tools import merge_alignment_main
from eegiza.corpus import ParallelCorpus, Side, Vocab
from eegiza.formats.giza import read_ttable
from eegiza.giza.alignment_files import a3_to_pharaoh, read_a3, read_compact
from eegiza.giza.table_files import read_atable, read_d4, read_ntable, read_p0, read_perp
from eegiza.giza.params import parse_giza_args
from eegiza.giza.inputs import GizaRunError, dense_ids, dictionary_counts, restart_p0
from eegiza.giza.run import giza_config, giza_fertility_params, giza_schedule, model1_loglik
from eegiza.giza.writers import IdMap, class_labels, format_hhmm, part_names, write_fertility_tables
from eegiza.ttable import TTable

REF = SHARED / "giza-reference"
FULL = REF / "full"


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy inputs (vcb, snt, cooc, classes) in a fresh working directory."""
    for name in ("toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt", "toy.en_de.cooc", "toy.en.vcb.classes",
                 "toy.de.vcb.classes", "toy.en", "toy.de"):
        shutil.copy(REF / name, tmp_path / name)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


BASE = "-s toy.en.vcb -t toy.de.vcb -c toy.en_toy.de.snt -CoocurrenceFile toy.en_de.cooc"


def giza(args: str, prog: str = "GIZA++") -> int:
    return giza_main(args.split(), prog)


def ref_lengths():
    en = (REF / "toy.en").read_text(encoding="utf-8").splitlines()
    de = (REF / "toy.de").read_text(encoding="utf-8").splitlines()
    return [(len(a.split()), len(b.split())) for a, b in zip(en, de)]


# ----------------------------------------------------------------------------- reference files
def test_reference_alignments_and_tables_parse():
    for name in ("A1.5", "Ahmm.5", "A3.final"):
        blocks = read_a3(FULL / f"en-de.{name}")
        assert [(b.l, b.m) for b in blocks] == ref_lengths()
    e, f, p = read_ttable(FULL / "en-de.t3.final")
    assert len(e) and (p > 0).all() and (p <= 1).all()
    ids, probs = read_ntable(FULL / "en-de.n3.final")
    assert probs.shape[1] == 10 and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert read_p0(FULL / "en-de.p0_3.final") == 1
    j, i, l, m, v = read_atable(FULL / "en-de.d3.final")
    assert (l == 100).all()
    rows = read_d4(FULL / "en-de.D4.final")
    assert rows and all(0 < r[3] <= 1 for r in rows)


# ----------------------------------------------------------------------------- runs on the toy corpus
def test_model1_hmm_run_matches_reference_file_set_and_structure(toy):
    assert giza(f"{BASE} -o out/en-de -m1 5 -m2 0 -mh 5 -m3 0 -m4 0 -t1 1 -th 1") == 0
    ours = set(os.listdir("out"))
    theirs = {n for n in os.listdir(FULL) if re.match(r"en-de\.(A1|t1|Ahmm|thmm|hhmm|ahmm)\.\d$|en-de\.[a-zA-Z.]+$", n)}
    theirs -= {"en-de.A3.final", "en-de.t3.final", "en-de.a3.final", "en-de.d3.final", "en-de.n3.final",
               "en-de.p0_3.final", "en-de.d4.final", "en-de.D4.final"}
    assert ours == theirs
    for name in ("A1.5", "Ahmm.5"):
        ref, got = read_a3(FULL / f"en-de.{name}"), read_a3(f"out/en-de.{name}")
        assert [(b.pair_no, b.l, b.m, b.target_words, [w for w, _ in b.links]) for b in got] == \
               [(b.pair_no, b.l, b.m, b.target_words, [w for w, _ in b.links]) for b in ref]
    # Model 1, iteration 1 starts from uniform t: same table as GIZA++ up to float rounding
    e1, f1, p1 = read_ttable(FULL / "en-de.t1.1")
    e2, f2, p2 = read_ttable("out/en-de.t1.1")
    assert (e1 == e2).all() and (f1 == f2).all() and np.allclose(p1, p2, rtol=1e-5)
    for name in ("trn.src.vcb", "trn.trg.vcb", "tst.src.vcb", "Decoder.config"):
        ours_text = (toy / "out" / f"en-de.{name}").read_text()
        if name == "Decoder.config":
            ours_text = ours_text.replace("= out/", "= full/")
        assert ours_text == (FULL / f"en-de.{name}").read_text()
    _, _, rows = read_perp("out/en-de.perp")
    assert [r.model for r in rows] == ["Model1"] * 5 + ["HMM"] * 5
    assert all(1 < r.trn_pp < 1e4 and 1 < r.trn_vit_pp < 1e4 and r.test_pp is None for r in rows)
    assert rows[4].trn_pp < rows[0].trn_pp and rows[9].trn_pp < rows[5].trn_pp  # EM improves the fit
    hhmm = (toy / "out" / "en-de.hhmm.5").read_text()
    assert re.fullmatch(r"(\n\nDistribution for: previousClass: \S+  (-?\d+:\S+; )+\n\nSUM: \S+\n)+FULL-SUM: \S+\n",
                        hhmm)
    # the config written at start is a valid config file giving the same values
    again, messages = parse_giza_args(["out/en-de.gizacfg"])
    assert messages == [] and again["m3"] == 0 and again["th"] == 1 and again["c"] == "toy.en_toy.de.snt"


def test_moses_flags_without_models_3_4_write_only_the_config(toy):
    assert giza(f"{BASE} -m1 5 -m2 0 -m3 0 -m4 0 -model1dumpfrequency 1 -nodumps 1 -onlyaldumps 1 -o out/x") == 0
    assert os.listdir("out") == ["x.gizacfg"]


MOSES_REF = ("-CoocurrenceFile toy.en_de.cooc -c toy.en_toy.de.snt -m1 5 -m2 0 -m3 3 -m4 3 -model1dumpfrequency 1 "
             "-model4smoothfactor 0.4 -nodumps 1 -nsmooth 4 -o out/de-en -onlyaldumps 1 -p0 0.999 -s toy.en.vcb "
             "-t toy.de.vcb")  # the command of giza-reference/moses (Moses' train-model.perl)


def without_log_names(text: str) -> list[str]:
    return [x for x in text.splitlines() if not x.startswith(("l ", "logfile "))]


def test_moses_reference_command_writes_the_same_gizacfg(toy):
    assert giza_main(MOSES_REF.split()) == 0
    ours = (toy / "out" / "de-en.gizacfg").read_text()
    theirs = (REF / "moses" / "de-en.gizacfg").read_text()
    assert without_log_names(ours) == [x.replace("moses/", "out/") for x in without_log_names(theirs)]


def test_moses_reference_command_gives_the_reference_file_set_and_structure(toy):
    from eegiza.giza.run import run_giza
    params, messages = parse_giza_args(MOSES_REF.split())
    assert messages == []
    run_giza(params)
    assert sorted(os.listdir("out")) == ["de-en.A3.final", "de-en.gizacfg"]
    ours, theirs = read_a3("out/de-en.A3.final"), read_a3(REF / "moses" / "de-en.A3.final")
    assert [(b.pair_no, b.l, b.m, b.target_words, [w for w, _ in b.links]) for b in ours] == \
           [(b.pair_no, b.l, b.m, b.target_words, [w for w, _ in b.links]) for b in theirs]


def test_mgiza_parts_merge_to_the_giza_file(toy, capfdbinary):
    assert giza(f"{BASE} -o out/g -m1 2 -mh 2 -m3 0 -m4 0 -t1 2 -th 2 -nodumps 0") == 0
    assert giza(f"{BASE} -o out/m -m1 2 -mh 2 -m3 0 -m4 0 -t1 2 -th 2 -nodumps 0 -ncpus 3", "mgiza") == 0
    names = sorted(os.listdir("out"))
    assert [n for n in names if n.startswith("m.A1.")] == ["m.A1.2.part0", "m.A1.2.part001", "m.A1.2.part002"]
    assert [n for n in names if n.startswith("m.Ahmm.")] == [f"m.Ahmm.2.part00{k}" for k in range(3)]
    capfdbinary.readouterr()
    for model in ("A1.2", "Ahmm.2"):
        assert merge_alignment_main(sorted(str(toy / "out" / n) for n in names if n.startswith(f"m.{model}."))) == 0
        merged = capfdbinary.readouterr().out
        assert merged == (toy / "out" / f"g.{model}").read_bytes()


def test_compact_alignment_format_holds_the_same_links(toy):
    assert giza(f"{BASE} -o out/n -m1 3 -mh 0 -m3 0 -m4 0 -t1 3") == 0
    assert giza(f"{BASE} -o out/c -m1 3 -mh 0 -m3 0 -m4 0 -t1 3 -compactalignmentformat 1") == 0
    full = [a3_to_pharaoh(b) for b in read_a3("out/n.A1.3")]
    compact = [" ".join(f"{i}-{j}" for i, j in sorted(pairs)) for pairs in read_compact("out/c.A1.3")]
    assert compact == full and any(compact)


def write_corpus(path, pairs):
    with open(path, "w") as fh:
        for src, tgt in pairs:
            fh.write("1\n" + " ".join(map(str, src)) + "\n" + " ".join(map(str, tgt)) + "\n")


def test_no_length_cap_unless_ml_asks_and_empty_pairs_kept(toy, capsys):
    long_src = [2 + k % 9 for k in range(120)]
    long_tgt = [2 + (k * 7) % 12 for k in range(130)]
    write_corpus("long.snt", [(long_src, long_tgt), ([2, 3], []), ([4, 5, 6], [7, 8])])
    args = "-s toy.en.vcb -t toy.de.vcb -c long.snt -CoocurrenceFile toy.en_de.cooc -m1 2 -mh 0 -m3 0 -m4 0 -t1 2"
    assert giza(f"{args} -o out/a") == 0
    err = capsys.readouterr().err
    assert "1 sentence pair(s) with an empty side" in err
    blocks = read_a3("out/a.A1.2")
    assert [(b.pair_no, b.l, b.m) for b in blocks] == [(1, 120, 130), (2, 2, 0), (3, 3, 2)]
    assert giza(f"{args} -o out/b -ml 51") == 0
    assert "1 sentence pair(s) cut to 50 tokens" in capsys.readouterr().err
    assert [(b.l, b.m) for b in read_a3("out/b.A1.2")] == [(50, 50), (2, 0), (3, 2)]


def test_non_contiguous_unordered_vcb_ids_map_back(toy):
    with open("s.vcb", "w") as fh:
        fh.write("907 dog 1\n5 cat 2\n")
    with open("t.vcb", "w") as fh:
        fh.write("3 chat 2\n1000 hund 1\n")
    write_corpus("x.snt", [([5], [3]), ([907, 5], [1000, 3])])
    with open("x.cooc", "w") as fh:
        fh.write("0 3\n0 1000\n5 3\n5 1000\n907 3\n907 1000\n")
    assert giza_main("-s s.vcb -t t.vcb -c x.snt -CoocurrenceFile x.cooc -o out/v -m1 3 -mh 0 -m3 0 -m4 0 "
                     "-t1 3".split()) == 0
    blocks = read_a3("out/v.A1.3")
    assert [w for w, _ in blocks[1].links] == ["NULL", "dog", "cat"] and blocks[1].target_words == ["hund", "chat"]
    e, f, p = read_ttable("out/v.t1.3")
    assert set(e.tolist()) <= {0, 5, 907} and set(f.tolist()) <= {3, 1000}
    assert p[(e == 5) & (f == 3)][0] > 0.5


@pytest.mark.parametrize("args, message", [
    ("-s toy.en.vcb -t toy.de.vcb -c toy.en_toy.de.snt -o out/e", "ERROR: NO COOCURRENCE FILE GIVEN!"),
    (f"{BASE} -o nodir/e", "output directory nodir does not exist"),
    (f"{BASE} -o out/e -m5 2", "Models 5 and 6 are not implemented"),
])
def test_errors(toy, capsys, args, message):
    assert giza(args) == 1
    assert message in capsys.readouterr().err


def test_unknown_word_id_and_unsorted_cooc(toy, capsys):
    write_corpus("bad.snt", [([2, 99], [2])])
    assert giza("-s toy.en.vcb -t toy.de.vcb -c bad.snt -CoocurrenceFile toy.en_de.cooc -o out/b") == 1
    assert "ERROR: source word 99 is not in the vocabulary list" in capsys.readouterr().err
    with open("bad.cooc", "w") as fh:
        fh.write("0 2\n0 3\n2 5\n2 4\n")
    assert giza(f"{BASE} -o out/c -CoocurrenceFile bad.cooc".replace("toy.en_de.cooc", "bad.cooc")) == 1
    assert "bad.cooc, line 4" in capsys.readouterr().err


def test_missing_classes_warns_and_trains(toy, capsys):
    os.remove("toy.en.vcb.classes")
    assert giza(f"{BASE} -o out/h -m1 1 -mh 1 -m3 0 -m4 0 -th 1") == 0
    assert "ERROR: can not read toy.en.vcb.classes" in capsys.readouterr().err
    assert "previousClass: 0 " in (toy / "out" / "h.hhmm.1").read_text()


def test_unset_user_gives_a_default_prefix(toy, monkeypatch):
    monkeypatch.delenv("USER", raising=False)
    assert giza(f"{BASE} -m1 1 -mh 0 -m3 0 -m4 0") == 0
    assert any(n.endswith(".USER.gizacfg") for n in os.listdir("."))


def test_usage_without_arguments(capsys):
    assert giza_main([]) == 1
    out = capsys.readouterr().out
    assert out.startswith("GIZA++ <config_file> [options]") and "model1iterations = 5" in out


def test_test_corpus_perplexity_is_model1_likelihood(toy):
    write_corpus("test.snt", [([2, 3], [2, 3]), ([4], [4, 5])])
    assert giza(f"{BASE} -o out/t -m1 2 -mh 1 -m3 0 -m4 0 -tc test.snt") == 0
    train_size, test_size, rows = read_perp("out/t.perp")
    assert (train_size, test_size) == (40, 2)
    assert rows[0].test_pp > 1 and rows[2].test_pp is None and rows[2].tst_vit_pp > 1
    assert [x.split()[0] for x in open("out/t.tst.src.vcb")] == ["2", "3", "4"]


def giza_dictionary_rule(pairs, snt_pairs):
    """GIZA++'s Model-1 iteration-1 counts with a dictionary (model1.cpp), in plain Python:
    (e, f) gets 1/(l+1) per occurrence if it is a dictionary pair, or if neither word has a
    dictionary partner in the sentence; rows normalised."""
    counts = {}
    for es, fs in snt_pairs:
        es = [0] + es
        indict = {(j, i) for j, f in enumerate(fs) for i, e in enumerate(es) if (e, f) in pairs}
        e_in, f_in = {i for _, i in indict}, {j for j, _ in indict}
        for j, f in enumerate(fs):
            for i, e in enumerate(es):
                if (j, i) in indict or (j not in f_in and i not in e_in):
                    counts[(e, f)] = counts.get((e, f), 0.0) + 1.0 / len(es)
    totals = {}
    for (e, _), c in counts.items():
        totals[e] = totals.get(e, 0.0) + c
    return {k: c / totals[k[0]] for k, c in counts.items()}


def test_dictionary_constrains_model1_first_iteration(toy):
    from eegiza.giza.corpus_files import read_snt
    pairs = {(2, 2), (3, 3), (10, 11)}  # GIZA ids (e, f): the-das, house-haus, man-mann
    with open("dict", "w") as fh:
        fh.write("".join(f"{f} {e}\n" for e, f in sorted(pairs, key=lambda p: p[1])))
    assert giza(f"{BASE} -o out/d -m1 1 -mh 0 -m3 0 -m4 0 -t1 1 -d dict") == 0
    expected = giza_dictionary_rule(pairs, [(p.src, p.tgt) for p in read_snt("toy.en_toy.de.snt")])
    e, f, p = read_ttable("out/d.t1.1")
    got = {(a, b): c for a, b, c in zip(e.tolist(), f.tolist(), p.tolist())}
    assert set(got) == {k for k, v in expected.items() if v > 1e-7}
    assert all(got[k] == pytest.approx(expected[k], rel=1e-5) for k in got)
    assert got[(3, 3)] > 0.9  # house -> haus, forced by the dictionary in iteration 1


# ----------------------------------------------------------------------------- pure functions vs references
def test_dense_ids_follow_first_appearance():
    dense, to_orig = dense_ids(np.array([907, 5, 907, 12, 5]))
    assert dense.tolist() == [1, 2, 1, 3, 2] and to_orig.tolist() == [0, 907, 5, 12]


def small_corpus():
    src = [[1, 2], [2, 3, 1], [3]]
    tgt = [[1, 2, 3], [2, 4], [4, 1]]

    def side(sents):
        offsets = np.cumsum([0] + [len(s) for s in sents]).astype(np.int64)
        return Side(np.array(sum(sents, []), np.int32), offsets)
    corpus = ParallelCorpus(side(src), side(tgt), Vocab.from_words(["NULL", "a", "b", "c"]),
                            Vocab.from_words(["NULL", "w", "x", "y", "z"]))
    return corpus, src, tgt


def test_dictionary_counts_follow_giza_rule():
    corpus, src, tgt = small_corpus()
    tt = TTable.from_corpus(corpus)
    width = 5
    pairs = {(1, 1), (2, 4)}  # (e, f): a-w, b-z
    keys = np.array(sorted(e * width + f for e, f in pairs), np.int64)
    got = dictionary_counts(corpus.src.ids, corpus.src.offsets, corpus.tgt.ids, corpus.tgt.offsets, tt.indptr,
                            tt.indices, keys, width)
    expected = {}
    for es, fs in zip(src, tgt):
        es = [0] + es
        indict = {(j, i) for j, f in enumerate(fs) for i, e in enumerate(es) if (e, f) in pairs}
        e_in = {i for _, i in indict}
        f_in = {j for j, _ in indict}
        for j, f in enumerate(fs):
            for i, e in enumerate(es):
                if (j, i) in indict or (j not in f_in and i not in e_in):
                    expected[(e, f)] = expected.get((e, f), 0.0) + 1.0 / len(es)
    rows = tt.row_ids()
    for s in range(tt.nnz):
        assert got[s] == pytest.approx(expected.get((int(rows[s]), int(tt.indices[s])), 0.0))


def test_model1_loglik_against_python():
    corpus, src, tgt = small_corpus()
    tt = TTable.from_corpus(corpus)
    tt.probs = np.random.default_rng(1).uniform(0.01, 1, tt.nnz)
    got = model1_loglik(tt, corpus, 1e-7)
    for k, (es, fs) in enumerate(zip(src, tgt)):
        ll = sum(math.log(sum(tt.prob(e, f) for e in [0] + es) / (len(es) + 1)) for f in fs)
        assert got[k] == pytest.approx(ll)


def test_schedule_and_config_from_parameters():
    params, _ = parse_giza_args("-m1 5 -m2 0 -m3 3 -m4 3 -emprobforempty 0.25".split())
    assert giza_schedule(params) == "1^5 H^5 3^3 4^3"
    config = giza_config(params)
    assert config.hmm_p_null == pytest.approx(0.2) and config.prob_smooth == 1e-7
    assert config.max_sentence_length is None
    assert giza_config(parse_giza_args("-ml 40".split())[0]).max_sentence_length == 39
    params, _ = parse_giza_args("-m1 0 -mh 0 -m3 0 -m4 0".split())
    with pytest.raises(GizaRunError):
        giza_schedule(params)
    moses = giza_fertility_params(parse_giza_args("-p0 0.999 -nsmooth 4 -model4smoothfactor 0.4".split())[0])
    assert (moses.p0, moses.nsmooth, moses.model4smoothfactor, moses.maxfertility) == (0.999, 4.0, 0.4, 10)
    assert giza_fertility_params(parse_giza_args([])[0]).p0 == -1.0


def test_restart_p0_never_nan(tmp_path, capsys):
    params, _ = parse_giza_args(["-p0", "0.98"], mgiza=True)
    assert restart_p0(params) == pytest.approx(0.98)
    (tmp_path / "p0").write_text("0.9137")
    params, _ = parse_giza_args(["-previousp0", str(tmp_path / "p0")], mgiza=True)
    assert restart_p0(params) == pytest.approx(0.9137)
    params, _ = parse_giza_args([], mgiza=True)
    assert restart_p0(params) == -1.0 and "p0 is learned" in capsys.readouterr().err


# ----------------------------------------------------------------------------- Model 3/4 writers
def test_fertility_writers_from_hand_made_arrays(tmp_path):
    # dense source ids 0 (NULL), 1, 2 -> GIZA ids 0, 7, 3; classes 0, 1, 2 -> labels "0", "12", "5"
    ids = IdMap(np.array([0, 7, 3]), np.array([0, 4, 9]), ["0", "12", "5"], ["0", "30"])
    n_table = np.array([[0.0] * 3, [0.1, 0.9, 0.0], [0.5, 0.25, 0.25]])
    half = 2
    d1 = np.zeros((3, 2, 5))
    d1[1, 1, half + 1] = 0.75
    d1[1, 1, half - 1] = 0.25
    db = np.zeros((2, 5))
    db[1, half + 1] = 1.0
    # one Model-3 distortion block with l ignored (compact), m = 2: v(i, j) for i = 0..1, j = 1..2
    arrays = {"n_table": n_table, "p0": 0.93, "half": half, "d1": d1.ravel(), "db": db.ravel(),
              "d1_seen": np.array([0, 0, 0, 1, 0, 0], np.int8), "db_seen": np.array([0, 1], np.int8),
              "d_keys": np.array([2], np.int64), "d_dim_l": np.array([1]), "d_dim_m": np.array([2]),
              "d_offsets": np.array([0, 4]), "d_probs": np.array([0.6, 0.3, 0.4, 0.7]),
              "d_flags": np.array([1, 0], np.int8)}
    prefix = str(tmp_path / "x")
    written = write_fertility_tables(prefix, "final", arrays, ids, np.array([0.0, 3.0, 1.0]), 100, model4=True)
    assert sorted(os.path.basename(p) for p in written) == ["x.D4.final", "x.d3.final", "x.d4.final",
                                                           "x.n3.final", "x.p0_3.final"]
    ref_n3 = (FULL / "en-de.n3.final").read_text().splitlines()[0]
    n3 = (tmp_path / "x.n3.final").read_text().splitlines()
    assert n3 == ["3 0.5 0.25 0.25 ", "7 0.1 0.9 0 "]
    assert re.fullmatch(r"\d+( \S+){10} ", ref_n3)
    d3 = (tmp_path / "x.d3.final").read_text().splitlines()
    # rows `j i l m p`, l printed as 100, ordered by m, i, j like the reference
    assert d3 == ["1 0 100 2 0.6", "2 0 100 2 0.4", "1 1 100 2 0.3", "2 1 100 2 0.7"]
    assert re.fullmatch(r"\d+ \d+ 100 \d+ \S+", (FULL / "en-de.d3.final").read_text().splitlines()[0])
    assert (tmp_path / "x.p0_3.final").read_text() == "0.93"
    assert read_d4(tmp_path / "x.D4.final") == [("12", "30", -1, 0.25), ("12", "30", 1, 0.75), ("-1", "30", 1, 1.0)]
    d4 = (tmp_path / "x.d4.final").read_text()
    assert d4 == ("# Translation tables for Model 4 .\n# Table for head of cept.\nF: 30 E: 12 \nSUM: 1 \n"
                  "-1 0.25\n1 0.75\n\n# Table for non-head of cept.\nF: 30 \nSUM: 1 \n1 1\n\n\nFULL-SUM: 2\n")
    ref_d4 = (FULL / "en-de.d4.final").read_text()
    assert ref_d4.startswith("# Translation tables for Model 4 .\n# Table for head of cept.\nF: ")
    assert ref_d4.endswith("\n# Table for non-head of cept.\n\nFULL-SUM: 186\n")


def test_hhmm_and_labels_and_part_names():
    labels = class_labels([("a", "16"), ("b", "4"), ("c", "16"), ("d", "0")])
    assert labels == ["0", "16", "4"]
    jump = np.full((3, 5), 1e-6)
    jump[1, 1] += 2.5
    jump[1, 3] += 0.5
    text = format_hhmm(jump, labels, 2, offset=1e-6)
    assert text == "\n\nDistribution for: previousClass: 16  -1:2.5; 1:0.5; \n\nSUM: 3\nFULL-SUM: 3\n"
    assert part_names("x.A1.1", 3, "1") == ["x.A1.1.part0", "x.A1.1.part001", "x.A1.1.part002"]
    assert part_names("x.A3.final", 2, "3") == ["x.A3.final.part000", "x.A3.final.part001"]


# ----------------------------------------------------------------------------- the Model-3/4 loop (stand-in model)
def fake_fertility_training(monkeypatch):
    """Replace train_direction/align_direction in giza_run by a stand-in that runs the schedule's
    iteration callbacks and carries hand-made Model-3/4 arrays (the real models are not wired in
    yet); the dump rules and file names of the driver are what is tested."""
    import eegiza.giza.run as giza_run
    from eegiza.schedule import MODEL_NAMES, parse_schedule
    from eegiza.train import DirectionModel, IterationLog

    class Fertility:
        def __init__(self, n_src):
            self.n_src = n_src

        def to_arrays(self):
            n = np.zeros((self.n_src, 10))
            n[:, 1] = 1.0
            return {"n_table": n, "p0": 0.999, "half": 1, "d1": np.array([0.2, 0.8, 0.0] * 4),
                    "d1_seen": np.array([1, 0, 0, 1], np.int8), "db": np.array([0.0, 0.0, 1.0] * 2),
                    "db_seen": np.array([0, 1], np.int8), "d_keys": np.array([3], np.int64),
                    "d_dim_l": np.array([2]), "d_dim_m": np.array([3]), "d_offsets": np.array([0, 9]),
                    "d_probs": np.full(9, 1 / 3), "d_flags": np.array([1, 0], np.int8)}

    def train(corpus, config, src_class=None, prior_factory=None, progress=None, on_iteration=None):
        model = DirectionModel(TTable.from_corpus(corpus), "1", src_class)
        model.fertility = Fertility(len(corpus.src_vocab))
        for name, n_iter in parse_schedule(config.schedule):
            for it in range(1, n_iter + 1):
                model.log.append(IterationLog(MODEL_NAMES[name], it, 3.0, -1.0, 0.0))
                model.last_model = name
                on_iteration(name, it, model)
        return model

    def align(model, corpus):
        return np.zeros(len(corpus.tgt.ids), np.int32), np.full(len(corpus), -2.0)

    monkeypatch.setattr(giza_run, "train_direction", train)
    monkeypatch.setattr(giza_run, "align_direction", align)


def test_model34_loop_dump_rules_and_names(toy, monkeypatch):
    from eegiza.giza.run import run_giza
    fake_fertility_training(monkeypatch)
    run = run_giza(parse_giza_args(f"{BASE} -o out/f -m1 1 -mh 1 -m3 2 -m4 2 -t345 2".split())[0])
    assert sorted(os.path.basename(p) for p in run.written) == sorted(os.listdir("out"))
    files = {n[2:] for n in os.listdir("out")}
    tables = {f"{kind}.{number}" for kind in ("A3", "t3", "n3", "d3", "p0_3") for number in ("2", "final")}
    assert files == tables | {"d4.final", "D4.final", "gizacfg", "perp", "Decoder.config", "trn.src.vcb",
                              "trn.trg.vcb", "tst.src.vcb", "tst.trg.vcb"}
    _, _, rows = read_perp("out/f.perp")
    assert [r.model for r in rows] == ["Model1", "HMM", "THTo3", "Model3", "T3To4", "Model4"]
    assert [(b.l, b.m) for b in read_a3("out/f.A3.final")] == ref_lengths()
    assert read_p0("out/f.p0_3.final") == pytest.approx(0.999)
    ids, probs = read_ntable("out/f.n3.final")
    assert ids.tolist() == sorted(ids.tolist()) and (probs[:, 1] == 1).all()


def test_model34_moses_flags_write_only_a3_final(toy, monkeypatch):
    fake_fertility_training(monkeypatch)
    assert giza(f"{BASE} -o out/m -m1 5 -m2 0 -m3 3 -m4 3 -model1dumpfrequency 1 -nodumps 1 -onlyaldumps 1") == 0
    assert sorted(os.listdir("out")) == ["m.A3.final", "m.gizacfg"]
    assert giza(f"{BASE} -o out/p -m1 5 -m2 0 -m3 3 -m4 3 -ncpus 2 -nodumps 1 -onlyaldumps 1", "mgiza") == 0
    assert sorted(n for n in os.listdir("out") if n.startswith("p.")) == [
        "p.A3.final.part000", "p.A3.final.part001", "p.gizacfg"]
