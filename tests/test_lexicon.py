"""``eegiza lexicon``: direction, order, threshold and the GIZA t-tables of a saved model's lexicon."""
import numpy as np
import pytest

from eegiza import Aligner, AlignerConfig
from eegiza.cli.main import main
from eegiza.formats.giza import read_ttable, read_vcb
from eegiza.lexicon import HEADER

# "a" is translated as "x" half the time and as "y" otherwise, but "x" only ever comes from "a":
# p(x|a) is about 1/2 while p(a|x) is about 1. Swapped columns would show it.
SRC = ["a c", "a c", "c", "b", "b c"]
TGT = ["x w", "y w", "w", "v", "v w"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lexicon")
    model = Aligner(AlignerConfig(schedule="1^10", agreement=False, cognate_lambda=0.0)).train(SRC, TGT)
    model.save(tmp / "m.npz")
    return tmp, model


def read_lexicon(path):
    lines = path.read_text().splitlines()
    return lines[0], [(s, t, float(p), float(q)) for s, t, p, q in (line.split("\t") for line in lines[1:])]


def test_lexicon_direction_is_right_on_an_unambiguous_corpus(saved):
    tmp, model = saved
    assert main(["lexicon", str(tmp / "m.npz"), "-o", str(tmp / "lex.tsv"), "--min-prob", "0.05"]) == 0
    header, rows = read_lexicon(tmp / "lex.tsv")
    assert header == HEADER and header.startswith("# source\ttarget\tp(target|source)\tp(source|target)")
    by_pair = {(s, t): (p, q) for s, t, p, q in rows}
    p_x_given_a, p_a_given_x = by_pair[("a", "x")]
    assert 0.3 < p_x_given_a < 0.7 and p_a_given_x > 0.8 and p_a_given_x > p_x_given_a + 0.3
    assert by_pair[("b", "v")][0] > 0.8 and by_pair[("c", "w")][0] > 0.8
    assert ("x", "a") not in by_pair and all(s in {"a", "b", "c"} for s, _, _, _ in rows)
    for s, t, p, q in rows:
        assert p == pytest.approx(model.translation_probability(s, t), rel=1e-5)
        assert q == pytest.approx(model.translation_probability(s, t, reverse=True), rel=1e-5)
        assert max(p, q) >= 0.05


def test_lexicon_is_sorted_by_source_then_probability(saved):
    tmp, _ = saved
    assert main(["lexicon", str(tmp / "m.npz"), "-o", str(tmp / "all.tsv"), "--min-prob", "0"]) == 0
    _, rows = read_lexicon(tmp / "all.tsv")
    keys = [(s, -p) for s, _, p, _ in rows]
    assert keys == sorted(keys) and len({s for s, *_ in rows}) == 3
    assert main(["lexicon", str(tmp / "m.npz"), "-o", str(tmp / "some.tsv"), "--min-prob", "0.05"]) == 0
    _, fewer = read_lexicon(tmp / "some.tsv")
    assert len(rows) > len(fewer)


def test_giza_tables_on_request(saved):
    tmp, model = saved
    assert main(["lexicon", str(tmp / "m.npz"), "-o", str(tmp / "l.tsv"), "--giza-t", str(tmp / "g")]) == 0
    src_words = {v.id: v.word for v in read_vcb(tmp / "g.src.vcb")}
    tgt_words = {v.id: v.word for v in read_vcb(tmp / "g.tgt.vcb")}
    e, f, p = read_ttable(tmp / "g.fwd.t")
    table = {(src_words.get(int(a), "NULL"), tgt_words[int(b)]): float(c) for a, b, c in zip(e, f, p)}
    assert table[("a", "x")] == pytest.approx(model.translation_probability("a", "x"), rel=1e-5)
    e, f, p = read_ttable(tmp / "g.rev.t")
    rev = {(tgt_words.get(int(a), "NULL"), src_words[int(b)]): float(c) for a, b, c in zip(e, f, p)}
    assert rev[("x", "a")] > 0.8 and np.all(p > 1e-7)


def test_lexicon_of_a_missing_model_names_the_file(tmp_path, capsys):
    assert main(["lexicon", str(tmp_path / "none.npz"), "-o", str(tmp_path / "l.tsv")]) == 2
    assert f"{tmp_path / 'none.npz'}: no such model file" in capsys.readouterr().err
    assert not (tmp_path / "l.tsv").exists()
