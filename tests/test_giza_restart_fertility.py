"""MGIZA `-restart 7..11` (Models 3/4 from given tables) in eegiza's `mgiza` and the force-alignment
recipe of GIZA_FORMATS.md §7: train GIZA++ Models 1, HMM, 3, 4 with `-nodumps 0` on ro-en, then align
new text (the test sentences, an unseen pair, held-out lines) from the `.final` tables; plus the
restart helpers against small Python references and the file set of the full-dump reference run."""
from __future__ import annotations

import lzma
import math
import os
import re
import shutil

import numpy as np
import pytest

from conftest import SHARED
from eegiza.cli.giza import giza_main
from eegiza.cli.giza_tools import plain2snt_main, snt2cooc_main
from eegiza.cli.mkcls import mkcls_main
from eegiza.corpus import ParallelCorpus, Side, Vocab
from eegiza.giza.alignment_files import a3_to_pharaoh, read_a3
from eegiza.giza.table_files import read_perp
from eegiza.formats.pharaoh import parse_links
from eegiza.giza.restart import read_position_table
from eegiza.models import ibm3
from eegiza.models.fertility import FertilityParams, continued_model, position_table, train_fertility
from eegiza.models.ibm2 import ATable
from test_giza_restart import extend_vocabulary, merged_blocks

DATA = SHARED / "data" / "ro-en"
REF = SHARED / "giza-reference"
N_TRAIN = 400
N_HELD_OUT = 40
TRAIN = ("-s train.ro.vcb -t train.en.vcb -c train.ro_train.en.snt -CoocurrenceFile train.cooc -o out/t "
         "-m1 5 -mh 5 -m3 2 -m4 2 -nodumps 0 -hmmdumpfrequency 5 -ncpus 2")
PREVIOUS = ("-previoust out/t.t3.final -previousa out/t.a3.final -previousd out/t.d3.final "
            "-previousn out/t.n3.final -previousp0 out/t.p0_3.final")
FORCE = ("out/t.gizacfg -c new.snt -o {d}/t -s new.ro.vcb -t new.en.vcb -m1 0 -m2 0 -mh 0 -coocurrence new.cooc "
         "-ncpus 2 -sourcevocabularyclasses train.ro.vcb.classes -targetvocabularyclasses train.en.vcb.classes "
         "-restart {r} " + PREVIOUS + " {extra}")
RESTART_11 = "-previousd4 out/t.d4.final -previousd42 out/t.D4.final -m3 0 -m4 1"
UNSEEN = ("qqxro zzyro", "qqxen zzyen")


def links(blocks):
    return [parse_links(a3_to_pharaoh(b)) for b in blocks]


def prepare(root, n_train: int = N_TRAIN, n_held_out: int = N_HELD_OUT) -> None:
    """In ``root``: the training corpus (first ``n_train`` lines + the test lines, lower-cased, GIZA
    source = ro), mkcls classes, cooc, the GIZA++ run with every final table, and the new text
    (the unseen pair, the test lines, ``n_held_out`` lines from after the training lines)
    numbered with extended vocabularies."""
    os.chdir(root)
    for lang, test in (("ro", "test.src"), ("en", "test.tgt")):
        with lzma.open(DATA / f"train.{lang}.xz", "rt", encoding="utf-8") as fh:
            lines = [next(fh) for _ in range(n_train + n_held_out)]
        test_lines = (DATA / test).read_text(encoding="utf-8").splitlines(keepends=True)
        (root / f"train.{lang}").write_text("".join(lines[:n_train] + test_lines).lower(), encoding="utf-8")
        unseen = UNSEEN[0] if lang == "ro" else UNSEEN[1]
        (root / f"new.{lang}").write_text(unseen + "\n" + "".join(test_lines + lines[n_train:]).lower(),
                                          encoding="utf-8")
    assert plain2snt_main(["train.ro", "train.en"]) == 0
    for lang in ("ro", "en"):
        assert mkcls_main(["-c50", "-n1", f"-ptrain.{lang}", f"-Vtrain.{lang}.vcb.classes", "opt"]) in (0, None)
    assert snt2cooc_main(["train.cooc", "train.ro.vcb", "train.en.vcb", "train.ro_train.en.snt"]) == 0
    os.makedirs("out", exist_ok=True)
    assert giza_main(TRAIN.split(), "mgiza") == 0
    merged_blocks("out/t.A3.final.part*")
    ro = extend_vocabulary("train.ro.vcb", "new.ro", "new.ro.vcb")
    en = extend_vocabulary("train.en.vcb", "new.en", "new.en.vcb")
    with open("new.snt", "w") as fh:
        fh.write("".join(f"1\n{' '.join(map(str, a))}\n{' '.join(map(str, b))}\n" for a, b in zip(ro, en)))
    assert snt2cooc_main(["new.cooc", "new.ro.vcb", "new.en.vcb", "new.snt"]) == 0


