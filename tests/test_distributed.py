"""Issue 17: EM on a Dask cluster (LocalCluster of 2 worker processes) gives the local run's
tables and alignments bit for bit, for the literal default schedule, also when a worker is killed
during training; a lost scheduler saves a checkpoint from which ``--resume`` gives the
uninterrupted run's result bit for bit (after an HMM, a Model-3 and a Model-4 iteration, and
after training, during the alignment pass)."""
import lzma
import os
import signal
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import LocalCluster  # noqa: E402

from eegiza.api import Aligner  # noqa: E402
from eegiza.checkpoint import Checkpoint  # noqa: E402
from eegiza.config import AlignerConfig  # noqa: E402
from eegiza.corpus import corpus_from_sentences  # noqa: E402
from eegiza.distributed import SchedulerLostError  # noqa: E402
from eegiza.distributed.engine import DaskEngine, _ENGINES, close_engines  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "eegiza" / "demo_data"
N_LINES = 300
N_FERTILITY_POSTERIORS = 40


def _lines(name):
    with lzma.open(DEMO / name, "rt", encoding="utf-8") as fh:
        return [next(fh).split() for _ in range(N_LINES)]


@pytest.fixture(scope="module")
def corpus():
    return corpus_from_sentences(_lines("train.en.xz"), _lines("train.fr.xz"))


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c
    close_engines()


# small enough to be fast, every model of the default schedule, word classes included
SETTINGS = dict(schedule="1^2 H^2 3^2 4^2", word_classes=4, threads=2)


@pytest.fixture(scope="module")
def local_run(corpus):
    model = Aligner(**SETTINGS).train_corpus(corpus)
    return model, model.align_corpus(corpus)


def _distributed_run(corpus, address, before_gather=None, settings=None, extras=False, **train):
    """(model, alignment, engine) of a run on the cluster at ``address``; with ``extras``,
    ``engine.extras`` holds the corpus' scores and link posteriors, computed on the cluster."""
    engine = DaskEngine(address)
    engine.before_gather = before_gather
    _ENGINES[address] = engine
    try:
        model = Aligner(scheduler=address, **(settings or SETTINGS)).train_corpus(corpus, **train)
        alignment = model.align_corpus(corpus)
        if extras:
            engine.extras = (model.corpus_scores(corpus, alignment), model.corpus_posteriors(corpus))
            if model.fwd.last_model in "34":   # and the neighbourhood posteriors (slow: on a few pairs)
                engine.extras += (model.corpus_posteriors(corpus.subset(0, N_FERTILITY_POSTERIORS), fertility=True),)
    finally:
        _ENGINES.pop(address, None)
        engine.client.close()
    return model, alignment, engine


def _assert_identical(local, distributed):
    (lm, la), (dm, da) = local, distributed
    for name in ("fwd", "rev"):
        a, b = getattr(lm, name), getattr(dm, name)
        assert np.array_equal(a.ttable.probs, b.ttable.probs)
        assert np.array_equal(a.jump, b.jump) and np.array_equal(a.start, b.start)
        assert [x.loglik for x in a.log] == [x.loglik for x in b.log]
        fa, fb = a.fertility, b.fertility
        assert np.array_equal(fa.n_table, fb.n_table) and np.array_equal(fa.d_table.probs, fb.d_table.probs)
        assert np.array_equal(fa.d1, fb.d1) and np.array_equal(fa.db, fb.db) and fa.p0 == fb.p0
    assert np.array_equal(la.fwd_scores, da.fwd_scores) and np.array_equal(la.rev_scores, da.rev_scores)
    for a, b in ((la.fwd, da.fwd), (la.rev, da.rev)):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert la.symmetrized.keys() == da.symmetrized.keys()
    for key in la.symmetrized:
        assert all(np.array_equal(x, y) for x, y in zip(la.symmetrized[key], da.symmetrized[key]))


