"""Tests of eegiza.formats.giza against the reference files written by the original GIZA++."""
import glob
import os
from pathlib import Path

import numpy as np
import pytest

from eegiza.giza import files as g

REF = Path(__file__).resolve().parents[1].parent / "shared" / "giza-reference"


def ref_bytes(name):
    return (REF / name).read_bytes()


# --------------------------------------------------------------------------- cpp_float
@pytest.mark.parametrize("value, text", [
    (0.05561591, "0.0556159"), (5.335724e-07, "5.33572e-07"), (1.0, "1"), (2.689417, "2.68942"),
    (0.999, "0.999"), (-1.0, "-1"), (1e-06, "1e-06"), (64.0, "64"), (123456789.0, "1.23457e+08"),
    (0.0001, "0.0001"), (0.00001, "1e-05"), (float("inf"), "inf"), (0.0, "0"),
    (np.float32(0.4), "0.4"), (1234567.0, "1.23457e+06"), (100000.0, "100000"),
])
def test_cpp_float_matches_cpp_default_stream_format(value, text):
    assert g.cpp_float(value) == text


def test_cpp_float_reproduces_every_number_in_reference_tables():
    # a number printed by C++ re-prints identically: checks rounding and exponent formatting
    for path in glob.glob(str(REF / "full" / "en-de.t*")) + glob.glob(str(REF / "full" / "en-de.n3.*")):
        if path.endswith(".vcb"):
            continue
        for line in Path(path).read_text().splitlines():
            for tok in line.split()[1:]:
                assert g.cpp_float(float(tok)) == tok, (path, tok)


# --------------------------------------------------------------------------- vcb / snt / cooc
def test_vcb_round_trip_and_content(tmp_path):
    entries = g.read_vcb(REF / "toy.en.vcb")
    assert entries[0] == g.VcbEntry(2, "the", 42)
    assert [e.id for e in entries] == list(range(2, 2 + len(entries)))
    g.write_vcb(tmp_path / "a.vcb", entries)
    assert (tmp_path / "a.vcb").read_bytes() == ref_bytes("toy.en.vcb")


def test_vcb_reader_accepts_tabs_and_moses_unk_line(tmp_path):
    p = tmp_path / "moses.vcb"
    p.write_bytes("1\tUNK\t0\n2\tthe\t42\n3\tgroß\t1\n".encode())
    entries = g.read_vcb(p)
    assert entries == [g.VcbEntry(1, "UNK", 0), g.VcbEntry(2, "the", 42), g.VcbEntry(3, "groß", 1)]
    g.write_vcb(tmp_path / "b.vcb", entries, sep="\t")
    assert (tmp_path / "b.vcb").read_bytes() == p.read_bytes()


@pytest.mark.parametrize("text, needle", [("0 NULL 3\n", "line 1"), ("2 a 1\n2 b 1\n", "line 2"),
                                          ("x a 1\n", "line 1"), ("2\n", "line 1")])
def test_vcb_reader_rejects_bad_lines(tmp_path, text, needle):
    p = tmp_path / "bad.vcb"
    p.write_text(text)
    with pytest.raises(g.GizaFormatError, match=needle):
        g.read_vcb(p)


def test_snt_round_trip_byte_identical(tmp_path):
    pairs = g.read_snt(REF / "toy.en_toy.de.snt")
    assert len(pairs) == 40
    assert pairs[0] == g.SntPair(1.0, [2, 3, 4, 5], [2, 3, 4, 5])
    g.write_snt(tmp_path / "a.snt", pairs)
    assert (tmp_path / "a.snt").read_bytes() == ref_bytes("toy.en_toy.de.snt")


def test_snt_one_line_mgiza_form_and_stop_rule(tmp_path):
    p = tmp_path / "one.snt"
    p.write_text("1\n2 3\n4\n2 | 5 6 | 7 8\n0.5 # 9 * 10\na|b\n1\n2\n3\n")
    pairs = g.read_snt(p)
    assert pairs == [g.SntPair(1.0, [2, 3], [4]), g.SntPair(2.0, [5, 6], [7, 8]), g.SntPair(0.5, [9], [10])]


def test_snt_arrays_fast_and_slow_paths_agree(tmp_path):
    fast = g.read_snt_arrays(REF / "toy.en_toy.de.snt")
    slow = g._snt_arrays_slow(REF / "toy.en_toy.de.snt")
    for name in ("counts", "src_ids", "src_offsets", "tgt_ids", "tgt_offsets"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name))
    pairs = g.read_snt(REF / "toy.en_toy.de.snt")
    k = 7
    assert fast.src_ids[fast.src_offsets[k]:fast.src_offsets[k + 1]].tolist() == pairs[k].src
    assert fast.tgt_ids[fast.tgt_offsets[k]:fast.tgt_offsets[k + 1]].tolist() == pairs[k].tgt


