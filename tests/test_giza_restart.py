"""MGIZA `-restart` / `-previous*` in eegiza's `mgiza` (eegiza.giza.run), and the force-alignment
recipe of GIZA_FORMATS.md §7 with the HMM: train with GIZA++ dumps on ro-en, then align the test
sentences as new text (vocabulary extended like plain2snt-hasvcb.py) from `.thmm.5` + `.hhmm.5`."""
from __future__ import annotations

import glob
import io
import lzma
import math
import os
import re
import shutil

import numpy as np
import pytest

from conftest import SHARED
from reference_models import FLOOR, hmm_parameters
from eegiza.cli.giza import giza_main
from eegiza.cli.giza_tools import merge_alignment_main, plain2snt_main, snt2cooc_main, snt2cooc_out_main
from eegiza.cli.mkcls import mkcls_main
from eegiza.evaluate import aer, read_gold
from eegiza.formats.giza import read_ttable
from eegiza.giza.alignment_files import a3_to_pharaoh, read_a3
from eegiza.giza.table_files import read_hhmm
from eegiza.formats.pharaoh import parse_links
from eegiza.giza.params import parse_giza_args
from eegiza.giza.inputs import GizaRunError
from eegiza.giza.restart import read_previous_fertility, read_previous_jumps, read_previous_ttable, restart_level
from eegiza.giza.writers import IdMap, format_hhmm
from eegiza.models import hmm

DATA = SHARED / "data" / "ro-en"
REF = SHARED / "giza-reference"
N_TRAIN = 2000
TRAIN = ("-s train.ro.vcb -t train.en.vcb -c train.ro_train.en.snt -CoocurrenceFile train.cooc -o out/t "
         "-m1 5 -mh 5 -m3 0 -m4 0 -nodumps 0 -hmmdumpfrequency 5 -t1 5")
FORCE = ("out/t.gizacfg -c new.snt -o {d}/t -s new.ro.vcb -t new.en.vcb -m1 0 -m2 0 -mh {mh} -m3 0 -m4 0 "
         "-coocurrence new.cooc -restart 6 -previoust out/t.thmm.5 -previoushmm out/t.hhmm.5 -ncpus 2 "
         "-sourcevocabularyclasses train.ro.vcb.classes -targetvocabularyclasses train.en.vcb.classes")
UNSEEN = ("qqxro zzyro", "qqxen zzyen")  # a pair of words no training sentence has


def extend_vocabulary(old_vcb: str, text: str, new_vcb: str) -> list[list[int]]:
    """plain2snt-hasvcb.py: keep the old ids, look a word up as is, then lower-cased, append new
    words with fresh ids (count 1) to a copy of the vcb; returns the id lines of ``text``."""
    lines = open(old_vcb, encoding="utf-8").read().splitlines(keepends=True)
    ids = {line.split()[1]: int(line.split()[0]) for line in lines}
    last = max(ids.values())
    out = []
    for sentence in open(text, encoding="utf-8"):
        row = []
        for word in sentence.split():
            if word not in ids and word.lower() in ids:
                word = word.lower()
            if word not in ids:
                last += 1
                ids[word] = last
                lines.append(f"{last} {word} 1\n")
            row.append(ids[word])
        out.append(row)
    with open(new_vcb, "w", encoding="utf-8") as fh:
        fh.write("".join(lines))
    return out


def merged_blocks(pattern: str):
    """merge_alignment.py over the part files (written beside them without `.part*`): the A3
    blocks in pair order."""
    buf = io.BytesIO()
    assert merge_alignment_main(sorted(glob.glob(pattern)), buf) == 0
    path = pattern.replace(".part*", "")
    with open(path, "wb") as fh:
        fh.write(buf.getvalue())
    return read_a3(path)