def test_default_schedule_identical_to_local(corpus, cluster):
    """The configuration's defaults as they are (schedule "1^5 H^5 3^3 4^3", agreement, 50 word
    classes, cognate prior, final alignment pass), 2 threads locally, 2 workers on the cluster."""
    config = AlignerConfig(threads=2)
    assert config.schedule == "1^5 H^5 3^3 4^3" and config.agreement
    local = Aligner(config).train_corpus(corpus)
    local_alignment = local.align_corpus(corpus)
    assert [e.model for e in local.fwd.log] == ["Model1"] * 5 + ["HMM"] * 5 + ["Model3"] * 3 + ["T3To4"] + \
        ["Model4"] * 2
    model, alignment, engine = _distributed_run(corpus, cluster.scheduler_address, settings=dict(threads=2),
                                                extras=True)
    _assert_identical((local, local_alignment), (model, alignment))
    _assert_extras_identical(local, local_alignment, corpus, engine.extras)   # HMM posteriors, Model-4 scores
    local_post = local.corpus_posteriors(corpus.subset(0, N_FERTILITY_POSTERIORS), fertility=True)
    post = engine.extras[2]
    assert (post.fwd_model, post.rev_model) == ("4", "4") and len(post.fwd_off) == N_FERTILITY_POSTERIORS + 1
    for key in ("fwd", "fwd_off", "rev", "rev_off"):
        assert np.array_equal(getattr(local_post, key), getattr(post, key))
    assert {"neighbourhood posteriors fwd", "neighbourhood posteriors rev"} <= {e.label for e in engine.log}
    labels = {e.label for e in engine.log}
    assert {"HMM E-step (agreement)", "Model 1 E-step (agreement)", "Model 3/4 iteration fwd",
            "Model 3/4 iteration rev", "alignment fwd", "alignment rev", "Model 3/4 alignment rev"} <= labels
    assert all(e.sent > 0 and e.received > 0 for e in engine.log if "E-step" in e.label)


def test_worker_killed_mid_iteration(corpus, cluster, local_run):
    killed = []

    def kill_one(engine, label):
        if label.startswith("HMM") and not killed:   # tasks are out: kill a worker process (SIGKILL)
            pids = engine.client.run(os.getpid)
            address = sorted(pids)[0]
            killed.append(address)
            os.kill(pids[address], signal.SIGKILL)

    model, alignment, engine = _distributed_run(corpus, cluster.scheduler_address, kill_one)
    assert killed
    from distributed import Client
    with Client(cluster.scheduler_address) as client:   # the killed worker is gone (its nanny started a new one)
        assert killed[0] not in client.scheduler_info()["workers"]
    _assert_identical(local_run, (model, alignment))