def test_snt_errors_name_file_and_line(tmp_path):
    p = tmp_path / "bad.snt"
    p.write_text("1\n2 3\n4 x\n")
    with pytest.raises(g.GizaFormatError, match=r"bad.snt, line 3"):
        g.read_snt(p)
    with pytest.raises(g.GizaFormatError, match=r"line 3"):
        g.read_snt_arrays(p)
    p.write_text("1\n2 3\n")
    with pytest.raises(g.GizaFormatError, match="incomplete"):
        g.read_snt(p)


def test_cooc_read_write_round_trip(tmp_path):
    e, f = g.read_cooc(REF / "toy.en_de.cooc")
    assert (e[0], f[0]) == (0, 2)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(e))
    # writer sorts and removes duplicates
    g.write_cooc(tmp_path / "x.cooc", np.concatenate([e[order], e[:5]]), np.concatenate([f[order], f[:5]]))
    assert (tmp_path / "x.cooc").read_bytes() == ref_bytes("toy.en_de.cooc")


def test_cooc_reader_requires_sorted_pairs(tmp_path):
    p = tmp_path / "u.cooc"
    p.write_text("0 2\n3 4\n1 5\n")
    with pytest.raises(g.GizaFormatError, match="line 3"):
        g.read_cooc(p)
    p.write_text("0 2\n3 x\n")
    with pytest.raises(g.GizaFormatError, match="line 2"):
        g.read_cooc(p)


# --------------------------------------------------------------------------- classes / cats
def test_classes_round_trip_and_class_ids(tmp_path):
    pairs = g.read_classes(REF / "toy.de.vcb.classes")
    g.write_classes(tmp_path / "c", pairs)
    assert (tmp_path / "c").read_bytes() == ref_bytes("toy.de.vcb.classes")
    word_class, label_id = g.class_ids(pairs)
    first_label = pairs[0][1]
    assert label_id[first_label] == 1 and word_class[pairs[0][0]] == 1
    assert sorted(label_id.values()) == list(range(1, len(label_id) + 1))


def test_cats_read_and_rewrite(tmp_path):
    text = (REF / "toy.de.vcb.classes.cats").read_text(encoding="utf-8")
    cats = g.read_cats(REF / "toy.de.vcb.classes.cats")
    assert cats[0] == ["$"] and cats[1] == [] and cats[35] == ["groß"]
    words_in_classes = {w for w, _ in g.read_classes(REF / "toy.de.vcb.classes")}
    assert {w for ws in cats.values() for w in ws} - {"$"} == words_in_classes
    trailer = text[text.index(";I have"):]
    g.write_cats(tmp_path / "c.cats", cats, 50, 36, trailer)
    assert (tmp_path / "c.cats").read_text(encoding="utf-8") == text


# --------------------------------------------------------------------------- alignments
def test_a3_reader_parses_reference_block():
    s = g.read_a3(REF / "full" / "en-de.A3.final")
    assert len(s) == 40
    first = s[0]
    assert (first.pair_no, first.l, first.m, first.score_text) == (1, 4, 4, "0.215463")
    assert first.target_words == ["das", "haus", "ist", "klein"]
    assert first.links == [("NULL", []), ("the", [1]), ("house", [2]), ("is", [3]), ("small", [4])]
    assert g.a3_to_pharaoh(first) == "0-0 1-1 2-2 3-3"
    assert [b.pair_no for b in s] == list(range(1, 41))


@pytest.mark.parametrize("name", sorted(os.path.basename(p) for p in glob.glob(str(REF / "full" / "en-de.A*")))
                         + ["../moses/de-en.A3.final"])
def test_a3_files_round_trip_through_viterbi(tmp_path, name):
    path = REF / "full" / name
    blocks = g.read_a3(path)
    g.write_a3(tmp_path / "x", blocks)
    assert (tmp_path / "x").read_bytes() == path.read_bytes()
    # rebuild every block from (words, viterbi, float score): same bytes, score printed like C++
    text = "".join(g.format_a3_block(b.pair_no, b.score, [w for w, _ in b.links[1:]], b.target_words, b.viterbi())
                   for b in blocks)
    assert text.encode() == path.read_bytes()


def test_a3_null_alignment_and_pharaoh_conversion(tmp_path):
    block = g.format_a3_block(8, 0.05561591, ["the", "man", "reads", "the", "book"],
                              ["der", "mann", "liest", "das", "buch"], [2, 2, 3, 1, 5])
    assert block == ("# Sentence pair (8) source length 5 target length 5 alignment score : 0.0556159\n"
                     "der mann liest das buch \n"
                     "NULL ({ }) the ({ 4 }) man ({ 1 2 }) reads ({ 3 }) the ({ }) book ({ 5 }) \n")
    block2 = g.format_a3_block(9, 5.335724e-07, ["a"], ["x", "y"], [0, 1])
    (tmp_path / "a.A3").write_text(block + block2)
    assert g.convert_a3_to_pharaoh(tmp_path / "a.A3", tmp_path / "a.txt") == 2
    assert (tmp_path / "a.txt").read_text() == "0-3 1-0 1-1 2-2 4-4\n0-1\n"
    assert "alignment score : 5.33572e-07" in block2