def force_align(directory: str, restart: int, extra: str):
    """The §7 mgiza command into ``directory``; returns the merged A3 blocks of the last iteration."""
    os.makedirs(directory, exist_ok=True)
    assert giza_main(FORCE.format(d=directory, r=restart, extra=extra).split(), "mgiza") == 0
    return merged_blocks(f"{directory}/t.A3.final.part*")


def agreement(forced, n_test: int):
    """(test sentences whose links equal the training run's, links in common / training links)."""
    trained = links(read_a3("out/t.A3.final"))[-n_test:]
    ours = links(forced[1:1 + n_test])
    same = sum(a == b for a, b in zip(ours, trained))
    common = sum(len(set(a) & set(b)) for a, b in zip(ours, trained))
    return same, common / max(1, sum(len(b) for b in trained))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("restart34")
    cwd = os.getcwd()
    try:
        prepare(root)
    finally:
        os.chdir(cwd)
    return root


@pytest.fixture
def work(trained, monkeypatch):
    monkeypatch.chdir(trained)
    return trained


def n_new_pairs():
    return len(open("new.snt").read().splitlines()) // 3


def check_complete(blocks, directory):
    """Every pair aligned, in order, with its lengths; finite scores; no NaN in `.perp`."""
    snt = open("new.snt").read().splitlines()
    assert [b.pair_no for b in blocks] == list(range(1, n_new_pairs() + 1))
    for k, b in enumerate(blocks):
        assert (b.l, b.m) == (len(snt[3 * k + 1].split()), len(snt[3 * k + 2].split()))
        assert math.isfinite(b.score) and b.score >= 0
    perp = open(f"{directory}/t.perp").read().lower()
    assert "nan" not in perp and "inf" not in perp


def test_force_alignment_restart_11_reproduces_training(work):
    """The recipe of GIZA_FORMATS.md §7. The loaded Model 4 scores the first (only) iteration and
    its alignment is written, so the training sentences get the training alignment back up to
    the start alignment (Model 2 under `.a3.final` instead of the HMM) and hill-climbing's local
    optima: measured 244/248 identical sentences, 0.998 of the links; thresholds leave room for
    thread-independent but float-sensitive ties."""
    forced = force_align("f11", 11, RESTART_11)
    check_complete(forced, "f11")
    assert links(forced[:1])[0] != []  # the unseen pair gets real links
    same, common = agreement(forced, 248)
    assert common >= 0.98, (same, common)
    assert same >= 0.9 * 248, (same, common)
    _, _, rows = read_perp("f11/t.perp")
    assert [r.model for r in rows] == ["Model4"]
    files = {n[2:] for n in os.listdir("f11") if ".part" not in n}
    assert {"t3.final", "a3.final", "d3.final", "n3.final", "p0_3.final", "d4.final", "D4.final",
            "A3.final"} <= files


@pytest.mark.parametrize("restart, extra, names", [
    (9, "-m3 1 -m4 0", ["Model3"]),
    (10, "-m3 0 -m4 1", ["T3To4"]),
])
def test_force_alignment_restart_9_and_10(work, restart, extra, names):
    """Model 3 from the loaded n, d tables (9), and Model 4 initialised from them (10; no D4):
    the alignment is the Model-3 hill-climb under the loaded tables, which agrees with the
    training Model-4 alignment less closely than restart 11 (measured 0.977 of the links)."""
    directory = f"f{restart}"
    forced = force_align(directory, restart, extra)
    check_complete(forced, directory)
    _, common = agreement(forced, 248)
    assert common >= 0.95, common
    _, _, rows = read_perp(f"{directory}/t.perp")
    assert [r.model for r in rows] == names