def test_scheduler_option_without_dask_names_the_extra(monkeypatch):
    import builtins

    import eegiza.distributed as dist
    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("no distributed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(dist.DistributedUnavailable, match=r'pip install "eegiza\[distributed\]"'):
        dist.engine_for("local:2")


def _stop_at(label, n):
    """A ``before_gather`` hook: the scheduler is 'lost' (SchedulerLostError, as the engine raises it)
    once the n-th step labelled ``label`` has sent its tasks: the interruption falls after a known
    iteration, deterministically."""
    seen = []

    def hook(engine, step):
        if step == label:
            seen.append(step)
            if len(seen) == n:
                raise SchedulerLostError(f"lost the Dask scheduler at {engine.address} (test: at {label} #{n})")
    return hook


# (step interrupted, its occurrence, iterations done then (fwd, rev); "1^2 H^2 3^2 4^2" runs
# 3->3, 3->3, 3->4, 4->4 per direction, the forward direction first)
INTERRUPTIONS = {
    "after an HMM iteration": ("HMM E-step (agreement)", 2, (3, 3)),
    "after a Model-3 iteration": ("Model 3/4 iteration fwd", 2, (5, 4)),
    "after a Model-4 iteration": ("Model 3/4 iteration rev", 4, (8, 7)),
    "in the reverse transfer": ("Model 3/4 transfer rev", 1, (8, 4)),   # its start alignment is saved
}


@pytest.mark.parametrize("where", sorted(INTERRUPTIONS))
def test_resume_is_identical(corpus, cluster, local_run, tmp_path, where):
    label, n, done = INTERRUPTIONS[where]
    path = tmp_path / "x.checkpoint.npz"
    with pytest.raises(SchedulerLostError) as info:
        _distributed_run(corpus, cluster.scheduler_address, _stop_at(label, n), checkpoint=path)
    assert info.value.checkpoint == str(path)
    checkpoint = Checkpoint.load(path)
    assert (checkpoint.fwd.done, checkpoint.rev.done) == done
    # the Models 3/4 start alignment is saved while a direction is in Models 3/4 (not once it is done)
    started = {"after an HMM iteration": (False, False), "after a Model-3 iteration": (True, False)}
    assert (checkpoint.fwd.start is not None, checkpoint.rev.start is not None) == started.get(where, (False, True))
    if where == "after a Model-3 iteration":   # resumed on the cluster
        model, alignment, _ = _distributed_run(corpus, cluster.scheduler_address, resume=path)
    else:                                      # resumed on this machine, twice from the same Checkpoint
        for _ in range(2):
            model = Aligner(**SETTINGS).train_corpus(corpus, resume=checkpoint)
            alignment = model.align_corpus(corpus)
            _assert_identical(local_run, (model, alignment))
        return
    _assert_identical(local_run, (model, alignment))


def _write_corpus(folder):
    for side, name in (("en", "train.en.xz"), ("fr", "train.fr.xz")):
        (folder / f"c.{side}").write_text("\n".join(" ".join(s) for s in _lines(name)) + "\n", encoding="utf-8")
    return [str(folder / "c.en"), str(folder / "c.fr")]


CLI_OPTIONS = ["--schedule", "1^2 H^3 3^1 4^1", "--word-classes", "4", "--heuristics", "all", "--quiet"]


def _outputs(prefix):
    return {p.name.split(".", 1)[1]: p.read_bytes() for p in prefix.parent.glob(prefix.name + ".*")
            if "checkpoint" not in p.name}


def test_lost_scheduler_then_resume(tmp_path, capsys):
    """A real scheduler stopped during the HMM: the checkpoint, then ``--resume`` on this machine
    writes the uninterrupted local run's files byte for byte."""
    from eegiza.cli.main import main
    files = _write_corpus(tmp_path)
    assert main(["align", *files, "-o", str(tmp_path / "ref" / "x"), *CLI_OPTIONS]) == 0
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    address = cluster.scheduler_address
    stopped = []

    def stop_scheduler(engine, label):
        if label.startswith("HMM") and len(stopped) < 2:
            stopped.append(label)
            if len(stopped) == 2:   # the second HMM iteration's tasks are out
                cluster.sync(cluster.scheduler.close)

    engine = _ENGINES[address] = DaskEngine(address)
    engine.before_gather = stop_scheduler
    try:
        rc = main(["align", *files, "-o", str(tmp_path / "out" / "x"), "--scheduler", address, *CLI_OPTIONS])
    finally:
        _ENGINES.pop(address, None)
        try:
            engine.client.close()
            cluster.close()
        except Exception:
            pass
    err = capsys.readouterr().err
    checkpoint = tmp_path / "out" / "x.checkpoint.npz"
    assert rc == 2 and len(stopped) == 2 and "lost the Dask scheduler" in err and checkpoint.exists()
    assert f"--resume {checkpoint}" in err and "fwd 3 of 7 iterations, rev 3 of 7" in err
    assert not list((tmp_path / "out").glob("x.gdfa"))   # no partial outputs
    assert main(["align", *files, "-o", str(tmp_path / "out" / "x"), "--resume", str(checkpoint),
                 "--heuristics", "all", "--quiet"]) == 0   # output options as before, training options the checkpoint's
    ref, out = _outputs(tmp_path / "ref" / "x"), _outputs(tmp_path / "out" / "x")
    assert len(ref) == 7 and ref == out


def test_lost_scheduler_during_alignment_then_resume(tmp_path, capsys, cluster):
    """Lost after training, in the final alignment pass: the checkpoint holds the trained model,
    and resuming (on the cluster) only aligns, to the same files."""
    from eegiza.cli.main import main
    files = _write_corpus(tmp_path)
    address = cluster.scheduler_address
    assert main(["align", *files, "-o", str(tmp_path / "ref" / "x"), *CLI_OPTIONS]) == 0
    engine = _ENGINES[address] = DaskEngine(address)
    engine.before_gather = _stop_at("Model 3/4 alignment rev", 1)
    try:
        rc = main(["align", *files, "-o", str(tmp_path / "out" / "x"), "--scheduler", address, *CLI_OPTIONS])
    finally:
        _ENGINES.pop(address, None)
        engine.client.close()
    err = capsys.readouterr().err
    checkpoint = tmp_path / "out" / "x.checkpoint.npz"
    assert rc == 2 and "fwd 7 of 7 iterations, rev 7 of 7" in err and checkpoint.exists()
    engine = _ENGINES[address] = DaskEngine(address)
    try:
        assert main(["align", *files, "-o", str(tmp_path / "out" / "x"), "--resume", str(checkpoint),
                     "--scheduler", address, "--heuristics", "all", "--quiet"]) == 0
    finally:
        _ENGINES.pop(address, None)
        engine.client.close()
    labels = [e.label for e in engine.log]
    assert "alignment fwd" in labels and not any("E-step" in x or "iteration" in x for x in labels)
    assert _outputs(tmp_path / "ref" / "x") == _outputs(tmp_path / "out" / "x")


def _assert_extras_identical(model, alignment, corpus, extras):
    scores, post = model.corpus_scores(corpus, alignment), model.corpus_posteriors(corpus)
    assert np.array_equal(scores.fwd, extras[0].fwd) and np.array_equal(scores.rev, extras[0].rev)
    for key in ("fwd", "fwd_off", "rev", "rev_off"):
        assert np.array_equal(getattr(post, key), getattr(extras[1], key))
    assert (post.fwd_model, post.rev_model) == (extras[1].fwd_model, extras[1].rev_model) == ("H", "H")


def test_independent_directions_identical(corpus, cluster):
    """Without agreement each direction's own E-step runs on the shards (and the HMM's Viterbi
    pass, the scores and the link posteriors of --scores / --posteriors)."""
    settings = dict(schedule="1^2 H^2", word_classes=4, threads=2, agreement=False)
    local = Aligner(**settings).train_corpus(corpus)
    local_alignment = local.align_corpus(corpus)
    model, alignment, engine = _distributed_run(corpus, cluster.scheduler_address, settings=settings, extras=True)
    _assert_extras_identical(local, local_alignment, corpus, engine.extras)
    assert {"posteriors fwd", "posteriors rev"} <= {e.label for e in engine.log}
    for name in ("fwd", "rev"):
        a, b = getattr(local, name), getattr(model, name)
        assert np.array_equal(a.ttable.probs, b.ttable.probs) and np.array_equal(a.jump, b.jump)
    assert np.array_equal(local_alignment.fwd_scores, alignment.fwd_scores)
    for key in local_alignment.symmetrized:
        assert all(np.array_equal(x, y) for x, y in zip(local_alignment.symmetrized[key], alignment.symmetrized[key]))
    assert {"HMM E-step fwd", "HMM E-step rev", "alignment fwd"} <= {e.label for e in engine.log}


def test_resume_without_agreement_is_identical(corpus, cluster, tmp_path):
    """Without agreement the forward direction trains first: lost in the reverse one's first HMM
    iteration, the checkpoint holds the finished forward model and the reverse one after Model 1."""
    settings = dict(schedule="1^2 H^2", word_classes=4, threads=2, agreement=False)
    local = Aligner(**settings).train_corpus(corpus)
    path = tmp_path / "x.checkpoint.npz"
    with pytest.raises(SchedulerLostError):
        _distributed_run(corpus, cluster.scheduler_address, _stop_at("HMM E-step rev", 1), settings=settings,
                         checkpoint=path)
    checkpoint = Checkpoint.load(path)
    assert (checkpoint.fwd.done, checkpoint.rev.done) == (4, 2)
    model = Aligner(**settings).train_corpus(corpus, resume=path)
    for name in ("fwd", "rev"):
        a, b = getattr(local, name), getattr(model, name)
        assert np.array_equal(a.ttable.probs, b.ttable.probs) and np.array_equal(a.jump, b.jump)
        assert [x.loglik for x in a.log] == [x.loglik for x in b.log]


def test_model2_identical(corpus, cluster):
    """Model 2's E-step (t and a counts) and its Viterbi pass run on the shards: its tables, and
    Models 3/4 started from its alignment, are the local run's."""
    settings = dict(schedule="1^2 2^2 3^1 4^1", word_classes=4, threads=2)
    local = Aligner(**settings).train_corpus(corpus)
    local_alignment = local.align_corpus(corpus)
    model, alignment, engine = _distributed_run(corpus, cluster.scheduler_address, settings=settings)
    for name in ("fwd", "rev"):
        a, b = getattr(local, name), getattr(model, name)
        assert np.array_equal(a.atable.probs, b.atable.probs) and a.base_model == b.base_model == "2"
    _assert_identical((local, local_alignment), (model, alignment))
    labels = {e.label for e in engine.log}
    assert {"Model 2 E-step fwd", "Model 2 E-step rev", "alignment fwd", "alignment rev"} <= labels
