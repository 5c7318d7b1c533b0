"""Tests for eegiza.clustering (exchange word clustering) and the mkcls command."""
import math
import os
from collections import Counter

import numpy as np
import pytest

from eegiza.clustering import (ClassesFileError, bigram_stats, class_bigram_perplexity, cluster_words,
                               exchange_clustering, move_gains, objective, read_classes_file,
                               write_cats_file, write_classes_file)
from eegiza.cli.mkcls import mkcls_main

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "giza-reference")
if not os.path.isdir(REFERENCE):
    REFERENCE = "/work/shared/giza-reference"


# --------------------------------------------------------------------------- pure-Python reference

def stream_bigrams(sentences):
    """Bigrams of ``$ s1 $ s2 $ ...`` with ``$`` = 0, empty sentences adding nothing."""
    pairs = []
    for sent in sentences:
        if not sent:
            continue
        prev = 0
        for w in sent:
            pairs.append((prev, w))
            prev = w
        pairs.append((prev, 0))
    return pairs


def reference_objective(sentences, classes):
    h = lambda n: n * math.log(n) if n > 0 else 0.0
    pairs = stream_bigrams(sentences)
    cells = Counter((classes[a], classes[b]) for a, b in pairs)
    left = Counter(classes[a] for a, _ in pairs)
    right = Counter(classes[b] for _, b in pairs)
    return sum(map(h, cells.values())) - sum(map(h, left.values())) - sum(map(h, right.values()))


def reference_perplexity(sentences, classes):
    pairs = stream_bigrams(sentences)
    cells = Counter((classes[a], classes[b]) for a, b in pairs)
    left = Counter(classes[a] for a, _ in pairs)
    right = Counter(classes[b] for _, b in pairs)
    words = Counter(b for _, b in pairs)
    ll = sum(math.log(cells[classes[a], classes[b]] / left[classes[a]] * words[b] / right[classes[b]])
             for a, b in pairs)
    return math.exp(-ll / len(pairs))


def flatten(sentences):
    ids = np.array([w for s in sentences for w in s], np.int32)
    offsets = np.cumsum([0] + [len(s) for s in sentences]).astype(np.int64)
    return ids, offsets


def random_corpus(rng, vocab_size, n_sentences, max_len):
    sentences = []
    for _ in range(n_sentences):
        n = int(rng.integers(0, max_len + 1))  # includes empty sentences
        sentences.append([int(x) for x in rng.zipf(1.5, n) % (vocab_size - 1) + 1])
    sentences.append([3, 3, 3, 2, 2])  # self-loops
    return sentences


def partition(labels):
    groups = {}
    for item, label in labels.items():
        groups.setdefault(label, set()).add(item)
    return sorted(sorted(g) for g in groups.values())


# --------------------------------------------------------------------------- objective and kernels

def test_bigram_stats_match_stream_counts():
    rng = np.random.default_rng(1)
    sentences = random_corpus(rng, 15, 40, 7)
    stats = bigram_stats(*flatten(sentences), 15)
    expected = Counter(stream_bigrams(sentences))
    got = Counter()
    for w in range(15):
        for e in range(stats.next_ptr[w], stats.next_ptr[w + 1]):
            got[w, int(stats.next_word[e])] += int(stats.next_count[e])
        for e in range(stats.prev_ptr[w], stats.prev_ptr[w + 1]):
            assert expected[int(stats.prev_word[e]), w] == stats.prev_count[e]
    assert got == expected
    assert stats.n_bigrams == len(stream_bigrams(sentences))


def test_objective_and_perplexity_match_reference():
    rng = np.random.default_rng(2)
    sentences = random_corpus(rng, 20, 50, 9)
    stats = bigram_stats(*flatten(sentences), 20)
    classes = np.concatenate([[0], rng.integers(1, 6, 19)]).astype(np.int32)
    assert objective(stats, classes) == pytest.approx(reference_objective(sentences, classes), rel=1e-12)
    assert class_bigram_perplexity(stats, classes) == pytest.approx(reference_perplexity(sentences, classes),
                                                                    rel=1e-10)


def test_incremental_gains_equal_bruteforce_recomputation():
    rng = np.random.default_rng(3)
    sentences = random_corpus(rng, 25, 60, 10)
    stats = bigram_stats(*flatten(sentences), 25)
    n_slots = 7
    for trial in range(5):
        classes = np.concatenate([[0], rng.integers(1, n_slots, 24)]).astype(np.int32)
        before = reference_objective(sentences, classes)
        for word in rng.choice(np.arange(1, 25), 6, replace=False):
            gains = move_gains(stats, classes, int(word), n_slots)
            for target in range(1, n_slots):
                moved = classes.copy()
                moved[word] = target
                expected = reference_objective(sentences, moved) - before
                assert gains[target] == pytest.approx(expected, abs=1e-7), (trial, word, target)
            assert gains[classes[word]] == 0.0


# --------------------------------------------------------------------------- clustering

