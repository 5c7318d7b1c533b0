"""``eegiza align --save-model/--scores/--posteriors`` and ``eegiza align-with`` end to end."""
import io
import lzma
import math
import sys

import pytest

from eegiza import AlignmentModel
from eegiza.cli.demo import demo_files
from eegiza.cli.main import main
from eegiza.formats.pharaoh import read_pharaoh


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alignwith")
    files = demo_files()
    src = lzma.decompress(files["train.en.xz"].read_bytes()).decode().splitlines()[:600]
    tgt = lzma.decompress(files["train.fr.xz"].read_bytes()).decode().splitlines()[:600]
    src[5] = ""                                   # an empty pair: empty fields, never a dropped line
    (tmp / "c.en").write_text("\n".join(src) + "\n")
    (tmp / "c.fr").write_text("\n".join(tgt) + "\n")
    code = main(["align", str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(tmp / "out"), "--lowercase",
                 "--schedule", "1^3 H^3", "--threads", "2", "--save-model", str(tmp / "m.npz"), "--quiet",
                 "--scores", str(tmp / "out.scores"), "--posteriors", str(tmp / "out.post"),
                 "--posteriors-dir", "both"])
    assert code == 0
    return tmp, src, tgt


def test_align_with_reproduces_the_training_run(trained):
    tmp, src, tgt = trained
    code = main(["align-with", str(tmp / "m.npz"), str(tmp / "c.en"), str(tmp / "c.fr"), "-o", str(tmp / "new"),
                 "--quiet", "--scores", str(tmp / "new.scores"), "--posteriors", str(tmp / "new.post")])
    assert code == 0
    for ext in ("fwd", "rev", "gdfa", "scores", "post"):
        assert (tmp / f"new.{ext}").read_text() == (tmp / f"out.{ext}").read_text(), ext
    assert len(read_pharaoh(tmp / "new.gdfa")) == len(src)


def test_scores_file_has_a_header_and_one_line_per_input_line(trained):
    tmp, src, _ = trained
    lines = (tmp / "out.scores").read_text().splitlines()
    assert lines[0].startswith("# log P(tgt|src)\tlog P(src|tgt)\t") and "HMM forward-algorithm" in lines[0]
    rows = lines[1:]
    assert len(rows) == len(src) and rows[5] == "\t\t\t"
    model = AlignmentModel.load(tmp / "m.npz")
    expected = model.scores(src[:3], [x for x in (tmp / "c.fr").read_text().splitlines()[:3]])
    for row, exp in zip(rows[:3], expected):
        values = [float(x) for x in row.split("\t")]
        assert values == pytest.approx(exp, abs=1e-6) and all(v < 0 for v in values)


def test_posterior_lines_are_parallel_to_the_links(trained):
    tmp, src, _ = trained
    for post_name, links_name in (("out.post", "out.gdfa"), ("out.post.fwd", "out.fwd"), ("out.post.rev", "out.rev")):
        post_lines = (tmp / post_name).read_text().splitlines()
        links = read_pharaoh(tmp / links_name)
        assert len(post_lines) == len(links) == len(src)
        for line, sent in zip(post_lines, links):
            entries = [x.split(":") for x in line.split()]
            assert [tuple(map(int, e[0].split("-"))) for e in entries] == sent
            assert all(0.0 <= float(e[1]) <= 1.0 for e in entries)
    fwd = [float(x.split(":")[1]) for line in (tmp / "out.post.fwd").read_text().splitlines() for x in line.split()]
    assert 0.5 < sum(fwd) / len(fwd) < 1.0      # mostly confident, not all 1


def test_align_with_stdin_to_stdout_and_line_buffered(trained, monkeypatch, capsys):
    tmp, src, tgt = trained
    expected = (tmp / "out.gdfa").read_text().splitlines()[:4]
    text = "".join(f"{s} ||| {t}\n" for s, t in zip(src[:4], tgt[:4]))
    for extra in ([], ["--line-buffered"]):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
        capsys.readouterr()
        assert main(["align-with", str(tmp / "m.npz"), "--joint", "-", "-o", "-"] + extra) == 0
        assert capsys.readouterr().out.splitlines() == expected


