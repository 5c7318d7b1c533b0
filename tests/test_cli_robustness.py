"""The command-line programs in a new user's hands (issue 15), each case run as a subprocess:
exit status, message and the files left behind. Bad paths fail before any work, long lines are
set aside, progress shows on any stderr, SIGINT/SIGTERM end a run cleanly with no partial output
set (also while writing, and while a compiled kernel holds the main thread), a full disk leaves
nothing partial, and the GIZA-compatible tools fail loudly on missing input."""
import bz2
import gzip
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from eegiza import __version__

SCHEDULE = "1^2 H^2"
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))


def eegiza(*args, stdin=None, preexec_fn=None, cwd=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "eegiza", *map(str, args)], input=stdin, capture_output=True,
                          text=True, env=ENV, preexec_fn=preexec_fn, cwd=cwd, timeout=timeout)


def tool(module, function, prog, *args, cwd=None):
    """A console script (plain2snt.out, mkcls, GIZA++ ...) under its own name."""
    code = f"import sys; sys.argv[0] = {prog!r}; from {module} import {function}; {function}()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=ENV,
                          cwd=cwd, timeout=240)


def python(script, *args, cwd=None):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)], capture_output=True,
                          text=True, env=ENV, cwd=cwd, timeout=240)


def make_corpus(folder, n=200, seed=1, vocab=50, name="c"):
    """A tiny corpus: target = source words prefixed with x, reversed (so alignments are learnable)."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocab)]
    src, tgt = [], []
    for _ in range(n):
        sent = [rng.choice(words) for _ in range(rng.randint(3, 12))]
        src.append(" ".join(sent))
        tgt.append(" ".join("x" + w for w in reversed(sent)))
    return write_pair(folder, src, tgt, name)


def write_pair(folder, src, tgt, name="c"):
    (folder / f"{name}.src").write_text("\n".join(src) + "\n")
    (folder / f"{name}.tgt").write_text("\n".join(tgt) + "\n")
    return folder / f"{name}.src", folder / f"{name}.tgt", src, tgt


def files_in(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def lines_of(path):
    return path.read_text().split("\n")[:-1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    """Long enough to train for several seconds: 12,000 pairs of 10-40 tokens."""
    folder = tmp_path_factory.mktemp("big")
    rng = random.Random(3)
    words = [f"w{i}" for i in range(3000)]
    src, tgt = [], []
    for _ in range(12000):
        sent = [rng.choice(words) for _ in range(rng.randint(10, 40))]
        src.append(" ".join(sent))
        tgt.append(" ".join("x" + w for w in reversed(sent)))
    return write_pair(folder, src, tgt, "big")


@pytest.fixture(scope="module")
def warm(corpus, tmp_path_factory):
    """One ordinary run first: compiles (and caches) the kernels the other cases use."""
    out = tmp_path_factory.mktemp("warm")
    run = eegiza("align", corpus[0], corpus[1], "-o", out / "x", "--schedule", SCHEDULE, "--save-model", out / "m.npz")
    assert run.returncode == 0, run.stderr
    return out


# ----------------------------------------------------------------------------- paths checked first
def test_missing_output_folders_are_created(corpus, warm, tmp_path):
    run = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "new" / "deeper" / "de-en", "--schedule", SCHEDULE,
                 "--quiet")
    assert run.returncode == 0, run.stderr
    assert files_in(tmp_path / "new" / "deeper") == ["de-en.fwd", "de-en.gdfa", "de-en.rev"]


@pytest.mark.parametrize("option", ["-o", "--save-model"])
def test_an_unwritable_output_stops_before_training_naming_the_users_path(corpus, tmp_path, option):
    (tmp_path / "afile").write_text("not a folder\n")
    bad = tmp_path / "afile" / "sub" / "x"
    args = ["-o", bad] if option == "-o" else ["-o", tmp_path / "ok" / "x", "--save-model", f"{bad}.npz"]
    run = eegiza("align", corpus[0], corpus[1], *args, "--schedule", SCHEDULE)
    assert run.returncode == 2
    assert f"cannot write {bad}" in run.stderr and ".tmp" not in run.stderr and ".part" not in run.stderr
    assert "iteration" not in run.stderr and "reading" not in run.stderr     # no work was done
    assert files_in(tmp_path / "ok") == []


def test_missing_input_is_named(tmp_path, corpus):
    run = eegiza("align", corpus[0], tmp_path / "nope.tgt", "-o", tmp_path / "o" / "x")
    assert run.returncode == 2 and f"cannot read {tmp_path / 'nope.tgt'}: no such file" in run.stderr
    assert not (tmp_path / "o").exists()


def test_threads_are_checked(corpus, warm, tmp_path):
    run = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "x", "--threads", "-1")
    assert run.returncode == 2 and "--threads -1" in run.stderr
    run = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "x", "--threads", "99", "--schedule", SCHEDULE)
    assert run.returncode == 0 and "--threads 99 is more than the" in run.stderr


# ----------------------------------------------------------------------------- long and odd lines
@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    _, _, src, tgt = make_corpus(folder, name="base")
    rng = random.Random(7)
    sent = [f"w{rng.randrange(50)}" for _ in range(2000)]
    src[10], tgt[10] = " ".join(sent), " ".join("x" + w for w in reversed(sent))   # 2,000 tokens a side
    src[20], tgt[20] = "w1 w2", " ".join(["xw1"] * 30)                            # ratio 15
    src[30] = ""                                                                     # an empty side
    return write_pair(folder, src, tgt, "long")


def test_a_2000_token_line_is_set_aside_and_aligned_by_the_fallback_in_seconds(long_corpus, warm, tmp_path):
    start = time.perf_counter()
    run = eegiza("align", long_corpus[0], long_corpus[1], "-o", tmp_path / "x", "--schedule", SCHEDULE)
    assert run.returncode == 0, run.stderr
    assert time.perf_counter() - start < 90          # generous: about 3 s here, 441 s without the cap
    assert "2 sentence pair(s) over 250 tokens a side or with a length ratio over 9" in run.stderr
    assert "(lines 11, 21)" in run.stderr and "1 sentence pair(s) with an empty side (lines 31)" in run.stderr
    for ext in ("fwd", "rev", "gdfa"):
        lines = lines_of(tmp_path / f"x.{ext}")
        assert len(lines) == 200 and lines[30] == ""             # one output line per input line
        assert lines[10] and lines[20]                             # aligned by Model 1's rule
    links = [tuple(map(int, x.split("-"))) for x in lines_of(tmp_path / "x.fwd")[10].split()]
    assert max(i for i, _ in links) < 2000 and max(j for _, j in links) < 2000


def test_on_long_skip_leaves_the_lines_empty_and_error_names_the_line(long_corpus, warm, tmp_path):
    run = eegiza("align", long_corpus[0], long_corpus[1], "-o", tmp_path / "s", "--schedule", SCHEDULE,
                 "--on-long", "skip", "--quiet")
    assert run.returncode == 0 and "their output lines are empty" in run.stderr   # warnings survive --quiet
    lines = lines_of(tmp_path / "s.gdfa")
    assert len(lines) == 200 and lines[10] == "" and lines[20] == "" and lines[11] != ""
    run = eegiza("align", long_corpus[0], long_corpus[1], "-o", tmp_path / "e", "--on-long", "error")
    assert run.returncode == 2 and f"{long_corpus[0]}:11: sentence has 2000 tokens" in run.stderr
    assert files_in(tmp_path) == ["s.fwd", "s.gdfa", "s.rev"]
    run = eegiza("align", long_corpus[0], long_corpus[1], "-o", tmp_path / "e", "--on-long", "error",
                 "--max-sentence-length", "0", "--schedule", SCHEDULE)
    assert run.returncode == 2 and ":21: sentence pair has 2 source and 30 target tokens" in run.stderr


def test_joint_lines_with_two_separators_and_compressed_inputs(corpus, warm, tmp_path):
    src, tgt = corpus[2], corpus[3]
    joint = [f"{s} ||| {t}" for s, t in zip(src, tgt)]
    joint[2] += " ||| extra"
    (tmp_path / "j.txt").write_text("\n".join(joint) + "\n")
    run = eegiza("align", "--joint", tmp_path / "j.txt", "-o", tmp_path / "j")
    assert run.returncode == 2 and f"{tmp_path / 'j.txt'}:3: more than one '|||'" in run.stderr
    (tmp_path / "s.bz2").write_bytes(bz2.compress(corpus[0].read_bytes()))
    (tmp_path / "t.txt").write_bytes(gzip.compress(corpus[1].read_bytes()))          # gzip under another name
    run = eegiza("align", tmp_path / "s.bz2", tmp_path / "t.txt", "-o", tmp_path / "z", "--schedule", SCHEDULE,
                 "--quiet")
    assert run.returncode == 0, run.stderr
    assert lines_of(tmp_path / "z.gdfa") == lines_of(warm / "x.gdfa")


# ----------------------------------------------------------------------------- progress
def test_progress_lines_on_a_pipe_and_quiet(corpus, warm, tmp_path):
    run = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "x", "--schedule", SCHEDULE)
    lines = [x for x in run.stderr.splitlines() if " iteration " in x]
    assert len(lines) == 8                                              # 2 directions x 4 iterations
    assert "[fwd] Model1 iteration 1: perplexity" in lines[0] and lines[0].rstrip().endswith("]")
    assert "[8/8]" in lines[-1] and " s)" in lines[-1]                 # schedule position and seconds
    assert "\r" not in run.stderr                                        # no status bar off a terminal
    quiet = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "q", "--schedule", SCHEDULE, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    forced = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "p", "--schedule", SCHEDULE, "--progress")
    assert forced.returncode == 0 and "EM iterations" in forced.stderr   # the bar, asked for


# ----------------------------------------------------------------------------- interrupts
@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_training_ends_the_run_cleanly(big_corpus, warm, tmp_path, sig, status):
    proc = subprocess.Popen([sys.executable, "-m", "eegiza", "align", str(big_corpus[0]), str(big_corpus[1]),
                             "-o", str(tmp_path / "out" / "x"), "--schedule", "1^5 H^5", "--threads", "1"],
                            stderr=subprocess.PIPE, text=True, env=ENV)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "Model1 iteration 1" in line:
            break
    sent = time.perf_counter()
    proc.send_signal(sig)
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    assert time.perf_counter() - sent < 10
    assert proc.returncode == status
    assert f"eegiza align: interrupted ({sig.name})" in rest
    assert "Traceback" not in rest and "Error" not in rest
    assert files_in(tmp_path / "out") == []                             # folder made, nothing in it


WRAPPER = """
    import os, signal, sys
    import eegiza.cli.common as common
    from eegiza.cli.main import main
    when = sys.argv[1]
    if when == "writing":            # the interrupt lands after the first file of the set is written
        original = common.write_links
        count = [0]
        def write(path, links):
            original(path, links)
            count[0] += 1
            if count[0] == 1:
                os.kill(os.getpid(), signal.SIGINT)
        common.write_links = write
    else:                            # ... or between two renames of the set
        import eegiza.cli.outputs as outputs
        original = os.replace
        count = [0]
        def replace(a, b):
            original(a, b)
            if str(a).endswith(".part"):     # a temporary of the set renamed to its final name
                count[0] += 1
            if count[0] == 1:
                os.kill(os.getpid(), signal.SIGINT)
        outputs.os.replace = replace
    sys.exit(main(sys.argv[2:]))