def test_sweeps_never_decrease_the_objective():
    rng = np.random.default_rng(4)
    sentences = random_corpus(rng, 200, 400, 15)
    stats = bigram_stats(*flatten(sentences), 200)
    values = [exchange_clustering(stats, 8, seed=5, max_sweeps=s, tol=0.0).objective for s in range(5)]
    assert all(b >= a - 1e-6 for a, b in zip(values, values[1:]))
    assert values[-1] > values[0]
    final = exchange_clustering(stats, 8, seed=5, max_sweeps=5, tol=0.0)
    assert objective(stats, final.classes) == pytest.approx(final.objective, rel=1e-12)


def synthetic_class_corpus(rng, n_true, words_per_class, n_sentences):
    """Sentences from a class-bigram model whose classes follow a sharp transition matrix."""
    vocab = 1 + n_true * words_per_class
    true_class = np.concatenate([[0], np.repeat(np.arange(n_true), words_per_class)])
    transition = np.full((n_true, n_true), 0.02)
    for c in range(n_true):
        transition[c, (c + 1) % n_true] = 0.7
        transition[c, (c + 2) % n_true] = 0.3
    transition /= transition.sum(1, keepdims=True)
    sentences = []
    for _ in range(n_sentences):
        c = int(rng.integers(n_true))
        sent = []
        for _ in range(int(rng.integers(5, 12))):
            sent.append(1 + c * words_per_class + int(rng.integers(words_per_class)))
            c = int(rng.choice(n_true, p=transition[c]))
        sentences.append(sent)
    return sentences, true_class, vocab


def test_recovers_true_classes_of_synthetic_corpus():
    rng = np.random.default_rng(6)
    sentences, true_class, vocab = synthetic_class_corpus(rng, 5, 8, 3000)
    classes = cluster_words(flatten(sentences), vocab, n_classes=5, seed=0, n_runs=2)
    pairs = Counter(zip(classes[1:].tolist(), true_class[1:].tolist()))
    purity = sum(max(n for (f, t), n in pairs.items() if f == found) for found in set(classes[1:])) / (vocab - 1)
    inverse = sum(max(n for (f, t), n in pairs.items() if t == true) for true in set(true_class[1:])) / (vocab - 1)
    assert purity >= 0.95 and inverse >= 0.95, (purity, inverse)


def test_cluster_words_contract_and_rare_words():
    rng = np.random.default_rng(7)
    sentences = random_corpus(rng, 300, 300, 12)
    vocab = 320  # ids 300..319 never occur
    counts = np.bincount(flatten(sentences)[0], minlength=vocab)
    classes = cluster_words(flatten(sentences), vocab, n_classes=10, seed=1, min_count=3)
    assert classes.dtype == np.int32 and classes.shape == (vocab,)
    assert classes[0] == 0
    assert classes[1:].min() >= 1 and classes[1:].max() <= 10
    assert np.all(classes[300:] == 1)
    rare = np.flatnonzero((counts > 0) & (counts < 3))
    assert len(rare) > 0 and classes[rare].min() >= 1 and classes[rare].max() <= 10
    # renumbering: class 1 holds the most frequent word, classes appear in order of their best word
    order = np.argsort(-counts[1:300], kind="stable") + 1
    first_seen = list(dict.fromkeys(classes[order].tolist()))
    assert first_seen == sorted(first_seen) and first_seen[0] == 1


def test_deterministic_for_seed_and_thread_count():
    rng = np.random.default_rng(8)
    sentences = random_corpus(rng, 150, 300, 12)
    stats = bigram_stats(*flatten(sentences), 150)
    a = exchange_clustering(stats, 12, seed=3, n_runs=3, n_threads=1)
    b = exchange_clustering(stats, 12, seed=3, n_runs=3, n_threads=3)
    c = exchange_clustering(stats, 12, seed=3, n_runs=3, n_threads=1)
    assert np.array_equal(a.classes, b.classes) and np.array_equal(a.classes, c.classes)
    assert a.objective == b.objective
    single = exchange_clustering(stats, 12, seed=3, n_runs=1)  # = run 0 of the three
    assert a.objective >= single.objective


def test_bad_input_raises():
    with pytest.raises(ValueError):
        bigram_stats(np.array([0, 1], np.int32), np.array([0, 2], np.int64), 3)  # id 0 is NULL
    with pytest.raises(ValueError):
        bigram_stats(np.array([1, 5], np.int32), np.array([0, 2], np.int64), 3)
    with pytest.raises(ValueError):
        cluster_words((np.array([1], np.int32), np.array([0, 1], np.int64)), 2, n_classes=0)


# --------------------------------------------------------------------------- files