def test_align_with_unseen_words_and_bad_model_file(trained, capsys):
    tmp, _, _ = trained
    (tmp / "u.en").write_text("qqq the zzz house\n")
    (tmp / "u.fr").write_text("la www maison\n")
    assert main(["align-with", str(tmp / "m.npz"), str(tmp / "u.en"), str(tmp / "u.fr"), "-o", str(tmp / "u"),
                 "--quiet", "--scores", str(tmp / "u.scores")]) == 0
    assert all(math.isfinite(float(x)) for x in (tmp / "u.scores").read_text().splitlines()[1].split("\t"))
    (tmp / "bad.npz").write_text("not a model")
    assert main(["align-with", str(tmp / "bad.npz"), str(tmp / "u.en"), str(tmp / "u.fr"), "-o",
                 str(tmp / "v")]) == 2
    assert f"{tmp / 'bad.npz'}: not an eegiza model" in capsys.readouterr().err
    assert not (tmp / "v.gdfa").exists()


def test_align_continue_from_a_saved_model(trained):
    tmp, src, tgt = trained
    (tmp / "more.en").write_text("\n".join(src + ["the qqqnew house ."]) + "\n")
    (tmp / "more.fr").write_text("\n".join(tgt + ["la zzznouvelle chambre ."]) + "\n")
    assert main(["align", str(tmp / "more.en"), str(tmp / "more.fr"), "-o", str(tmp / "cont"), "--quiet",
                 "--continue", str(tmp / "m.npz"), "--schedule", "H^2", "--save-model", str(tmp / "c.npz"),
                 "--scores", str(tmp / "cont.scores")]) == 0
    links = read_pharaoh(tmp / "cont.gdfa")
    assert len(links) == len(src) + 1 and len((tmp / "cont.scores").read_text().splitlines()) == len(src) + 2
    model = AlignmentModel.load(tmp / "c.npz")
    assert model.config.schedule == "H^2" and model.config.lowercase          # the saved model's options kept
    assert "qqqnew" in model.src_vocab.index and "zzznouvelle" in model.tgt_vocab.index
    assert [x.model for x in model.fwd.log] == [model.fwd.log[0].model] * 2     # two more HMM iterations only
    old = AlignmentModel.load(tmp / "m.npz")
    assert model.fwd.log[-1].perplexity < old.fwd.log[-1].perplexity * 1.05


@pytest.mark.parametrize("policy", ["skip", "fallback"])
def test_over_long_pairs_keep_their_score_and_posterior_lines(trained, policy):
    """Pairs left out of training as too long still get a score line (under the trained model) and
    a posterior line parallel to their (possibly empty) links: no line is dropped."""
    tmp, src, tgt = trained
    n = 120
    (tmp / "l.en").write_text("\n".join(src[:n]) + "\n")
    (tmp / "l.fr").write_text("\n".join(tgt[:n]) + "\n")
    out = tmp / f"long_{policy}"
    assert main(["align", str(tmp / "l.en"), str(tmp / "l.fr"), "-o", str(out), "--lowercase", "--quiet",
                 "--schedule", "1^2 H^1", "--max-sentence-length", "8", "--on-long", policy,
                 "--scores", f"{out}.scores", "--posteriors", f"{out}.post"]) == 0
    long_lines = [k for k in range(n) if max(len(src[k].split()), len(tgt[k].split())) > 8]
    assert long_lines and len(long_lines) < n
    rows = (tmp / f"long_{policy}.scores").read_text().splitlines()[1:]
    post = (tmp / f"long_{policy}.post").read_text().splitlines()
    links = read_pharaoh(f"{out}.gdfa")
    assert len(rows) == len(post) == len(links) == n
    for k in long_lines:
        if src[k] and tgt[k]:
            assert all(math.isfinite(float(x)) and float(x) < 0 for x in rows[k].split("\t"))
        assert [tuple(map(int, e.split(":")[0].split("-"))) for e in post[k].split()] == links[k]
    assert all(links[k] == [] for k in long_lines) if policy == "skip" else any(links[k] for k in long_lines)
