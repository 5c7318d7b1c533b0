"""The progress lines' time left (eegiza.cli.progress): iterations weighted by what they cost."""
import io

from eegiza.cli import progress
from eegiza.cli.progress import FINAL_PASS_WEIGHT, ITERATION_WEIGHT, Reporter, lockstep_models, remaining_weight
from eegiza.config import AlignerConfig


def test_remaining_weight_follows_the_schedule_the_final_pass_and_a_resume():
    w = ITERATION_WEIGHT
    per_direction = 5 * w["Model1"] + 5 * w["HMM"] + 3 * w["Model3"] + w["T3To4"] + 2 * w["Model4"]
    config = AlignerConfig(schedule="1^5 H^5 3^3 4^3")
    assert remaining_weight(config) == 2 * per_direction + FINAL_PASS_WEIGHT["34"]
    # resumed after Model 1 and the HMM in both directions, and without a final alignment pass
    no_final = AlignerConfig(schedule="1^5 H^5 3^3 4^3", final_alignment_pass=False)
    assert remaining_weight(no_final, (10, 10)) == 2 * (3 * w["Model3"] + w["T3To4"] + 2 * w["Model4"])
    # the HMM's Viterbi pass always runs after an HMM-only schedule
    assert remaining_weight(AlignerConfig(schedule="1^2 H^1", final_alignment_pass=False)) == \
        2 * (2 * w["Model1"] + w["HMM"]) + FINAL_PASS_WEIGHT["12H"]


def _training_reporter(monkeypatch, clock, agreement):
    """A Reporter on a string stream, its time read from ``clock[0]``, told that training of
    ``1^1 H^1`` (both directions, by ``agreement`` or not) starts now."""
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    stream = io.StringIO()
    reporter = Reporter(stream=stream)
    config = AlignerConfig(schedule="1^1 H^1", agreement=agreement)
    reporter.expect_iterations(4, remaining_weight(config), lockstep_models(config))
    return reporter, stream


def test_time_left_weighs_iterations_by_cost_from_the_first_iteration_on(monkeypatch):
    clock = [100.0]
    reporter, stream = _training_reporter(monkeypatch, clock, agreement=False)
    clock[0] += 10.0   # 6 s of set-up (word classes, tables), then the iteration's own 4 s
    reporter.progress("[fwd] Model1 iteration 1: perplexity 50 (4.00 s)")
    # 4 s for a weight of 0.4: the rest (0.4 + 2 HMM iterations + the Viterbi pass = 3.4) takes 34 s,
    # where counting iterations alike from the start would say 30 s
    assert stream.getvalue().rstrip().endswith("[1/4, about 34 s left]")
    clock[0] += 4.0
    reporter.progress("[rev] Model1 iteration 1: perplexity 50 (4.00 s)")
    assert stream.getvalue().rstrip().endswith("[2/4, about 30 s left]")   # 8 s for 0.8, 3.0 left


def test_lockstep_iterations_count_both_directions_on_the_forward_line(monkeypatch):
    clock = [0.0]
    reporter, stream = _training_reporter(monkeypatch, clock, agreement=True)
    clock[0] += 8.0   # one joint iteration of both directions; both lines come at its end
    reporter.progress("[fwd] Model1 iteration 1: perplexity 50 (8.00 s)")
    assert stream.getvalue().rstrip().endswith("[1/4, about 30 s left]")   # 8 s for 0.8 of 3.8
    reporter.progress("[rev] Model1 iteration 1: perplexity 50 (8.00 s)")
    assert stream.getvalue().rstrip().endswith("[2/4, about 30 s left]")