def test_restart_7_and_8_initialise_model_3(work):
    """R = 7 (HMM start: needs -previoushmm; the training run wrote `.hhmm.5`) and R = 8 (Model 2
    start from the a-table, transfer to Model 3) train and align every pair (measured 0.970 and
    0.967 of the training links)."""
    for restart, extra in ((7, "-previoushmm out/t.hhmm.5 -m3 1 -m4 0"), (8, "-m3 1 -m4 0")):
        forced = force_align(f"f{restart}", restart, extra)
        check_complete(forced, f"f{restart}")
        assert agreement(forced, 248)[1] >= 0.94


def test_restart_7_8_need_iterations_and_restart_11_skips_model_3(work, capsys):
    base = FORCE.split("-restart")[0].format(d="ferr")
    os.makedirs("ferr", exist_ok=True)
    assert giza_main(f"{base} -restart 8 -m3 0 -m4 0 {PREVIOUS}".split(), "mgiza") == 1
    assert "needs Model 3/4 iterations" in capsys.readouterr().err
    extra = "-previousd4 out/t.d4.final -previousd42 out/t.D4.final"
    assert giza_main(f"{base} -restart 11 -m3 1 -m4 1 {PREVIOUS} {extra}".split(), "mgiza") == 0
    _, _, rows = read_perp("ferr/t.perp")
    assert [r.model for r in rows] == ["Model4"]  # the models before the restarted one are skipped


def test_restart_11_without_iterations_aligns_under_the_loaded_model(work):
    os.makedirs("f0", exist_ok=True)
    args = FORCE.format(d="f0", r=11, extra=RESTART_11.replace("-m4 1", "-m4 0")).split()
    assert giza_main(args, "mgiza") == 0
    blocks = merged_blocks("f0/t.A3.0.part*")
    assert len(blocks) == n_new_pairs()
    assert agreement(blocks, 248)[1] >= 0.98


# ----------------------------------------------------------------------------- helpers (small references)
def tiny_corpus(src, tgt, src_words, tgt_words):
    def side(sents):
        ids = np.array([w for s in sents for w in s], np.int32)
        off = np.zeros(len(sents) + 1, np.int64)
        off[1:] = np.cumsum([len(s) for s in sents])
        return Side(ids, off)
    return ParallelCorpus(side(src), side(tgt), Vocab.from_words(src_words), Vocab.from_words(tgt_words))


def test_position_table_counts_links_and_normalises_over_i():
    corpus = tiny_corpus([[1, 2], [2, 1], [1]], [[1, 2, 1], [2, 1, 2], [1]], ["NULL", "a", "bb"], ["NULL", "x", "y"])
    positions = np.array([1, 2, 0, 2, 2, 1, 1], np.int32)
    table = position_table(corpus, positions, compact=True)
    counts = {}
    lm = [(2, 3), (2, 3), (1, 1)]
    k = 0
    for l, m in lm:
        for j in range(1, m + 1):
            counts[(l, j, positions[k])] = counts.get((l, j, positions[k]), 0) + 1
            k += 1
    for l, m in lm:
        for j in range(1, m + 1):
            total = sum(counts.get((l, j, i), 0) for i in range(l + 1))
            for i in range(l + 1):
                assert table.value(i, j, l, 99) == pytest.approx(counts.get((l, j, i), 0) / total)