"""


def test_an_interrupt_while_writing_leaves_the_previous_set_untouched(corpus, warm, tmp_path):
    first = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "x", "--schedule", "1^1", "--quiet")
    assert first.returncode == 0
    before = {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)}
    run = python(WRAPPER, "writing", "align", corpus[0], corpus[1], "-o", tmp_path / "x", "--schedule", SCHEDULE,
                 "--heuristics", "all", "--save-model", tmp_path / "m.npz")
    assert run.returncode == 130 and "eegiza align: interrupted (SIGINT)" in run.stderr
    assert "Traceback" not in run.stderr
    assert {name: (tmp_path / name).read_bytes() for name in files_in(tmp_path)} == before   # old set, no temporaries


def test_an_interrupt_between_renames_still_gives_the_whole_set(corpus, warm, tmp_path):
    run = python(WRAPPER, "renaming", "align", corpus[0], corpus[1], "-o", tmp_path / "x", "--schedule", SCHEDULE,
                 "--heuristics", "all", "--save-model", tmp_path / "m.npz")
    assert run.returncode == 130 and "interrupted" in run.stderr and "Traceback" not in run.stderr
    assert files_in(tmp_path) == ["m.npz", "x.fwd", "x.gd", "x.gdf", "x.gdfa", "x.inter", "x.rev", "x.union"]
    assert lines_of(tmp_path / "x.gdfa") == lines_of(warm / "x.gdfa")


def test_the_watchdog_ends_a_run_stuck_in_a_compiled_kernel(tmp_path):
    script = """
        import os, sys
        from numba import njit
        from eegiza.cli.outputs import OutputSet
        from eegiza.cli.signals import run_interruptible

        @njit(nogil=True)
        def spin(n):                     # holds the main thread without the GIL, as a kernel does
            x = 0.0
            for i in range(n):
                x = (x + i) % 7.0
            return x

        def command():
            outputs = OutputSet([sys.argv[1]])
            with outputs:
                with open(outputs.temp(sys.argv[1]), "w") as fh:
                    fh.write("partial")
                spin(1)
                print("spinning", file=sys.stderr, flush=True)
                spin(10 ** 12)
                outputs.commit()
            return 0

        sys.exit(run_interruptible("test", command))
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), str(tmp_path / "out.txt")],
                            stderr=subprocess.PIPE, text=True, env=ENV)
    assert proc.stderr.readline().strip() == "spinning"
    time.sleep(0.3)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    proc.wait(timeout=30)
    assert time.perf_counter() - sent < 8
    assert proc.returncode == 130 and "test: interrupted (SIGINT)" in rest
    assert files_in(tmp_path) == []                                     # the temporary is gone


