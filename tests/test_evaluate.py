"""AER / precision / recall / F on a hand-computed case, the test-at-end convention, gold errors."""
import math

import pytest

from eegiza.evaluate import AlignmentScores, GoldSentence, aer, read_gold
from eegiza.formats.pharaoh import AlignmentFormatError, write_pharaoh

GOLD_TEXT = "0-0 1-1 1?2\n0?0 2-1\n\n"
# sentence 1: S = {0-0, 1-1}, P = S + {1-2};  sentence 2: S = {2-1}, P = S + {0-0};  sentence 3: none
HYP = [[(0, 0), (1, 2), (2, 2)], [(0, 0), (2, 1)], []]
# sentence 1: |A| = 3, A∩S = {0-0}, A∩P = {0-0, 1-2};  sentence 2: |A| = 2, A∩S = {2-1}, A∩P = {0-0, 2-1}
# totals: |A| = 5, |S| = 3, |P| = 5, |A∩S| = 2, |A∩P| = 4
# AER = 1 - (2 + 4) / (5 + 3) = 0.25;  P = 4/5;  R = 2/3;  F = 2 (4/5)(2/3) / (4/5 + 2/3) = 8/11


@pytest.fixture
def gold_path(tmp_path):
    path = tmp_path / "test.gold"
    path.write_text(GOLD_TEXT, encoding="utf-8")
    return path


def test_read_gold(gold_path):
    gold = read_gold(gold_path)
    assert len(gold) == 3
    assert gold[0].sure == {(0, 0), (1, 1)}
    assert gold[0].possible == {(0, 0), (1, 1), (1, 2)}  # sure links are possible too
    assert gold[1].sure == {(2, 1)} and gold[1].possible == {(0, 0), (2, 1)}
    assert gold[2].sure == set() and gold[2].possible == set()


def _check_scores(scores: AlignmentScores):
    assert (scores.n_hyp, scores.n_sure, scores.n_possible) == (5, 3, 5)
    assert (scores.hyp_sure, scores.hyp_possible) == (2, 4)
    assert scores.aer == pytest.approx(0.25)
    assert scores.precision == pytest.approx(0.8)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(8 / 11)


def test_scores_hand_computed(gold_path):
    _check_scores(aer(read_gold(gold_path), HYP))


def test_paths_accepted(gold_path, tmp_path):
    write_pharaoh(tmp_path / "hyp", HYP)
    _check_scores(aer(gold_path, tmp_path / "hyp"))


def test_test_set_is_the_tail_of_a_longer_hypothesis(gold_path):
    training = [[(0, 0), (1, 1)], [(3, 3)]]  # these lines would change every score if counted
    _check_scores(aer(gold_path, training + HYP))
    with pytest.raises(ValueError, match="5 lines for 3 gold"):
        aer(gold_path, training + HYP, test_at_end=False)
    with pytest.raises(ValueError, match="2 lines for 3 gold"):
        aer(gold_path, HYP[:2])


def test_empty_hypothesis():
    gold = [GoldSentence(frozenset({(0, 0)}), frozenset({(0, 0)}))]
    scores = aer(gold, [[]])
    assert scores.aer == 1.0 and scores.recall == 0.0 and math.isnan(scores.precision)


@pytest.mark.parametrize("bad", ["0-0 1x2", "0-0 a-1", "1-", "-1-2", "1-2-3", "1?2?3", "0:1"])
def test_read_gold_errors_name_file_and_line(tmp_path, bad):
    path = tmp_path / "bad.gold"
    path.write_text("0-0\n" + bad + "\n", encoding="utf-8")
    with pytest.raises(AlignmentFormatError, match=r"bad\.gold:2: malformed gold token"):
        read_gold(path)