def test_continued_model_pads_new_words_blocks_and_displacements():
    params = FertilityParams(maxfertility=4)
    train = tiny_corpus([[1, 2]], [[1, 2, 3]], ["NULL", "a", "bb"], ["NULL", "x", "y", "z"])
    start = np.array([1, 2, 2], np.int32)
    old = train_fertility(train, _uniform_ttable(train), start, [("3", 1)], np.array([0, 1, 1]),
                          np.array([0, 1, 1, 1]), params, 1)
    old.p0 = -1.0
    new = tiny_corpus([[1, 3, 2], [2, 1]], [[1, 2, 3, 4, 1], [3, 2, 1]], ["NULL", "a", "bb", "cc"],
                      ["NULL", "x", "y", "z", "w"])
    start = np.array([1, 0, 3, 2, 0, 2, 1, 1], np.int32)
    model = continued_model(old, new, np.array([0, 1, 1, 2]), np.array([0, 1, 1, 1, 2]), params, start)
    assert np.allclose(model.n_table[:3], old.n_table)
    assert np.allclose(model.n_table[3], old.n_by_length[2])  # "cc": byte length 2 like "bb"
    assert model.p0 == pytest.approx(1 - 2 / (8 - 2))  # p1 = phi_0 / (m - phi_0)
    for i in range(3):  # the block m = 3 is copied (rows i <= 2), row 3 is new: uniform
        for j in range(1, 4):
            want = old.d_table.value(i, j, 2, 3, distortion=True) if i <= 2 else 1 / 3
            assert model.d_table.value(i, j, 3, 3, distortion=True) == pytest.approx(want)
    assert model.d_table.value(1, 2, 3, 5, distortion=True) == pytest.approx(1 / 5)
    assert model.half == 5 and len(model.db) == 3 * 11 and len(model.db_seen) == 3
    assert model.db_seen.tolist() == [0, 0, 0]  # never trained as Model 4


def _uniform_ttable(corpus):
    from eegiza.ttable import TTable
    table = TTable.from_corpus(corpus)
    table.probs = np.full(table.nnz, 0.5)
    return table


def test_read_position_table_fills_known_blocks_and_keeps_others_uniform(tmp_path):
    corpus = tiny_corpus([[1, 2], [1, 2, 1]], [[1, 1], [1]], ["NULL", "a", "b"], ["NULL", "x"])
    (tmp_path / "a").write_text("1 1 2 100 0.75\n2 1 2 100 0.25\n0 2 2 100 1\n")
    table = read_position_table(str(tmp_path / "a"), corpus, False, True, 1e-7, "a")
    assert table.value(1, 1, 2, 2) == 0.75 and table.value(0, 1, 2, 2) == 1e-7 and table.value(0, 2, 2, 2) == 1
    assert table.value(2, 1, 3, 1) == pytest.approx(1 / 4)  # l = 3 is not in the file
    (tmp_path / "d").write_text("1 0 100 2 0.5\n2 0 100 2 0.5\n")
    table = read_position_table(str(tmp_path / "d"), corpus, True, True, 1e-7, "d")
    assert table.value(0, 2, 3, 2, distortion=True) == 0.5 and table.value(1, 1, 3, 2, distortion=True) == 1e-7


# ----------------------------------------------------------------------------- file set of a full-dump run
def test_full_dump_run_writes_the_reference_file_set(tmp_path, monkeypatch):
    for name in ("toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt", "toy.en_de.cooc", "toy.en.vcb.classes",
                 "toy.de.vcb.classes"):
        shutil.copy(REF / name, tmp_path / name)
    (tmp_path / "full").mkdir()
    monkeypatch.chdir(tmp_path)
    args = ("-s toy.en.vcb -t toy.de.vcb -c toy.en_toy.de.snt -CoocurrenceFile toy.en_de.cooc -o full/en-de "
            "-m1 5 -m2 2 -mh 5 -m3 3 -m4 3 -t1 1 -t2 1 -th 1 -t345 1 -t2to3 1")
    assert giza_main(args.split()) == 0
    assert sorted(os.listdir("full")) == sorted(os.listdir(REF / "full"))
    for kind, counts in (("a2.2", True), ("ahmm.5", True), ("a3.final", False), ("a3.1", False),
                         ("d3.final", False)):
        ours, theirs = (column_sums(path, kind.startswith("d")) for path in (f"full/en-de.{kind}",
                                                                              REF / "full" / f"en-de.{kind}"))
        lines = open(f"full/en-de.{kind}").read().splitlines()
        assert all(re.fullmatch(r"\d+ \d+ \d+ 100 \S+" if not kind.startswith("d") else r"\d+ \d+ 100 \d+ \S+", x)
                   for x in lines), kind
        # count tables: every target token adds 1 to its column (j, l); probability tables sum to 1
        assert ours.keys() == theirs.keys(), kind
        assert all(abs(ours[k] - theirs[k]) <= 1e-3 * theirs[k] for k in ours), kind
        if not counts:
            assert all(abs(v - 1) < 1e-4 for v in ours.values()), kind


