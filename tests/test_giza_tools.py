"""Tests of the GIZA corpus tools (plain2snt, snt2cooc, snt2plain, merge_alignment.py)
against the files the original programs wrote, and against small pure-Python references."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from eegiza.cli import giza_tools as gt
from eegiza.giza import files as g

REF = Path(__file__).resolve().parents[1].parent / "shared" / "giza-reference"


@pytest.fixture
def toy(tmp_path, monkeypatch):
    for name in ("toy.en", "toy.de"):
        shutil.copy(REF / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- plain2snt
def test_plain2snt_matches_reference_byte_for_byte(toy, capsys):
    assert gt.plain2snt_main(["toy.en", "toy.de"]) == 0
    for name in ("toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt", "toy.de_toy.en.snt"):
        assert (toy / name).read_bytes() == (REF / name).read_bytes(), name
    out = capsys.readouterr()
    assert out.out == "toy.en -> toy.en\ntoy.de -> toy.de\n" and out.err == ""


def test_plain2snt_drops_empty_pairs_but_keeps_their_words(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("x y\n\nz  x\t\nw\nignored\n")
    (tmp_path / "b.txt").write_text("p\nq r\n\nr p")
    assert gt.plain2snt_main(["a.txt", "b.txt", "-weight", "0.5"]) == 0
    assert (tmp_path / "a.vcb").read_text() == "2 x 2\n3 y 1\n4 z 1\n5 w 1\n"
    assert (tmp_path / "b.vcb").read_text() == "2 p 2\n3 q 1\n4 r 2\n"
    assert (tmp_path / "a_b.snt").read_text() == "0.5\n2 3 \n2 \n0.5\n5 \n4 2 \n"
    assert (tmp_path / "b_a.snt").read_text() == "0.5\n2 \n2 3 \n0.5\n4 2 \n5 \n"
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "w1:a w2:b"
    assert err[1] == "WARNING: filtered out empty sentence (source: a.txt 0 target: b.txt 2)."
    assert err[2] == "WARNING: filtered out empty sentence (source: a.txt 2 target: b.txt 0)."
    assert "2 sentence pair(s)" in err[3]


def test_plain2snt_mgiza_output_names_and_several_file_pairs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    for name, text in (("d/s1", "a b\n"), ("d/t1", "c\n"), ("s2", "b\n"), ("t2", "d c\n")):
        (tmp_path / name).write_text(text)
    assert gt.plain2snt_main(["d/s1", "d/t1", "s2", "t2", "-weight", "1", "-weight", "3"]) == 0
    assert capsys.readouterr().out == "d/s1 -> s1\nd/t1 -> t1\n"
    assert (tmp_path / "d/s1_t1.snt").read_text() == "1\n2 3 \n2 \n3\n3 \n3 2 \n"
    assert (tmp_path / "d/t1_s1.snt").exists() and (tmp_path / "d/s1.vcb").exists()
    assert gt.plain2snt_main(["d/s1", "d/t1", "-vcb1", "S.vcb", "-vcb2", "T.vcb",
                              "-snt1", "ST.snt", "-snt2", "TS.snt"]) == 0
    assert (tmp_path / "ST.snt").read_text() == "1\n2 3 \n2 \n"
    assert (tmp_path / "T.vcb").read_text() == "2 c 1\n"


def test_plain2snt_usage_error(capsys):
    assert gt.plain2snt_main(["only_one"]) == 1
    assert "Converts plain text into GIZA++ snt-format." in capsys.readouterr().err


# --------------------------------------------------------------------------- snt2cooc
def cooc_reference(pairs, counts_mode=False, limit=0):
    """Pure-Python model of snt2cooc: per e a map f -> count, flushed when it exceeds `limit`."""
    tables, table = [], {}
    for p in pairs:
        for f in p.tgt:
            table[(0, f)] = table.get((0, f), 0) + 1
        for e in p.src:
            for f in p.tgt:
                table[(e, f)] = table.get((e, f), 0) + 1
        if limit and len(table) > limit:
            tables.append(sorted(table.items()))
            table = {}
    tables.append(sorted(table.items()))
    return tables


def test_snt2cooc_out_writes_reference_to_stdout(toy, capsysbinary):
    assert gt.plain2snt_main(["toy.en", "toy.de"]) == 0
    capsysbinary.readouterr()
    assert gt.snt2cooc_out_main(["toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt"]) == 0
    out = capsysbinary.readouterr()
    assert out.out == (REF / "toy.en_de.cooc").read_bytes()
    assert out.err.endswith(b"END.\n")


def test_snt2cooc_mgiza_writes_output_file_first_argument(toy):
    gt.plain2snt_main(["toy.en", "toy.de"])
    assert gt.snt2cooc_main(["x.cooc", "toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt"]) == 0
    assert (toy / "x.cooc").read_bytes() == (REF / "toy.en_de.cooc").read_bytes()
    assert gt.snt2cooc_main(["x.cooc", "toy.en.vcb"]) == 1


def test_snt2cooc_counts_mode(toy, capsysbinary):
    gt.plain2snt_main(["toy.en", "toy.de"])
    capsysbinary.readouterr()
    assert gt.snt2cooc_out_main(["toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt", "-counts"]) == 0
    lines = capsysbinary.readouterr().out.decode().splitlines()
    expected = cooc_reference(g.read_snt(REF / "toy.en_toy.de.snt"))[0]
    assert lines == [f"{c} {e} {f}" for (e, f), c in expected]
    assert lines[0] == "25 0 2"  # 'das' occurs 25 times on the German side


def random_corpus(rng, n, vs, vt):
    pairs = [g.SntPair(1.0, rng.integers(2, vs, rng.integers(0, 7)).tolist(),
                       rng.integers(2, vt, rng.integers(0, 7)).tolist()) for _ in range(n)]
    src = [np.array(p.src, dtype=np.int64) for p in pairs]
    tgt = [np.array(p.tgt, dtype=np.int64) for p in pairs]
    arrays = g.SntArrays(np.ones(n), np.concatenate(src), np.r_[0, np.cumsum([len(x) for x in src])],
                         np.concatenate(tgt), np.r_[0, np.cumsum([len(x) for x in tgt])])
    return pairs, arrays


@pytest.mark.parametrize("chunk", [1, 7, 50, 1 << 20])
def test_cooc_tables_chunked_merge_matches_reference(chunk):
    pairs, arrays = random_corpus(np.random.default_rng(chunk), 300, 40, 30)
    (e, f, c, flushed), = list(gt.cooc_tables(arrays, True, pairs_per_chunk=chunk))
    expected = cooc_reference(pairs)[0]
    assert not flushed
    assert list(zip(e.tolist(), f.tolist())) == [k for k, _ in expected]
    assert c.tolist() == [v for _, v in expected]
    (e2, f2, c2, _), = list(gt.cooc_tables(arrays, False, pairs_per_chunk=chunk))
    assert c2 is None and np.array_equal(e, e2) and np.array_equal(f, f2)


@pytest.mark.parametrize("chunk", [3, 64, 1 << 20])
def test_cooc_tables_flush_points_match_reference(chunk):
    pairs, arrays = random_corpus(np.random.default_rng(5), 400, 30, 25)
    tables = list(gt.cooc_tables(arrays, True, flush_limit=60, pairs_per_chunk=chunk))
    expected = cooc_reference(pairs, True, 60)
    assert len(tables) == len(expected) > 3
    assert [t[3] for t in tables] == [True] * (len(tables) - 1) + [False]
    for (e, f, c, _), exp in zip(tables, expected):
        assert list(zip(zip(e.tolist(), f.tolist()), c.tolist())) == exp


# --------------------------------------------------------------------------- snt2plain
def test_snt2plain_inverts_plain2snt(toy, capsys):
    gt.plain2snt_main(["toy.en", "toy.de"])
    capsys.readouterr()
    assert gt.snt2plain_main(["toy.en.vcb", "toy.de.vcb", "toy.en_toy.de.snt", "pl", "-counts"]) == 0
    assert capsys.readouterr().out == "1\n" * 40
    for out, src in (("pl1.txt", "toy.en"), ("pl2.txt", "toy.de")):
        expected = "".join(" ".join(line.split()) + " \n" for line in (REF / src).read_text().splitlines())
        assert (toy / out).read_text(encoding="utf-8") == expected


def test_snt2plain_unknown_ids_like_the_original(tmp_path, capsys):
    (tmp_path / "s.vcb").write_text("2 a 1\n")
    (tmp_path / "t.vcb").write_text("2 b 1\n")
    (tmp_path / "x.snt").write_text("1\n2 9 1\n2 7\n1\n7\n7 2\n")
    assert gt.snt2plain_main([str(tmp_path / n) for n in ("s.vcb", "t.vcb", "x.snt", "o")]) == 0
    assert (tmp_path / "o1.txt").read_text() == "a 9 UNK \n7 \n"
    # the original prints an unknown target id, then an empty word; later only the empty word
    assert (tmp_path / "o2.txt").read_text() == "b 7  \n b \n"
    assert capsys.readouterr().err == "ERROR: source vocabulary entry 9 unknown.\n"


# --------------------------------------------------------------------------- merge_alignment.py
def split_blocks(path, parts):
    lines = path.read_bytes().splitlines(keepends=True)
    blocks = [b"".join(lines[k:k + 3]) for k in range(0, len(lines), 3)]
    return [b"".join(blocks[p::parts]) for p in range(parts)]


def test_merge_alignment_restores_single_file(tmp_path, capsysbinary):
    ref = REF / "full" / "en-de.A3.final"
    names = []
    for k, data in enumerate(split_blocks(ref, 3)):
        name = tmp_path / f"en-de.A3.final.part{k:03d}"
        name.write_bytes(data)
        names.append(str(name))
    assert gt.merge_alignment_main(names) == 0
    out = capsysbinary.readouterr()
    assert out.out == ref.read_bytes()
    assert out.err == b"Combined 3 files, totally 40 sents \n"


def test_merge_alignment_missing_entry(tmp_path, capsysbinary):
    ref = REF / "full" / "en-de.A3.final"
    parts = split_blocks(ref, 2)
    (tmp_path / "p0").write_bytes(parts[0])  # odd-numbered pairs only
    assert gt.merge_alignment_main([str(tmp_path / "p0")]) == 1
    out = capsysbinary.readouterr()
    assert out.err == b"ERROR! MISSING ENTRy 2\n"
    assert out.out == parts[0].split(b"# Sentence pair (3)")[0]
    (tmp_path / "p1").write_bytes(parts[0])
    assert gt.merge_alignment_main([str(tmp_path / "p0"), str(tmp_path / "p1")]) == 1
    assert b"DUPLICATED ENTRY 1" in capsysbinary.readouterr().err


@pytest.mark.parametrize("entry, argv", [(gt.plain2snt_entry, ["plain2snt.out"]),
                                         (gt.snt2cooc_out_entry, ["snt2cooc.out"]),
                                         (gt.snt2cooc_entry, ["snt2cooc"]),
                                         (gt.snt2plain_entry, ["snt2plain"]),
                                         (gt.merge_alignment_entry, ["merge_alignment.py"])])
def test_console_entries_exit_with_usage_code(entry, argv, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit) as info:
        entry()
    assert info.value.code == 1
    assert capsys.readouterr().err