def test_a3_reader_rejects_inconsistent_block(tmp_path):
    p = tmp_path / "bad.A3"
    p.write_text("# Sentence pair (1) source length 1 target length 2 alignment score : 1\n"
                 "a b \nNULL ({ }) x ({ 1 }) \n")
    with pytest.raises(g.GizaFormatError, match="line 3"):
        g.read_a3(p)


def test_compact_alignment_format_round_trip(tmp_path):
    viterbis = [[2, 2, 3, 1, 5], [0, 0], [1]]
    g.write_compact(tmp_path / "c", viterbis)
    assert (tmp_path / "c").read_text() == "1 0 1 1 2 2 0 3 4 4 \n\n0 0 \n"
    assert g.read_compact(tmp_path / "c") == [[(1, 0), (1, 1), (2, 2), (0, 3), (4, 4)], [], [(0, 0)]]


# --------------------------------------------------------------------------- tables
def _ref_tables(pattern):
    return sorted(p for p in glob.glob(str(REF / "full" / pattern)) if not p.endswith(".vcb"))


def test_ttables_round_trip(tmp_path):
    for path in _ref_tables("en-de.t[123h]*"):
        e, f, p = g.read_ttable(path)
        order = np.random.default_rng(1).permutation(len(e))  # writer restores GIZA's order
        g.write_ttable(tmp_path / "t", e[order], f[order], p[order])
        assert (tmp_path / "t").read_bytes() == Path(path).read_bytes(), path


def test_ttable_writer_drops_values_at_or_below_probsmooth(tmp_path):
    g.write_ttable(tmp_path / "t", [1, 0, 1], [3, 2, 2], [0.5, 1e-7, 0.25])
    assert (tmp_path / "t").read_text() == "1 2 0.25\n1 3 0.5\n"


def test_a_and_d_tables_round_trip(tmp_path):
    for path in _ref_tables("en-de.a*"):
        cols = g.read_atable(path)
        order = np.random.default_rng(2).permutation(len(cols[0]))
        g.write_atable(tmp_path / "a", *(c[order] for c in cols))
        assert (tmp_path / "a").read_bytes() == Path(path).read_bytes(), path
    for path in _ref_tables("en-de.d3*"):
        cols = g.read_atable(path)
        order = np.random.default_rng(3).permutation(len(cols[0]))
        g.write_d3table(tmp_path / "d", *(c[order] for c in cols))
        assert (tmp_path / "d").read_bytes() == Path(path).read_bytes(), path


def test_ntables_p0_and_d4_round_trip(tmp_path):
    for path in _ref_tables("en-de.n3*"):
        e, probs = g.read_ntable(path)
        assert probs.shape[1] == 10
        g.write_ntable(tmp_path / "n", e, probs)
        assert (tmp_path / "n").read_bytes() == Path(path).read_bytes(), path
    for path in _ref_tables("en-de.p0_3*"):
        g.write_p0(tmp_path / "p", g.read_p0(path))
        assert (tmp_path / "p").read_bytes() == Path(path).read_bytes(), path
    for path in _ref_tables("en-de.D4*"):
        rows = g.read_d4(path)
        g.write_d4(tmp_path / "D", rows)
        assert (tmp_path / "D").read_bytes() == Path(path).read_bytes(), path
    assert g.read_p0(REF / "full" / "en-de.p0_3.1") == pytest.approx(0.985263)


def test_ntable_prints_small_values_as_zero(tmp_path):
    g.write_ntable(tmp_path / "n", [2], [[0.5, 1e-8, 0.5] + [0.0] * 7])
    assert (tmp_path / "n").read_text() == "2 0.5 0 0.5 0 0 0 0 0 0 0 \n"


def test_d4_text_dump_layout():
    text = g.format_d4_text([("F: 37 E: 9 ", [(1, 2.0)]), ("F: 1 E: 1 ", [(2, 0.0)])],
                            [("F: 3 ", [(-1, 1.0), (2, 0.0), (3, 3.0)])])
    assert text == ("# Translation tables for Model 4 .\n# Table for head of cept.\n"
                    "F: 37 E: 9 \nSUM: 2 \n1 2\n\n"
                    "# Table for non-head of cept.\nF: 3 \nSUM: 4 \n-1 1\n3 3\n\n\nFULL-SUM: 6\n")
    ref = (REF / "full" / "en-de.d4.final").read_text()
    assert ref.startswith("# Translation tables for Model 4 .\n# Table for head of cept.\n"
                          "F: 37 E: 9 \nSUM: 2 \n1 2\n\n")