def test_a_full_disk_leaves_nothing_partial(corpus, warm, tmp_path):
    limit = 30000        # the alignment files (about 6 KB) fit, the model (about 57 KB) does not
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    run = eegiza("align", corpus[0], corpus[1], "-o", tmp_path / "x", "--schedule", SCHEDULE, "--quiet",
                 "--save-model", tmp_path / "m.npz", preexec_fn=small_files)
    assert run.returncode == 2
    assert f"cannot write {tmp_path / 'm.npz'}: File too large" in run.stderr and "Traceback" not in run.stderr
    assert files_in(tmp_path) == []


# ----------------------------------------------------------------------------- eval, --version, streams
def test_eval_refuses_mismatched_line_counts_unless_tail(warm, tmp_path):
    hyp = warm / "x.gdfa"
    (tmp_path / "gold").write_text("\n".join(lines_of(hyp)[-50:]) + "\n")
    run = eegiza("eval", tmp_path / "gold", hyp)
    assert run.returncode == 2 and "has 50 lines but" in run.stderr and "--tail" in run.stderr
    run = eegiza("eval", tmp_path / "gold", hyp, "--tail")
    assert run.returncode == 0 and run.stdout.splitlines()[0].split() == ["AER", "0.00"]
    assert f"scored    50 lines: lines 151-200 of {hyp}" in run.stdout
    run = eegiza("eval", hyp, tmp_path / "gold", "--tail")                     # shorter hypothesis: never
    assert run.returncode == 2


