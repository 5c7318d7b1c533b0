"""The ``eegiza`` command end to end: align, eval, errors."""
import lzma
import subprocess
import sys

import numpy as np
import pytest

from eegiza.cli.demo import demo_files
from eegiza.cli.main import main
from eegiza.formats.pharaoh import read_pharaoh


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    files = demo_files()
    n = 1500
    src = lzma.decompress(files["train.en.xz"].read_bytes()).decode().splitlines()[:n]
    tgt = lzma.decompress(files["train.fr.xz"].read_bytes()).decode().splitlines()[:n]
    src += files["test.en"].read_text().splitlines()
    tgt += files["test.fr"].read_text().splitlines()
    src[3] = ""  # an empty side must give an empty output line
    (tmp / "c.en").write_text("\n".join(src) + "\n")
    (tmp / "c.fr").write_text("\n".join(tgt) + "\n")
    return tmp, len(src), src, tgt


def test_align_writes_every_file_and_eval_scores_it(small_corpus, capsys):
    tmp, n, src, tgt = small_corpus
    prefix = tmp / "out"
    code = main(["align", str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(prefix), "--lowercase",
                 "--schedule", "1^3 H^2", "--heuristics", "all", "--threads", "2"])
    assert code == 0
    for ext in ["fwd", "rev", "gdfa", "gdf", "gd", "inter", "union"]:
        lines = read_pharaoh(f"{prefix}.{ext}")
        assert len(lines) == n, ext
        assert lines[3] == []
        for k in (0, n - 1):
            assert all(i < len(src[k].split()) and j < len(tgt[k].split()) for i, j in lines[k])
    fwd, rev = read_pharaoh(f"{prefix}.fwd"), read_pharaoh(f"{prefix}.rev")
    assert all(len({j for _, j in s}) == len(s) for s in fwd)   # one source per target word
    assert all(len({i for i, _ in s}) == len(s) for s in rev)   # one target per source word
    inter, union = read_pharaoh(f"{prefix}.inter"), read_pharaoh(f"{prefix}.union")
    assert all(set(a) == set(f) & set(r) for a, f, r in zip(inter, fwd, rev))
    assert all(set(a) == set(f) | set(r) for a, f, r in zip(union, fwd, rev))
    capsys.readouterr()
    assert main(["eval", str(demo_files()["test.gold"]), f"{prefix}.gdfa", "--tail"]) == 0
    out = capsys.readouterr().out
    aer = float(out.split()[1])
    assert 0 < aer < 40


def test_joint_input_gives_the_same_alignment(small_corpus):
    tmp, n, src, tgt = small_corpus
    (tmp / "joint.txt").write_text("".join(f"{s} ||| {t}\n" for s, t in zip(src, tgt)))
    main(["align", "--joint", str(tmp / "joint.txt"), "-o", str(tmp / "j"), "--lowercase", "--schedule", "1^2 H^1",
          "--quiet"])
    main(["align", str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(tmp / "p"), "--lowercase", "--schedule",
          "1^2 H^1", "--quiet"])
    assert (tmp / "j.gdfa").read_text() == (tmp / "p.gdfa").read_text()


def test_bad_input_is_reported_with_file_and_line_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "s").write_text("a b\nc\n")
    (tmp_path / "t").write_text("x\n")
    code = main(["align", str(tmp_path / "s"), str(tmp_path / "t"), "-o", str(tmp_path / "o")])
    assert code == 2
    assert f"{tmp_path / 't'}:2" in capsys.readouterr().err
    assert not list(tmp_path.glob("o.*"))


def test_bad_schedule_is_reported(tmp_path, capsys):
    (tmp_path / "s").write_text("a\n")
    (tmp_path / "t").write_text("x\n")
    code = main(["align", str(tmp_path / "s"), str(tmp_path / "t"), "-o", str(tmp_path / "o"), "--schedule", "H^5 1^5"])
    assert code == 2 and "out of order" in capsys.readouterr().err