def test_perp_round_trip_and_layout(tmp_path):
    trn, tst, rows = g.read_perp(REF / "full" / "en-de.perp")
    assert (trn, tst, len(rows)) == (40, 0, 18)
    assert rows[0] == g.PerpRow("Model1", 53.473, None, 309.111, None)
    assert [r.model for r in rows[11:16]] == ["HMM", "THTo3", "Model3", "Model3", "T3To4"]
    g.write_perp(tmp_path / "p", rows, trn, tst)
    assert (tmp_path / "p").read_bytes() == ref_bytes("full/en-de.perp")
    assert g.format_perp([g.PerpRow("Model1", 2.5)], 3).splitlines()[1] == "3\t0\t0\tModel1\t2.5\t\tN/A\t\tN/A\tN/A"


def test_trn_vcb_and_decoder_config(tmp_path):
    for name in ("en-de.trn.src.vcb", "en-de.trn.trg.vcb"):
        g.write_vcb(tmp_path / name, g.read_vcb(REF / "full" / name))
        assert (tmp_path / name).read_bytes() == ref_bytes("full/" + name)
    g.write_decoder_config("full/en-de", "toy.en.vcb", "toy.de.vcb", tmp_path / "dc")
    assert (tmp_path / "dc").read_bytes() == ref_bytes("full/en-de.Decoder.config")
    settings = g.read_decoder_config(tmp_path / "dc")
    assert settings["TTable"] == "en-de.t3.final" and settings["TM_RawDataDir"] == "full/"
    assert g.format_decoder_config("x", "a.vcb", "b.vcb").count("TM_RawDataDir = .\n") == 1


def test_writers_are_atomic(tmp_path):
    target = tmp_path / "out.t"
    target.write_text("old\n")

    def bad_rows():
        yield "# Sentence pair (1) source length 0 target length 0 alignment score : 1\n\nNULL ({ }) \n"
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        g.write_a3(target, bad_rows())
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.t"]


def test_non_utf8_bytes_pass_through(tmp_path):
    p = tmp_path / "l1.vcb"
    p.write_bytes(b"2 gro\xdf 3\n")
    entries = g.read_vcb(p)
    g.write_vcb(tmp_path / "o.vcb", entries)
    assert (tmp_path / "o.vcb").read_bytes() == b"2 gro\xdf 3\n"


def test_cooc_reader_tolerates_blank_lines(tmp_path):
    p = tmp_path / "b.cooc"
    p.write_text("0 2\n\n1 2\n")
    e, f = g.read_cooc(p)
    assert e.tolist() == [0, 1] and f.tolist() == [2, 2]


def test_a3_empty_word_round_trip(tmp_path):
    block = g.format_a3_block(3, 0.5, ["", "b"], ["x", ""], [1, 0])
    assert block.splitlines()[2] == "NULL ({ 2 })  ({ 1 }) b ({ }) "
    (tmp_path / "e.A3").write_text(block)
    s, = g.read_a3(tmp_path / "e.A3")
    assert s.target_words == ["x", ""] and s.links == [("NULL", [2]), ("", [1]), ("b", [])]


def test_vectorised_ttable_lines_match_cpp_float_on_hard_values():
    rng = np.random.default_rng(7)
    hard = [1.0, 0.5, 1e-5, 9.999995e-5, 0.0001, 0.00012345650000000001, 123456.5, 999999.5, 1e6, 99999.95, 2.5,
            1234565.0, 0.1, 1e100, 1e-300, 5e-324, 0.0, -0.25, -3.5e-9, float("nan"), float("inf"), 1.0000005,
            0.9999995, 9.9999949999e-7]
    values = np.concatenate([hard, rng.random(20000) ** 9, 10 ** rng.uniform(-30, 30, 20000),
                             np.round(rng.random(5000), 7), rng.integers(1, 10 ** 7, 5000) / 1e6])
    e = rng.integers(0, 10 ** 6, len(values))
    f = rng.integers(-5, 10 ** 9, len(values))
    expected = "".join(f"{a} {b} {g.cpp_float(v)}\n" for a, b, v in zip(e.tolist(), f.tolist(), values.tolist()))
    assert g.format_ttable_lines(e, f, values) == expected.encode()


def test_g_digits_marks_only_undecidable_values_as_special():
    digits, exponent, special = g.g_digits(np.array([0.0556159, 5.33572e-07, 2.5e-7, 0.125, -7.0]))
    assert digits.tolist() == [556159, 533572, 250000, 125000, -700000]
    assert exponent.tolist() == [-2, -7, -7, -1, 0] and not special.any()