def merged(pattern: str) -> list[list[tuple[int, int]]]:
    """merge_alignment.py over the part files, as Pharaoh links per sentence."""
    return [parse_links(a3_to_pharaoh(b)) for b in merged_blocks(pattern)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """GIZA++ Model 1 + HMM on the first 2,000 ro-en lines + the test lines (lower-cased; GIZA
    source = ro), then the new text (unseen pair + the test lines) numbered with extended vocabularies."""
    root = tmp_path_factory.mktemp("restart")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for lang, test in (("ro", "test.src"), ("en", "test.tgt")):
            with lzma.open(DATA / f"train.{lang}.xz", "rt", encoding="utf-8") as fh:
                lines = [next(fh) for _ in range(N_TRAIN)]
            test_lines = (DATA / test).read_text(encoding="utf-8").splitlines(keepends=True)
            (root / f"train.{lang}").write_text("".join(lines + test_lines).lower(), encoding="utf-8")
            unseen = UNSEEN[0] if lang == "ro" else UNSEEN[1]
            (root / f"new.{lang}").write_text(unseen + "\n" + "".join(test_lines).lower(), encoding="utf-8")
        assert plain2snt_main(["train.ro", "train.en"]) == 0
        for lang in ("ro", "en"):
            assert mkcls_main(["-c50", "-n1", f"-ptrain.{lang}", f"-Vtrain.{lang}.vcb.classes", "opt"]) in (0, None)
        with open("train.cooc", "wb") as out:
            assert snt2cooc_to(out, ["train.ro.vcb", "train.en.vcb", "train.ro_train.en.snt"]) == 0
        os.mkdir("out")
        assert giza_main(TRAIN.split()) == 0
        ro = extend_vocabulary("train.ro.vcb", "new.ro", "new.ro.vcb")
        en = extend_vocabulary("train.en.vcb", "new.en", "new.en.vcb")
        with open("new.snt", "w") as fh:
            fh.write("".join(f"1\n{' '.join(map(str, a))}\n{' '.join(map(str, b))}\n" for a, b in zip(ro, en)))
        assert snt2cooc_main(["new.cooc", "new.ro.vcb", "new.en.vcb", "new.snt"]) == 0
    finally:
        os.chdir(cwd)
    return root


def snt2cooc_to(out, args) -> int:
    """`snt2cooc.out args > out` in-process."""
    import sys
    saved = sys.stdout
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    try:
        return snt2cooc_out_main(args)
    finally:
        sys.stdout.flush()
        sys.stdout.detach()
        sys.stdout = saved


@pytest.fixture
def work(trained, monkeypatch):
    monkeypatch.chdir(trained)
    return trained


def training_links():
    return [parse_links(a3_to_pharaoh(b)) for b in read_a3("out/t.Ahmm.5")]


def test_extended_vocabulary_keeps_old_ids_and_appends_new_words(work):
    old = open("train.ro.vcb").read()
    new = open("new.ro.vcb").read()
    assert new.startswith(old)
    assert new[len(old):] == f"{len(old.splitlines()) + 2} qqxro 1\n{len(old.splitlines()) + 3} zzyro 1\n"


def test_force_alignment_with_one_hmm_iteration_is_as_good_as_training(work):
    os.makedirs("f1", exist_ok=True)
    assert giza_main(FORCE.format(d="f1", mh=1).split(), "mgiza") == 0
    assert sorted(os.path.basename(p) for p in glob.glob("f1/t.Ahmm.1.part*")) == ["t.Ahmm.1.part000",
                                                                                   "t.Ahmm.1.part001"]
    forced = merged("f1/t.Ahmm.1.part*")
    assert len(forced) == 249 and forced[0] != []  # the unseen pair is aligned too
    gold = read_gold(DATA / "test.gold")
    trained_aer = aer(gold, training_links()).aer
    forced_aer = aer(gold, forced).aer
    assert abs(forced_aer - trained_aer) < 0.02, (forced_aer, trained_aer)


def reference_viterbi(src, tgt, t, src_class, jump, start, p_null, smooth):
    """Viterbi of eegiza's HMM (states: real i, NULL twin of i, start NULL) by dynamic programming
    in plain Python, from hmm_parameters of the enumeration reference."""
    l = len(src)
    R, S = hmm_parameters(src, src_class, jump, start, smooth)

    def emit(e, f):
        return math.log(max(t.get((e, f), 0.0), FLOOR))

    neg = -math.inf
    real = [math.log((1 - p_null) * S[i]) + emit(src[i], tgt[0]) for i in range(l)]
    twin = [neg] * l
    first = math.log(p_null) + emit(0, tgt[0])
    back = []
    for f in tgt[1:]:
        ptr_real, new_real = [], []
        for i in range(l):
            best, arg = first + math.log((1 - p_null) * S[i]), ("start",)
            for p in range(l):
                for kind, score in (("real", real[p]), ("twin", twin[p])):
                    v = score + math.log((1 - p_null) * R[p][i])
                    if v > best:
                        best, arg = v, (kind, p)
            new_real.append(best + emit(src[i], f))
            ptr_real.append(arg)
        ptr_twin, new_twin = [], []
        for p in range(l):
            kind, score = ("real", real[p]) if real[p] >= twin[p] else ("twin", twin[p])
            new_twin.append(score + math.log(p_null) + emit(0, f))
            ptr_twin.append((kind, p))
        back.append((ptr_real, ptr_twin))
        first += math.log(p_null) + emit(0, f)
        real, twin = new_real, new_twin
    state = max([(first, ("start",))] + [(v, ("real", i)) for i, v in enumerate(real)] +
                [(v, ("twin", i)) for i, v in enumerate(twin)], key=lambda x: x[0])[1]
    path = [state]
    for ptr_real, ptr_twin in reversed(back):
        if state[0] == "real":
            state = ptr_real[state[1]]
        elif state[0] == "twin":
            state = ptr_twin[state[1]]
        path.append(state)
    return [s[1] + 1 if s[0] == "real" else 0 for s in reversed(path)]


def test_align_only_restart_gives_the_loaded_models_alignment(work):
    """`-mh 0`: no training, the alignment (`.Ahmm.0`) is the Viterbi alignment under the tables as
    read from `.thmm.5` / `.hhmm.5` (the start counts are the class-0 block's jumps d = i + 1)."""
    os.makedirs("f0", exist_ok=True)
    assert giza_main(FORCE.format(d="f0", mh=0).split(), "mgiza") == 0
    forced = merged("f0/t.Ahmm.0.part*")
    assert sorted(os.listdir("f0")) == sorted(["t.gizacfg", "t.Ahmm.0.part000", "t.Ahmm.0.part001", "t.Ahmm.0",
                                               "t.perp", "t.Decoder.config", "t.trn.src.vcb", "t.trn.trg.vcb",
                                               "t.tst.src.vcb", "t.tst.trg.vcb"])
    # the loaded model, read straight from the files (GIZA ids: the extended vcb keeps them)
    e, f, p = read_ttable("out/t.thmm.5")
    t = {(a, b): c for a, b, c in zip(e.tolist(), f.tolist(), p.tolist())}
    word_class = {}
    for line in open("train.ro.vcb.classes", encoding="utf-8"):
        word, label = line.rstrip("\n").split("\t")
        word_class[word] = label
    labels = sorted(set(word_class.values()) | {"0"})
    jump = [[1e-6] * (2 * hmm.MAX_JUMP + 1) for _ in labels]
    start = [1e-6] * (hmm.MAX_JUMP + 1)
    for label, counts in read_hhmm("out/t.hhmm.5"):
        for d, c in counts.items():
            jump[labels.index(label)][min(d, hmm.MAX_JUMP) + hmm.MAX_JUMP] += c
            if label == "0" and 1 <= d <= hmm.MAX_JUMP + 1:
                start[d - 1] += c
    assert max(start) > 1  # the dump holds the start distribution
    vcb = {int(x.split()[0]): x.split()[1] for x in open("new.ro.vcb", encoding="utf-8")}
    src_class = {i: labels.index(word_class.get(w, "0")) for i, w in vcb.items()}
    p_null = 0.4 / 1.4
    pairs = open("new.snt").read().splitlines()
    checked = 0
    for k in range(len(pairs) // 3):
        src, tgt = [int(x) for x in pairs[3 * k + 1].split()], [int(x) for x in pairs[3 * k + 2].split()]
        if len(src) > 14 or len(tgt) > 14:
            continue  # keeps the Python reference fast
        links = reference_viterbi(src, tgt, t, src_class, jump, start, p_null, 0.2)
        assert sorted(forced[k]) == sorted((i - 1, j) for j, i in enumerate(links) if i), k
        checked += 1
    assert checked >= 40
    # and it is (nearly) what training wrote for these sentences
    gold = read_gold(DATA / "test.gold")
    assert abs(aer(gold, forced).aer - aer(gold, training_links()).aer) < 0.01
    same = sum(a == b for a, b in zip(forced[1:], training_links()[-248:]))
    assert same >= 0.85 * 248


# ----------------------------------------------------------------------------- readers and errors (toy data)
@pytest.fixture
def toy(tmp_path, monkeypatch):
    for name in ("toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt", "toy.en_de.cooc", "toy.en.vcb.classes",
                 "toy.de.vcb.classes"):
        shutil.copy(REF / name, tmp_path / name)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


BASE = "-s toy.en.vcb -t toy.de.vcb -c toy.en_toy.de.snt -CoocurrenceFile toy.en_de.cooc"


def test_restart_1_continues_model1_from_the_loaded_table(toy):
    """5 Model-1 iterations = 3 iterations, then a restart from `.t1.3` with 2 more."""
    assert giza_main(f"{BASE} -o out/a -m1 5 -mh 0 -m3 0 -m4 0 -t1 1".split(), "mgiza") == 0
    assert giza_main(f"{BASE} -o out/b -m1 3 -mh 0 -m3 0 -m4 0 -t1 3".split(), "mgiza") == 0
    assert giza_main(f"{BASE} -o out/c -m1 2 -mh 0 -m3 0 -m4 0 -t1 2 -restart 1 -previoust out/b.t1.3".split(),
                     "mgiza") == 0
    e1, f1, p1 = read_ttable("out/a.t1.5")
    e2, f2, p2 = read_ttable("out/c.t1.2")
    assert (e1 == e2).all() and (f1 == f2).all()
    assert np.allclose(p1, p2, rtol=1e-4, atol=1e-6)  # the restart starts from 6-digit probabilities


def test_restart_skips_the_models_before_it(toy):
    assert giza_main(f"{BASE} -o out/b -m1 2 -mh 2 -m3 0 -m4 0 -t1 2 -th 2".split(), "mgiza") == 0
    args = f"{BASE} -o out/r -m1 5 -mh 1 -m3 0 -m4 0 -th 1 -restart 4 -previoust out/b.thmm.2"
    assert giza_main(args.split(), "mgiza") == 0
    names = os.listdir("out")
    assert not any(n.startswith("r.A1") or n.startswith("r.t1") for n in names)
    assert any(n.startswith("r.Ahmm.1.part") for n in names)
    _, _, rows = read_perp_rows("out/r.perp")
    assert rows == ["HMM"]


def read_perp_rows(path):
    from eegiza.giza.table_files import read_perp
    train, test, rows = read_perp(path)
    return train, test, [r.model for r in rows]


@pytest.mark.parametrize("args, message", [
    ("-restart 6", "-restart 6 needs -previoust"),
    ("-restart 2 -previoust x", "continues Model 2"),
    ("-restart 12 -previoust x", "not a restart level"),
    ("-restart 9 -previoust x -previousn y", "-restart 9 needs -previousd"),
])
def test_restart_errors(toy, capsys, args, message):
    assert giza_main(f"{BASE} -o out/e {args}".split(), "mgiza") == 1
    assert message in capsys.readouterr().err


def test_fertility_tables_of_a_restart_in_dense_ids():
    full = REF / "full"
    params, _ = parse_giza_args(["-previousn", str(full / "en-de.n3.final"), "-previousd", str(full / "en-de.d3.final"),
                                 "-previousd42", str(full / "en-de.D4.final"), "-p0", "0.97"], mgiza=True)
    n_lines = [line.split() for line in open(full / "en-de.n3.final")]
    d4_lines = [line.split() for line in open(full / "en-de.D4.final")]
    giza_src = [0] + [int(x[0]) for x in n_lines][::-1]  # dense ids in reverse GIZA order
    src_labels = ["0"] + sorted({x[0] for x in d4_lines} - {"-1", "0"})
    tgt_labels = ["0"] + sorted({x[1] for x in d4_lines} - {"0"})
    ids = IdMap(np.array(giza_src), np.array([0]), src_labels, tgt_labels)
    out = read_previous_fertility(params, ids, len(giza_src))
    assert out["p0"] == pytest.approx(0.97)
    for row in n_lines:
        dense = giza_src.index(int(row[0]))
        assert out["n_table"][dense].tolist() == [float(x) for x in row[1:]]
    assert (out["n_table"][0] == 0).all()
    assert len(out["d3"][0]) == sum(1 for _ in open(full / "en-de.d3.final"))
    half, n_b = out["half"], len(tgt_labels)
    width = 2 * half + 1
    d1 = out["d1"].reshape(len(src_labels), n_b, width)
    db = out["db"].reshape(n_b, width)
    for a, b, delta, prob in d4_lines:
        k = int(delta) + half
        got = db[tgt_labels.index(b), k] if a == "-1" else d1[src_labels.index(a), tgt_labels.index(b), k]
        assert got == float(prob)
    assert out["d1_seen"].sum() == len({(a, b) for a, b, _, _ in d4_lines if a != "-1"})


def test_previous_ttable_and_jumps_map_giza_ids_and_class_labels(tmp_path):
    (tmp_path / "t").write_text("0 5 0.5\n0 9 0.5\n7 5 0.25\n7 9 0.75\n8 9 1\n")  # word 8 is not in the corpus
    ids = IdMap(np.array([0, 7, 3]), np.array([0, 9, 5]), ["0", "16", "4"])
    table = read_previous_ttable(str(tmp_path / "t"), ids, 3)
    assert table.indptr.tolist() == [0, 2, 4, 4]
    assert table.indices.tolist() == [1, 2, 1, 2] and table.probs.tolist() == [0.5, 0.5, 0.75, 0.25]
    jump = np.full((3, 2 * hmm.MAX_JUMP + 1), 1e-6)
    jump[1, hmm.MAX_JUMP - 1] += 2.5
    jump[2, hmm.MAX_JUMP + 3] += 0.5
    extra = ("\n\nDistribution for: previousClass: 99  1:3; \n\nSUM: 3\n"  # a class this run does not have
             "\n\nDistribution for: previousClass: 4  150:2; \n\nSUM: 2\n")  # beyond MAX_JUMP: the end bucket
    (tmp_path / "h").write_text(format_hhmm(jump, ["0", "16", "4"], hmm.MAX_JUMP, offset=1e-6) + extra)
    messages = []
    got, start = read_previous_jumps(str(tmp_path / "h"), ["0", "16", "4"], 3, log=messages.append)
    jump[2, 2 * hmm.MAX_JUMP] += 2.0
    assert np.allclose(got, jump, rtol=1e-6, atol=0) and (start == 1).all()
    assert len(messages) == 1 and "1 class(es)" in messages[0]


def test_mgiza_machine_readable_hhmm_is_refused_with_the_line(tmp_path):
    (tmp_path / "h").write_text("4 1 0 1 18 -101 101 -4 0.00638005 -3 3.65123e-09\n")
    with pytest.raises(ValueError, match=r"h, line 1: .*MGIZA's machine-readable"):
        read_hhmm(tmp_path / "h")


def test_reference_hhmm_reads_back():
    blocks = read_hhmm(REF / "full" / "en-de.hhmm.5")
    text = (REF / "full" / "en-de.hhmm.5").read_text()
    assert len(blocks) == text.count("Distribution for:")
    label, counts = blocks[0]
    assert label == "16" and counts[-1] == pytest.approx(10.2435)
    sums = [float(x) for x in re.findall(r"\nSUM: (\S+)", text)]
    assert [sum(c.values()) for _, c in blocks] == pytest.approx(sums, rel=1e-5)


def test_restart_level_is_zero_for_giza():
    assert restart_level(parse_giza_args([])[0]) == 0
    with pytest.raises(GizaRunError):
        restart_level(parse_giza_args(["-restart", "3", "-previoust", "x"], mgiza=True)[0])