def test_classes_file_round_trip(tmp_path):
    words = ["zebra", "Zoo", "apple", "Ähnlich", "b", "éclair"]
    labels = [5, 2, 5, 7, 2, 9]
    path = tmp_path / "x.classes"
    write_classes_file(path, words, labels)
    lines = path.read_bytes().splitlines()
    assert [line.split(b"\t")[0] for line in lines] == sorted(w.encode() for w in words)
    word_to_id = {w: i for i, w in enumerate(words + ["missing"], 1)}
    classes = read_classes_file(path, word_to_id)
    assert classes.shape == (len(words) + 2,)
    assert classes[0] == 0 and classes[word_to_id["missing"]] == 0
    assert partition({w: classes[word_to_id[w]] for w in words}) == partition(dict(zip(words, labels)))
    # labels numbered 1, 2, ... in order of first appearance in the (sorted) file
    first = [int(classes[word_to_id[line.split(b"\t")[0].decode()]]) for line in lines]
    assert list(dict.fromkeys(first)) == list(range(1, len(set(labels)) + 1))


def test_read_reference_classes_file():
    vcb = [line.split()[1] for line in open(os.path.join(REFERENCE, "toy.en.vcb"))]
    word_to_id = {w: i for i, w in enumerate(vcb, 1)}
    path = os.path.join(REFERENCE, "toy.en.vcb.classes")
    classes = read_classes_file(path, word_to_id)
    labels = dict(line.split() for line in open(path))
    assert partition({w: classes[i] for w, i in word_to_id.items()}) == partition(labels)
    assert classes[1:].min() >= 1


@pytest.mark.parametrize("content, line", [("a\t1\nb\n", 2), ("a\t1\nb\t2\textra\n", 2), ("a\t1\n\nc\t2\na\t3\n", 4)])
def test_malformed_classes_file(tmp_path, content, line):
    path = tmp_path / "bad.classes"
    path.write_text(content)
    with pytest.raises(ClassesFileError) as err:
        read_classes_file(path, {"a": 1, "b": 2, "c": 3})
    assert isinstance(err.value, ValueError)
    assert f"{path}:{line}:" in str(err.value)


def test_cats_file_matches_reference_layout(tmp_path):
    path = os.path.join(REFERENCE, "toy.en.vcb.classes")
    pairs = [line.split() for line in open(path)]
    out = tmp_path / "toy.cats"
    write_cats_file(out, [w for w, _ in pairs], [int(c) for _, c in pairs], 50)
    reference = open(path + ".cats", "rb").read()
    head = reference[:reference.index(b"Problem(")]
    written = out.read_bytes()
    assert written.startswith(head)
    assert written[len(head):].startswith(b"Problem(")


# --------------------------------------------------------------------------- mkcls command

def parse_cats(path):
    lines = open(path, "rb").read().decode().split("\n")
    members = {}
    for line in lines[1:]:
        if line.startswith(";"):
            break
        k, words = line.split(":", 1)
        members[int(k)] = [w for w in words.split(",") if w]
    return lines[0], members


def test_mkcls_cli_on_toy_corpus(tmp_path):
    corpus = os.path.join(REFERENCE, "toy.en")
    out = str(tmp_path / "toy.en.vcb.classes")
    assert mkcls_main(["-c50", "-n2", f"-p{corpus}", f"-V{out}", "opt"]) == 0
    types = {w for line in open(corpus, "rb") for w in line.split()}
    lines = open(out, "rb").read().splitlines()
    words = [line.split(b"\t")[0] for line in lines]
    assert words == sorted(types)
    labels = {w.decode(): int(line.split(b"\t")[1]) for w, line in zip(words, lines)}
    assert all(2 <= c <= 51 for c in labels.values())
    header, members = parse_cats(out + ".cats")
    assert header == f";KategProblem:cats: 50   words: {len(types) + 1}"
    assert members[0] == ["$"] and sorted(members) == list(range(52))
    assert {w: k for k, ws in members.items() for w in ws if k} == labels
    # 50 classes for 25 words: the optimum puts every word alone, as the reference mkcls output does
    reference = dict(line.split() for line in open(os.path.join(REFERENCE, "toy.en.vcb.classes")))
    assert partition(labels) == partition(reference)


def test_mkcls_cli_options(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"a b c $ a\n\nb c a\nd a b \xff\n")
    out = str(tmp_path / "c.classes")
    assert mkcls_main(["-c3", "-m2", "-r7", "-aTA", f"-p{corpus}", f"-V{out}", "izr-opt"]) == 0
    assert "ignored" in capsys.readouterr().err
    words = [line.split(b"\t")[0] for line in open(out, "rb").read().splitlines()]
    assert words == sorted([b"a", b"b", b"c", b"$", b"d", b"\xff"])
    plain = tmp_path / "plain.txt"
    plain.write_text("a b c\nb c a d\n")
    assert mkcls_main(["-c3", f"-p{plain}"]) == 0  # no -V: classes on stdout
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["a", "b", "c", "d"]
    assert mkcls_main(["-c3", "-q", f"-p{corpus}", f"-V{out}"]) == 1
    assert mkcls_main(["-cX", f"-p{corpus}", f"-V{out}"]) == 1
    assert mkcls_main(["-c3", f"-P{corpus}", f"-V{out}"]) == 1
    assert mkcls_main(["-c3", f"-p{tmp_path / 'missing'}", f"-V{out}"]) == 1