def test_version_and_standard_streams(corpus, warm, tmp_path):
    run = eegiza("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"eegiza {__version__}"
    joint = "".join(f"{s} ||| {t}\n" for s, t in zip(corpus[2], corpus[3]))
    run = eegiza("align", "--joint", "-", "-o", "-", "--schedule", SCHEDULE, "--quiet", stdin=joint, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:-1] == lines_of(warm / "x.gdfa")
    assert files_in(tmp_path) == []                                      # no file named '-.fwd'
    run = eegiza("align", corpus[0], corpus[1], "-o", "-", "--heuristics", "intersection,union", cwd=tmp_path)
    assert run.returncode == 2 and "exactly one --heuristics" in run.stderr


# ----------------------------------------------------------------------------- GIZA-compatible tools
GT = "eegiza.cli.giza_tools"


def test_giza_tools_fail_on_missing_input_without_writing(tmp_path):
    run = tool(GT, "plain2snt_entry", "plain2snt.out", "no.a", "no.b", cwd=tmp_path)
    assert run.returncode == 1 and "ERROR: no.a cannot be read." in run.stderr
    run = tool(GT, "snt2cooc_out_entry", "snt2cooc.out", "a.vcb", "b.vcb", "no.snt", cwd=tmp_path)
    assert run.returncode == 1 and "ERROR: file no.snt cannot be read." in run.stderr and run.stdout == ""
    run = tool(GT, "snt2cooc_entry", "snt2cooc", "out.cooc", "a.vcb", "b.vcb", "no.snt", cwd=tmp_path)
    assert run.returncode == 1 and "ERROR: Vocabulary a.vcb does not exist." in run.stderr
    run = tool(GT, "merge_alignment_entry", "merge_alignment.py", "no.part000", cwd=tmp_path)
    assert run.returncode == 1 and "no.part000 cannot be read" in run.stderr
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("module, function, prog, text", [
    ("eegiza.cli.mkcls", "mkcls_entry", "mkcls", "Usage: mkcls"),
    (GT, "merge_alignment_entry", "merge_alignment.py", "Merges MGIZA's per-thread alignment files"),
    (GT, "snt2cooc_out_entry", "snt2cooc.out", "Writes the co-occurrence file"),
    (GT, "snt2cooc_entry", "snt2cooc", "Writes the co-occurrence file"),
    (GT, "plain2snt_entry", "plain2snt.out", "Converts plain text into GIZA++ snt-format"),
    ("eegiza.cli.giza", "giza_entry", "GIZA++", "GIZA++ <config_file> [options]"),
])
def test_giza_tools_help_and_version(tmp_path, module, function, prog, text):
    run = tool(module, function, prog, "--help", cwd=tmp_path)
    assert run.returncode == 0 and text in run.stdout
    run = tool(module, function, prog, "--version", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith(f"{prog} (eegiza {__version__}")
    assert files_in(tmp_path) == []


def test_giza_refuses_model5_and_cleans_up_its_config(corpus, tmp_path):
    for name in ("c.src", "c.tgt"):
        (tmp_path / name).write_bytes((corpus[0].parent / name).read_bytes())
    assert tool(GT, "plain2snt_entry", "plain2snt.out", "c.src", "c.tgt", cwd=tmp_path).returncode == 0
    base = ["-s", "c.src.vcb", "-t", "c.tgt.vcb", "-c", "c.src_c.tgt.snt"]
    os.mkdir(tmp_path / "out")
    run = tool("eegiza.cli.giza", "giza_entry", "GIZA++", *base, "-CoocurrenceFile", "none.cooc", "-o", "out/a",
               "-m5", "2", cwd=tmp_path)
    assert run.returncode == 1 and "Models 5 and 6 are not implemented" in run.stderr
    run = tool("eegiza.cli.giza", "giza_entry", "GIZA++", *base, "-CoocurrenceFile", "none.cooc", "-o", "out/b",
               cwd=tmp_path)
    assert run.returncode == 1 and "none.cooc" in run.stderr
    assert files_in(tmp_path / "out") == []                              # no .gizacfg left behind


# ----------------------------------------------------------------------------- small items
def test_embed_memory_follows_the_vocabulary(tmp_path):
    pytest.importorskip("gensim")
    from eegiza.embeddings.vectors import MIN_BUCKETS, ngram_buckets
    make_corpus(tmp_path, n=2000, vocab=500)
    assert ngram_buckets([["a", "b", "a"]] * 3, 3) == MIN_BUCKETS
    assert ngram_buckets([[f"w{i}" for i in range(1000)]] * 3, 3) == 100_000
    run = eegiza("embed", tmp_path / "c.src", "-o", tmp_path / "v.vec", "--epochs", "1", "--threads", "1")
    assert run.returncode == 0, run.stderr
    peak = float(run.stderr.split("peak memory ")[1].split(" MB")[0])
    assert peak < 1000                       # gensim's fixed 2M-row n-gram table alone took 2.4 GB
    assert (tmp_path / "v.vec").read_text().split("\n")[0].split()[1] == "300"


def test_eval_reads_the_hypothesis_from_standard_input(warm, tmp_path):
    hyp = (warm / "x.gdfa").read_text()
    (tmp_path / "gold").write_text("\n".join(hyp.split("\n")[:-1][-20:]) + "\n")
    run = eegiza("eval", tmp_path / "gold", "-", "--tail", stdin=hyp)
    assert run.returncode == 0 and "AER       0.00" in run.stdout and "lines 181-200 of -" in run.stdout
    run = eegiza("eval", tmp_path / "gold", "-", stdin=hyp)
    assert run.returncode == 2 and "has 20 lines but - has 200" in run.stderr


def test_usage_mistakes_exit_2_with_a_message(corpus, tmp_path):
    for args, message in ((["align", corpus[0], "-o", tmp_path / "x"], "give SRC and TGT files"),
                          (["align", corpus[0], corpus[1], "-o", tmp_path / "x", "--heuristics", "foo"],
                           "unknown heuristic(s) foo"),
                          (["align", corpus[0], corpus[1], "-o", tmp_path / "x", "--on-long", "drop"],
                           "invalid choice: 'drop'"),
                          (["align", "-", "-", "-o", tmp_path / "x"], "only one input can be standard input")):
        run = eegiza(*args)
        assert run.returncode == 2 and message in run.stderr, args
    assert files_in(tmp_path) == []
