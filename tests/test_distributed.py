"""Issue 17: EM on a Dask cluster (LocalCluster of 2 worker processes) gives the local run's
tables and alignments bit for bit, for the full default schedule, also when a worker is killed
during training."""
import lzma
import os
import signal
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import LocalCluster  # noqa: E402

from eegiza.api import Aligner  # noqa: E402
from eegiza.corpus import corpus_from_sentences  # noqa: E402
from eegiza.distributed.engine import DaskEngine, _ENGINES, close_engines  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "eegiza" / "demo_data"
N_LINES = 300


def _lines(name):
    with lzma.open(DEMO / name, "rt", encoding="utf-8") as fh:
        return [next(fh).split() for _ in range(N_LINES)]


@pytest.fixture(scope="module")
def corpus():
    return corpus_from_sentences(_lines("train.en.xz"), _lines("train.fr.xz"))


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c
    close_engines()


# small enough to be fast, every model of the default schedule, word classes included
SETTINGS = dict(schedule="1^2 H^2 3^2 4^2", word_classes=4, threads=2)


@pytest.fixture(scope="module")
def local_run(corpus):
    model = Aligner(**SETTINGS).train_corpus(corpus)
    return model, model.align_corpus(corpus)


def _distributed_run(corpus, address, before_gather=None, settings=None):
    engine = DaskEngine(address)
    engine.before_gather = before_gather
    _ENGINES[address] = engine
    try:
        model = Aligner(scheduler=address, **(settings or SETTINGS)).train_corpus(corpus)
        alignment = model.align_corpus(corpus)
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


def test_identical_to_local(corpus, cluster, local_run):
    model, alignment, engine = _distributed_run(corpus, cluster.scheduler_address)
    _assert_identical(local_run, (model, alignment))
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


def test_lost_scheduler_saves_the_last_iteration(tmp_path, capsys):
    from eegiza.cli.main import main
    for side, name in (("en", "train.en.xz"), ("fr", "train.fr.xz")):
        (tmp_path / f"c.{side}").write_text("\n".join(" ".join(s) for s in _lines(name)) + "\n", encoding="utf-8")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    address = cluster.scheduler_address
    stopped = []

    def stop_scheduler(engine, label):
        if label.startswith("HMM") and not stopped:
            stopped.append(label)
            cluster.sync(cluster.scheduler.close)

    engine = _ENGINES[address] = DaskEngine(address)
    engine.before_gather = stop_scheduler
    try:
        rc = main(["align", str(tmp_path / "c.en"), str(tmp_path / "c.fr"), "-o", str(tmp_path / "out" / "x"),
                   "--scheduler", address, "--schedule", "1^2 H^3 3^1 4^1", "--word-classes", "4", "--quiet"])
    finally:
        _ENGINES.pop(address, None)
        try:
            engine.client.close()
            cluster.close()
        except Exception:
            pass
    err = capsys.readouterr().err
    checkpoint = tmp_path / "out" / "x.checkpoint.npz"
    assert rc == 2 and stopped and "lost the Dask scheduler" in err and checkpoint.exists()
    assert f'--continue {checkpoint} --schedule "H^3 3^1 4^1"' in err
    assert main(["align", str(tmp_path / "c.en"), str(tmp_path / "c.fr"), "-o", str(tmp_path / "out" / "y"),
                 "--continue", str(checkpoint), "--schedule", "H^3 3^1 4^1", "--quiet"]) == 0


def test_independent_directions_identical(corpus, cluster):
    """Without agreement each direction's own E-step runs on the shards (and the HMM's Viterbi pass)."""
    settings = dict(schedule="1^2 H^2", word_classes=4, threads=2, agreement=False)
    local = Aligner(**settings).train_corpus(corpus)
    local_alignment = local.align_corpus(corpus)
    model, alignment, engine = _distributed_run(corpus, cluster.scheduler_address, settings=settings)
    for name in ("fwd", "rev"):
        a, b = getattr(local, name), getattr(model, name)
        assert np.array_equal(a.ttable.probs, b.ttable.probs) and np.array_equal(a.jump, b.jump)
    assert np.array_equal(local_alignment.fwd_scores, alignment.fwd_scores)
    for key in local_alignment.symmetrized:
        assert all(np.array_equal(x, y) for x, y in zip(local_alignment.symmetrized[key], alignment.symmetrized[key]))
    assert {"HMM E-step fwd", "HMM E-step rev", "alignment fwd"} <= {e.label for e in engine.log}
