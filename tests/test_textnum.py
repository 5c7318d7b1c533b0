"""Tests for eegiza.textnum: the compiled and the pure-Python numbering agree, and both are right."""
import types

import numpy as np
import pytest

from eegiza import textnum
from eegiza.textnum import MAX_ID, VocabularyError, number_text


def both(data, *args, **kwargs):
    """Number with both paths, check they agree exactly, return the (reference) result."""
    ref = number_text(data, *args, use_c=False, **kwargs)
    fast = number_text(data, *args, use_c=True, **kwargs)
    assert fast.ids.dtype == ref.ids.dtype == np.int32
    assert fast.offsets.dtype == ref.offsets.dtype == np.int64
    assert fast.counts.dtype == ref.counts.dtype == np.int64
    np.testing.assert_array_equal(fast.ids, ref.ids)
    np.testing.assert_array_equal(fast.offsets, ref.offsets)
    np.testing.assert_array_equal(fast.counts, ref.counts)
    assert fast.words == ref.words
    return ref


def decoded(nt):
    """The text as lists of tokens, read back through the ids."""
    return [[nt.words[i] for i in nt.ids[a:b]] for a, b in zip(nt.offsets[:-1], nt.offsets[1:])]


def expected_tokens(data):
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line.split() for line in lines]


# (data, ids, offsets, words) worked out by hand
HAND_CASES = [
    (b"", [], [0], [b""]),
    (b"\n", [], [0, 0], [b""]),
    (b"\n\n\n", [], [0, 0, 0, 0], [b""]),
    (b"a", [1], [0, 1], [b"", b"a"]),
    (b"a b a\n", [1, 2, 1], [0, 3], [b"", b"a", b"b"]),
    (b"a\n\nb", [1, 2], [0, 1, 1, 2], [b"", b"a", b"b"]),
    (b"b a  \n a\tb \t\n", [1, 2, 2, 1], [0, 2, 4], [b"", b"b", b"a"]),
    (b"a\r\n\r\nb\r\n", [1, 2], [0, 1, 1, 2], [b"", b"a", b"b"]),
    (b"\x0bx\x0cy\r z \n", [1, 2, 3], [0, 3], [b"", b"x", b"y", b"z"]),
    ("été à été\nà\u00a0b \u2028c".encode(), [1, 2, 1, 3, 4], [0, 3, 5],
     [b"", "été".encode(), "à".encode(), "à\u00a0b".encode(), "\u2028c".encode()]),
]


@pytest.mark.parametrize("data, ids, offsets, words", HAND_CASES)
def test_hand_made_cases(data, ids, offsets, words):
    nt = both(data)
    assert nt.ids.tolist() == ids
    assert nt.offsets.tolist() == offsets
    assert nt.words == words
    assert nt.counts.tolist() == [ids.count(i) for i in range(len(words))]


def test_separators_are_those_of_bytes_split():
    for byte in range(256):
        if byte == ord("\n"):
            continue
        data = b"x" + bytes([byte]) + b"y" + bytes([byte])
        nt = both(data)
        assert decoded(nt) == [data.split()], byte


def test_first_id_and_bytearray_input():
    nt = both(bytearray(b"p q\np\n"), first_id=2)
    assert nt.ids.tolist() == [2, 3, 2]
    assert nt.words == [b"", b"", b"p", b"q"]
    assert nt.counts.tolist() == [0, 0, 2, 1]


def test_preseeded_vocabulary():
    vocab = {b"the": 7, b"cat": 3}
    nt = both(b"the dog\ncat the bird\n", vocab, first_id=2)
    assert nt.ids.tolist() == [7, 8, 3, 7, 9]
    assert nt.words == [b"", b"", b"", b"cat", b"", b"", b"", b"the", b"dog", b"bird"]
    assert nt.counts.tolist() == [0, 0, 0, 1, 0, 0, 0, 2, 1, 1]
    assert vocab == {b"the": 7, b"cat": 3}  # not modified
    assert nt.vocab_index() == {b"cat": 3, b"the": 7, b"dog": 8, b"bird": 9}


def test_first_id_above_seeded_ids():
    nt = both(b"a b", {b"a": 2}, first_id=1)
    assert nt.ids.tolist() == [2, 3]
    nt = both(b"b a", {b"a": 5}, first_id=5)
    assert nt.ids.tolist() == [6, 5]


def test_seeded_word_absent_from_text_has_count_zero():
    nt = both(b"x\n", {b"never": 1})
    assert nt.words == [b"", b"never", b"x"]
    assert nt.counts.tolist() == [0, 0, 1]


def test_numbering_two_files_in_turn_equals_numbering_them_joined():
    rng = np.random.default_rng(3)
    pool = [f"w{k}".encode() for k in range(300)]
    file1 = b"\n".join(b" ".join(rng.choice(pool, 8)) for _ in range(200)) + b"\n"
    file2 = b"\n".join(b" ".join(rng.choice(pool + [b"new1", b"new2"], 8)) for _ in range(200)) + b"\n"
    first = both(file1)
    second = both(file2, first.vocab_index())
    joined = both(file1 + file2)
    assert second.words == joined.words
    np.testing.assert_array_equal(np.concatenate([first.ids, second.ids]), joined.ids)
    np.testing.assert_array_equal(first.counts + second.counts[:len(first.counts)],
                                  joined.counts[:len(first.counts)])


