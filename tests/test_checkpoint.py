"""Training checkpoints (issue 17, :mod:`eegiza.checkpoint`) without a cluster: a checkpoint read
back resumes to the same model bit for bit, and one written for another corpus, configuration,
version or file kind is refused with a message naming the file. (Resuming after a lost scheduler
mid-training is tested on a LocalCluster in test_distributed.py.)"""
from dataclasses import replace

import numpy as np
import pytest

from eegiza import checkpoint as ckpt_module
from eegiza.api import Aligner
from eegiza.checkpoint import Checkpoint, CheckpointError
from eegiza.config import AlignerConfig
from eegiza.corpus import corpus_from_sentences
from eegiza.train import DirectionState
from test_api import demo_sentences

# no final alignment pass: training then keeps its last iteration's alignment (the output), which a
# checkpoint carries and a resumed run must reproduce
CONFIG = AlignerConfig(schedule="1^2 H^2 3^1 4^1", word_classes=4, threads=2, final_alignment_pass=False)


@pytest.fixture(scope="module")
def trained():
    src, tgt = demo_sentences(200)
    corpus = corpus_from_sentences(src, tgt)
    model = Aligner(CONFIG).train_corpus(corpus)
    return corpus, model, (src, tgt)


def _same_model(a, b):
    for name in ("fwd", "rev"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x.ttable.probs, y.ttable.probs) and np.array_equal(x.jump, y.jump)
        assert [e.loglik for e in x.log] == [e.loglik for e in y.log]
        fx, fy = x.fertility, y.fertility
        assert np.array_equal(fx.n_table, fy.n_table) and np.array_equal(fx.d1, fy.d1) and fx.p0 == fy.p0
        assert all(np.array_equal(u, v) for u, v in zip(fx.output, fy.output))


def test_finished_checkpoint_resumes_to_the_same_model(trained, tmp_path):
    corpus, model, _ = trained
    path = tmp_path / "done.checkpoint.npz"
    Checkpoint.of_model(model, corpus).save(path)
    loaded = Checkpoint.load(path)
    assert (loaded.fwd.done, loaded.rev.done) == (6, 6) and loaded.path == str(path)
    assert np.array_equal(loaded.fwd.model.found[0], model.fwd.found[0])
    resumed = Aligner(replace(CONFIG, threads=1)).train_corpus(corpus, resume=path)   # threads may change
    _same_model(model, resumed)
    a, b = model.align_corpus(corpus), resumed.align_corpus(corpus)
    assert np.array_equal(a.fwd_scores, b.fwd_scores)
    assert all(np.array_equal(x, y) for x, y in zip(a.symmetrized["grow-diag-final-and"],
                                                     b.symmetrized["grow-diag-final-and"]))


def test_partial_state_round_trips(trained, tmp_path):
    """A Models 3/4 state (start alignment, last alignment, no output yet) is read back as written."""
    corpus, model, _ = trained
    start = np.arange(len(corpus.tgt.ids), dtype=np.int32) % 3
    state = DirectionState(5, replace(model.fwd, fertility=replace(model.fwd.fertility, output=None)), start)
    path = tmp_path / "mid.checkpoint.npz"
    Checkpoint.of_state(CONFIG, corpus, (state, DirectionState(4, model.rev))).save(path)
    loaded = Checkpoint.load(path)
    assert loaded.fwd.done == 5 and np.array_equal(loaded.fwd.start, start) and loaded.rev.start is None
    assert loaded.fwd.model.fertility.output is None and loaded.fwd.model.fertility.last_model == "4"
    assert loaded.progress() == "fwd 5 of 6 iterations, rev 4 of 6"


def test_refused_for_another_corpus_config_or_version(trained, tmp_path):
    corpus, model, (src, tgt) = trained
    path = tmp_path / "x.checkpoint.npz"
    Checkpoint.of_model(model, corpus).save(path)
    other = corpus_from_sentences(src[:-1], tgt[:-1])
    with pytest.raises(CheckpointError, match=rf"{path}: written for a training corpus of {len(corpus)} sentence "
                       rf"pairs .* but the corpus gives {len(corpus) - 1}"):
        Checkpoint.load(path).check(other, CONFIG)
    changed = corpus_from_sentences(src[:-1] + ["a different line"], tgt)   # same size, other text
    with pytest.raises(CheckpointError, match="sha256"):
        Checkpoint.load(path).check(changed, CONFIG)
    with pytest.raises(CheckpointError, match=r"schedule '1\^2 H\^2 3\^1 4\^1' -> '1\^2 H\^2'"):
        Aligner(replace(CONFIG, schedule="1^2 H^2")).train_corpus(corpus, resume=path)
    Checkpoint.load(path).check(corpus, replace(CONFIG, scheduler="local:2", threads=1))   # run options: fine
    old = Checkpoint.load(path)
    old.eegiza_version = "0.0.1"
    with pytest.raises(CheckpointError, match=r"written by eegiza 0\.0\.1; this is eegiza "
                       + ckpt_module.__version__.replace(".", r"\.")):
        old.check(corpus, CONFIG)
    edited = Checkpoint.load(path)
    edited.kernels = "0" * 64   # same version, other kernel sources (a development install)
    with pytest.raises(CheckpointError, match=r"\(kernel sources 000000000000\); this is eegiza"):
        edited.check(corpus, CONFIG)


def test_not_a_checkpoint(trained, tmp_path):
    _, model, _ = trained
    model.save(tmp_path / "m.npz")
    with pytest.raises(CheckpointError, match=r"not an eegiza checkpoint \(a saved model"):
        Checkpoint.load(tmp_path / "m.npz")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        Checkpoint.load(tmp_path / "missing.npz")


def test_cli_resume_refuses_other_input(trained, tmp_path, capsys):
    from eegiza.cli.main import main
    corpus, model, (src, tgt) = trained
    (tmp_path / "a.en").write_text("\n".join(src[:-1]) + "\n", encoding="utf-8")
    (tmp_path / "a.fr").write_text("\n".join(tgt[:-1]) + "\n", encoding="utf-8")
    path = tmp_path / "x.checkpoint.npz"
    Checkpoint.of_model(model, corpus).save(path)
    rc = main(["align", str(tmp_path / "a.en"), str(tmp_path / "a.fr"), "-o", str(tmp_path / "o" / "x"),
               "--resume", str(path), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and str(path) in err and f"{tmp_path / 'a.en'} / {tmp_path / 'a.fr'} gives" in err
    assert not (tmp_path / "o" / "x.gdfa").exists()
    rc = main(["align", str(tmp_path / "a.en"), str(tmp_path / "a.fr"), "-o", str(tmp_path / "o" / "x"),
               "--resume", str(path), "--schedule", "1^3", "--quiet"])
    assert rc == 2 and "the configuration differs" in capsys.readouterr().err
    rc = main(["align", str(tmp_path / "a.en"), str(tmp_path / "a.fr"), "-o", str(tmp_path / "o" / "x"),
               "--resume", str(path), "--fast", "--quiet"])
    assert rc == 2 and "give it without --fast" in capsys.readouterr().err