def test_module_entry_point_help_lists_options():
    out = subprocess.run([sys.executable, "-m", "eegiza", "align", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for option in ["--schedule", "--lowercase", "--threads", "--joint", "--max-sentence-length", "--heuristics"]:
        assert option in out


def test_align_with_an_embedding_prior_reports_it(small_corpus, capsys):
    tmp, n, src, tgt = small_corpus
    rng = np.random.default_rng(0)
    for side, lines in (("en", src), ("fr", tgt)):
        words = sorted({w.lower() for line in lines for w in line.split()})
        vectors = rng.normal(size=(len(words), 8))
        (tmp / f"{side}.vec").write_text(f"{len(words)} 8\n" + "".join(
            w + " " + " ".join(f"{x:.4f}" for x in v) + "\n" for w, v in zip(words, vectors)))
    prefix = tmp / "emb"
    code = main(["align", str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(prefix), "--lowercase", "--schedule",
                 "1^2 H^1", "--src-vectors", str(tmp / "en.vec"), "--tgt-vectors", str(tmp / "fr.vec"),
                 "--mapping", "none", "--no-prior-calibrate", "--prior-lambda", "5"])
    assert code == 0
    err = capsys.readouterr().err
    assert "embedding prior: lambda fwd 5, rev 5" in err
    assert len(read_pharaoh(f"{prefix}.gdfa")) == n


def test_fast_preset_trains_model1_and_hmm_only_with_posterior_decoding(small_corpus, capsys, tmp_path):
    """--fast: the HMM-only schedule with posterior-decoded output, the profile at the end; an option
    given explicitly (here --hmm-link-posterior) still wins over the preset."""
    tmp, n, src, tgt = small_corpus
    assert main(["align", str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(tmp_path / "fast"), "--lowercase",
                 "--fast"]) == 0
    err = capsys.readouterr().err
    assert "HMM iteration 5" in err and "Model3" not in err and "Model4" not in err
    assert "per-phase profile" in err and "HMM (fwd+rev, agreement)" in err
    fast = read_pharaoh(f"{tmp_path}/fast.fwd")
    assert main(["align", str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(tmp_path / "viterbi"), "--lowercase",
                 "--fast", "--hmm-link-posterior", "0"]) == 0
    viterbi = read_pharaoh(f"{tmp_path}/viterbi.fwd")
    assert len(fast) == len(viterbi) == n
    assert fast != viterbi
    assert all(len(links) <= len(tgt[k].split()) for k, links in enumerate(fast))   # one link a target word


def test_a_large_corpus_trains_the_fast_preset_unless_a_schedule_is_given(small_corpus, monkeypatch, capsys):
    from eegiza import presets
    tmp, n, _, _ = small_corpus
    monkeypatch.setattr(presets, "LARGE_CORPUS_PAIRS", n - 1)   # this corpus counts as large
    files = [str(tmp / "c.en"), str(tmp / "c.fr")]
    capsys.readouterr()
    assert main(["align", *files, "-o", str(tmp / "large"), "--lowercase", "--progress"]) == 0
    assert f"the default from {n - 1:,} pairs on" in capsys.readouterr().err
    assert main(["align", *files, "-o", str(tmp / "fast"), "--lowercase", "--fast", "--quiet"]) == 0
    assert (tmp / "large.gdfa").read_text() == (tmp / "fast.gdfa").read_text()
    # a schedule given (or a corpus below the threshold) trains what is asked
    assert main(["align", *files, "-o", str(tmp / "asked"), "--lowercase", "--schedule", "1^2 H^2 3^1",
                 "--progress"]) == 0
    assert "pairs on" not in capsys.readouterr().err
    assert (tmp / "asked.gdfa").read_text() != (tmp / "fast.gdfa").read_text()
    monkeypatch.setattr(presets, "LARGE_CORPUS_PAIRS", n + 1)
    assert main(["align", *files, "-o", str(tmp / "small"), "--lowercase", "--progress"]) == 0
    assert "pairs on" not in capsys.readouterr().err