@pytest.mark.parametrize("vocab", [
    {"str": 1}, {b"": 1}, {b"two words": 1}, {b"tab\t": 1}, {b"a": 1, b"b": 1}, {b"a": 0},
    {b"a": MAX_ID + 1}, {b"a": 1.5},
])
def test_bad_vocabulary_is_rejected(vocab):
    for use_c in (False, True):
        with pytest.raises(VocabularyError):
            number_text(b"a b\n", vocab, use_c=use_c)


def test_running_out_of_int32_ids_names_source_and_line():
    for use_c in (False, True):
        with pytest.raises(VocabularyError, match=r"corpus\.en:2:"):
            number_text(b"top\ntop new\n", {b"top": MAX_ID}, use_c=use_c, source="corpus.en")


def random_corpus(rng, n_lines):
    """Words with multibyte letters, runs of every separator, empty lines, leading/trailing blanks."""
    letters = list("abcdefghij") + ["é", "ß", "中", "文", "😀"]
    pool = ["".join(rng.choice(letters, rng.integers(1, 9))).encode() for _ in range(5000)]
    seps = [b" ", b"  ", b"\t", b" \t ", b"\x0b", b"\x0c", b"\r"]
    lengths = rng.integers(0, 25, n_lines).tolist()
    words = (rng.zipf(1.3, sum(lengths)) % len(pool)).tolist()
    after = rng.integers(0, len(seps), sum(lengths)).tolist()
    leading, trailing = rng.random(n_lines) < 0.2, rng.random(n_lines) < 0.3
    lines, pos = [], 0
    for k, n in enumerate(lengths):
        parts = [seps[k % len(seps)]] if leading[k] else []
        for t in range(pos, pos + n):
            parts += [pool[words[t]], seps[after[t]]]
        if n and not trailing[k]:
            parts.pop()
        pos += n
        lines.append(b"".join(parts))
    return pool, b"\n".join(lines) + (b"\n" if rng.random() < 0.5 else b"")


def test_random_corpus_of_50k_lines():
    rng = np.random.default_rng(12345)
    pool, data = random_corpus(rng, 50_000)
    nt = both(data)
    assert decoded(nt) == expected_tokens(data)
    assert len(nt.offsets) == 50_001
    seed_words = pool[::7]
    seeded = both(data, dict(zip(seed_words, rng.permutation(len(seed_words)) * 2 + 2)), first_id=2)
    assert decoded(seeded) == expected_tokens(data)


def test_very_long_line_and_words_longer_than_64k():
    rng = np.random.default_rng(5)
    huge = bytes(rng.integers(ord("a"), ord("z") + 1, 200_000, dtype=np.uint8))
    near = huge[:-1] + b"!"  # same length, differs only in the last byte
    pool = [f"t{k}".encode() for k in range(50_000)] + [huge, near, huge + huge]
    line = b" ".join(pool[int(k)] for k in rng.integers(0, len(pool), 1_000_000))
    data = line + b"\n" + huge + b" " + near + b"\n" + huge
    nt = both(data)
    assert decoded(nt) == expected_tokens(data)
    assert nt.ids[-1] == nt.ids[-3] and nt.ids[-2] != nt.ids[-1]


def test_ten_million_tokens():
    n, per_line = 10_000_000, 20
    rng = np.random.default_rng(8)
    table = np.frombuffer(b"".join(f"w{k:04d}".encode() for k in range(3000)), np.uint8).reshape(3000, 5)
    choice = rng.integers(0, 3000, n)
    text = np.empty((n, 6), np.uint8)
    text[:, :5] = table[choice]
    text[:, 5] = ord(" ")
    text[per_line - 1::per_line, 5] = ord("\n")
    nt = number_text(text.tobytes(), use_c=True)
    # ids by first appearance, computed independently of the hash table
    values, first = np.unique(choice, return_index=True)
    rank = np.empty(3000, np.int64)
    rank[values[np.argsort(first)]] = np.arange(len(values))
    np.testing.assert_array_equal(nt.ids, rank[choice] + 1)
    np.testing.assert_array_equal(nt.offsets, np.arange(0, n + 1, per_line))
    np.testing.assert_array_equal(nt.counts[1:], np.bincount(choice, minlength=3000)[values[np.argsort(first)]])
    assert nt.words[1:] == [table[k].tobytes() for k in values[np.argsort(first)]]


def test_compiled_extension_is_built():
    from eegiza import _textnum  # the suite runs after `pip install .`: this must not fail
    assert textnum._textnum is _textnum


def test_use_c_true_and_none_call_the_extension(monkeypatch):
    calls = []

    def spy(*args):
        calls.append(args)
        return real.number(*args)

    def no_python(*args):
        raise AssertionError("the pure-Python path was used")

    real = textnum._textnum
    monkeypatch.setattr(textnum, "_textnum", types.SimpleNamespace(
        number=spy, IdSpaceExhausted=real.IdSpaceExhausted))
    monkeypatch.setattr(textnum, "_number_python", no_python)
    assert number_text(b"a b a", use_c=True).ids.tolist() == [1, 2, 1]
    assert number_text(b"a b a").ids.tolist() == [1, 2, 1]
    assert len(calls) == 2
    with pytest.raises(AssertionError, match="pure-Python"):
        number_text(b"a", use_c=False)


def test_use_c_true_without_extension_raises_import_error(monkeypatch):
    monkeypatch.setattr(textnum, "_textnum", None)
    with pytest.raises(ImportError, match="build_ext --inplace"):
        number_text(b"a", use_c=True)
    assert number_text(b"a b a").ids.tolist() == [1, 2, 1]  # None falls back to Python