def column_sums(path, distortion: bool) -> dict:
    """Sum of the values of each column of an a-table (j, l; over i) or d-table (i, m; over j)."""
    sums: dict = {}
    for line in open(path):
        c0, c1, l, m, v = line.split()
        key = (c1, m) if distortion else (c1, l)
        sums[key] = sums.get(key, 0.0) + float(v)
    return sums


# ----------------------------------------------------------------------------- HMM dumps
def test_hmm_position_counts_are_the_hmm_posteriors():
    """`.ahmm.N` counts = the posterior of a_j = i (NULL states -> 0) summed per (i, j, l), here
    against the enumeration of every state sequence (reference_models.hmm_paths)."""
    from reference_models import alignment_of, hmm_paths
    from eegiza.giza.inputs import hmm_position_counts
    from eegiza.models import hmm
    from eegiza.ttable import TTable, sentence_slots
    rng = np.random.default_rng(3)
    src, tgt = [[1, 2], [2, 3, 1], [3, 1]], [[1, 2, 2], [3, 1], [2, 3, 1]]
    corpus = tiny_corpus(src, tgt, ["NULL", "a", "b", "c"], ["NULL", "x", "y", "z"])
    table = TTable.from_corpus(corpus, "float64")   # compared with float64 sums to 1e-9
    table.probs = rng.uniform(0.1, 1.0, table.nnz)
    src_class = np.array([0, 1, 2, 1], np.int32)
    jump = rng.uniform(0.5, 2.0, (3, hmm.N_JUMP_BUCKETS))
    start = rng.uniform(0.5, 2.0, hmm.MAX_JUMP + 1)
    layout = ATable.layout(corpus.src.offsets, corpus.tgt.offsets, ignore_l=False, ignore_m=True)
    slots, slot_off = sentence_slots(corpus, table)
    got = hmm_position_counts(corpus.src.ids, corpus.src.offsets, corpus.tgt.offsets, slots, slot_off, table.probs,
                              1e-7, src_class, jump, start, 0.3, 0.2, layout.keys, layout.dim_l, layout.dim_m,
                              layout.offsets)
    t = {(e, f): table.prob(e, f) for e in range(4) for f in range(1, 4) if table.prob(e, f) > 0}
    want = {}
    for s, f in zip(src, tgt):
        paths = list(hmm_paths(s, f, t, src_class, jump, start, 0.3, 0.2))
        z = sum(p for _, p in paths)
        for seq, p in paths:
            for j, i in enumerate(alignment_of(seq)):
                want[(i, j + 1, len(s))] = want.get((i, j + 1, len(s)), 0.0) + p / z
    layout.probs = got
    for (i, j, l), v in want.items():
        assert layout.value(i, j, l, 0) == pytest.approx(v, rel=1e-9)
    assert got.sum() == pytest.approx(sum(len(f) for f in tgt))


def test_hhmm_start_counts_round_trip(tmp_path):
    """The start counts go into the class-0 block as jumps i + 1 and come back as the start."""
    from eegiza.giza.restart import read_previous_jumps
    from eegiza.giza.writers import format_hhmm
    from eegiza.models import hmm
    jump = np.full((2, hmm.N_JUMP_BUCKETS), 1e-6)
    jump[1, hmm.MAX_JUMP + 1] += 4.0
    start = np.full(hmm.MAX_JUMP + 1, 1e-6)
    start[0] += 3.0
    start[2] += 0.5
    text = format_hhmm(jump, ["0", "7"], hmm.MAX_JUMP, offset=1e-6, start=start)
    assert "previousClass: 0  1:3; 3:0.5; \n" in text and text.endswith("FULL-SUM: 7.5\n")
    (tmp_path / "h").write_text(text)
    got_jump, got_start = read_previous_jumps(str(tmp_path / "h"), ["0", "7"], 2)
    assert np.allclose(got_start, start) and np.allclose(got_jump[1], jump[1])
