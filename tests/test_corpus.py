"""Reading parallel text: numbering, options, and errors that name the file and line."""
import pytest

from eegiza.corpus import CorpusError, corpus_from_sentences, read_joint, read_parallel


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_two_files_give_ids_offsets_and_vocabularies(tmp_path):
    src = write(tmp_path / "a.de", "das Haus\n\nein Haus ist klein\n")
    tgt = write(tmp_path / "a.en", "the house\nhello\na house is small\n")
    corpus = read_parallel(src, tgt)
    assert len(corpus) == 3
    assert corpus.src_vocab.words[0] == "NULL" and corpus.tgt_vocab.words[0] == "NULL"
    words = lambda side, vocab, k: [vocab.words[i] for i in side.sentence(k)]
    assert words(corpus.src, corpus.src_vocab, 2) == ["ein", "Haus", "ist", "klein"]
    assert words(corpus.src, corpus.src_vocab, 1) == []
    assert words(corpus.tgt, corpus.tgt_vocab, 1) == ["hello"]
    assert corpus.src_vocab.counts[corpus.src_vocab.index["Haus"]] == 2
    assert corpus.src.offsets.tolist() == [0, 2, 2, 6]


def test_lowercase_and_joint_format(tmp_path):
    joint = write(tmp_path / "j.txt", "Das HAUS ||| The House\nÄrger |||  Trouble  \n")
    corpus = read_joint(joint, lowercase=True)
    assert sorted(corpus.src_vocab.index) == ["das", "haus", "ärger"]
    assert sorted(corpus.tgt_vocab.index) == ["house", "the", "trouble"]
    rev = corpus.reversed()
    assert rev.src_vocab is corpus.tgt_vocab and len(rev) == 2


def test_mismatched_line_counts_name_the_shorter_file(tmp_path):
    src = write(tmp_path / "s.txt", "a\nb\nc\n")
    tgt = write(tmp_path / "t.txt", "x\ny\n")
    with pytest.raises(CorpusError) as err:
        read_parallel(src, tgt)
    assert f"{tgt}:3" in str(err.value) and "3 lines" in str(err.value)


def test_invalid_utf8_names_file_and_line(tmp_path):
    src = write(tmp_path / "s.txt", b"ok\nalso ok\nbad \xff byte\n")
    tgt = write(tmp_path / "t.txt", "x\ny\nz\n")
    with pytest.raises(CorpusError, match=rf"{src}:3: invalid UTF-8"):
        read_parallel(src, tgt)


def test_joint_line_without_separator(tmp_path):
    joint = write(tmp_path / "j.txt", "a ||| b\nno separator here\n")
    with pytest.raises(CorpusError, match=rf"{joint}:2: no '\|\|\|'"):
        read_joint(joint)


def test_length_cap_is_an_error_naming_the_line(tmp_path):
    src = write(tmp_path / "s.txt", "a b\na b c d e\n")
    tgt = write(tmp_path / "t.txt", "x\ny\n")
    read_parallel(src, tgt)  # no cap by default
    with pytest.raises(CorpusError, match=rf"{src}:2: sentence has 5 tokens, more than the maximum sentence length 4"):
        read_parallel(src, tgt, max_len=4)


def test_known_vocabulary_is_extended_not_changed():
    base = corpus_from_sentences(["a b"], ["x y"])
    more = corpus_from_sentences(["b c"], ["y z"], src_vocab=base.src_vocab, tgt_vocab=base.tgt_vocab)
    assert more.src_vocab.index["b"] == base.src_vocab.index["b"]
    assert more.src_vocab.index["c"] == len(base.src_vocab)
    assert "c" not in base.src_vocab.index


def test_known_vocabulary_numbering_matches_the_reference_and_reuses_its_check():
    """Numbering with a known vocabulary (checked once, Vocab.seed) gives the ids, offsets, words
    and counts of the pure-Python reference numbering seeded with the same words."""
    import numpy as np
    from eegiza.textnum import number_text
    base = corpus_from_sentences(["a b c", "c d"], ["x y", "z"])
    src = ["d e a", "", "f e  b", "a"]
    more = corpus_from_sentences(src, ["y"] * 4, src_vocab=base.src_vocab, tgt_vocab=base.tgt_vocab)
    ref = number_text("\n".join(src).encode() + b"\n",
                      {w.encode(): i for w, i in base.src_vocab.index.items()}, use_c=False)
    assert more.src.ids.tolist() == ref.ids.tolist() and more.src.offsets.tolist() == ref.offsets.tolist()
    assert more.src_vocab.words[1:] == [w.decode() for w in ref.words[1:]]
    assert more.src_vocab.counts.tolist() == ref.counts.tolist()
    assert more.src_vocab.index == {w: i for i, w in enumerate(more.src_vocab.words) if i > 0}
    seed = base.src_vocab.seed()
    assert base.src_vocab.seed() is seed                      # checked once, then kept
    assert len(base.src_vocab) == 5 and np.array_equal(np.sort(seed[1]), np.arange(1, 5))


def test_a_sentence_with_a_newline_is_named():
    with pytest.raises(CorpusError, match=r"<source sentences>:2: a sentence contains a newline"):
        corpus_from_sentences(["a", "b\nc", "d"], ["x", "y", "z"])
    assert len(corpus_from_sentences([], [])) == 0
    assert len(corpus_from_sentences(["a", ""], [["x", "y"], []])) == 2


def test_to_lists_sorts_each_sentence():
    import numpy as np
    from eegiza.links import to_lists
    i, j = np.array([2, 0, 1, 0, 0]), np.array([0, 1, 1, 3, 0])
    off = np.array([0, 3, 3, 5])
    assert to_lists(i, j, off) == [sorted([(2, 0), (0, 1), (1, 1)]), [], [(0, 0), (0, 3)]]
    assert to_lists(np.array([1]), np.array([0]), np.array([0, 1])) == [[(1, 0)]]
    assert to_lists(np.zeros(0, int), np.zeros(0, int), np.array([0, 0])) == [[]]


def test_an_extended_vocabulary_leaves_the_known_one_unchanged_and_numbers_on():
    """Numbering new words extends a view of the known vocabulary (not a copy of its index): the
    known vocabulary is unchanged, and the extended one numbers further text like a plain one."""
    from eegiza.corpus import Vocab
    base = corpus_from_sentences(["a b c", "c d"], ["x y", "z"])
    before = dict(base.src_vocab.index), list(base.src_vocab.words)
    more = corpus_from_sentences(["d e a", "f"], ["y", "y"], src_vocab=base.src_vocab, tgt_vocab=base.tgt_vocab)
    assert (dict(base.src_vocab.index), base.src_vocab.words) == before
    assert more.src_vocab.index == {w: i for i, w in enumerate(more.src_vocab.words) if i > 0}
    assert more.src_vocab.get("e") == 5 and base.src_vocab.get("e") == -1
    plain = Vocab(list(more.src_vocab.words), more.src_vocab.counts)     # the same words, a plain dict
    again = corpus_from_sentences(["g e b", "h"], ["y", "y"], src_vocab=more.src_vocab, tgt_vocab=base.tgt_vocab)
    ref = corpus_from_sentences(["g e b", "h"], ["y", "y"], src_vocab=plain, tgt_vocab=base.tgt_vocab)
    assert again.src.ids.tolist() == ref.src.ids.tolist() == [7, 5, 2, 8]
    assert again.src_vocab.words == ref.src_vocab.words and again.src_vocab.index == ref.src_vocab.index


def test_to_lists_restores_the_garbage_collector():
    import gc
    import numpy as np
    from eegiza.links import to_lists
    i, j, off = np.array([1, 0]), np.array([0, 2]), np.array([0, 2])
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            assert to_lists(i, j, off) == [[(0, 2), (1, 0)]]
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_extended_words_read_like_a_list_and_padded_counts_are_shared_read_only_views():
    """Vocab.extended copies neither the known word list nor its counts: the words are the known
    list (the same object) then the new ones, read like a list; the counts a read-only view of
    one padded array, the known counts then zeros."""
    import numpy as np
    from eegiza.corpus import ExtendedWords, Vocab
    known = Vocab.from_words(["NULL", "a", "b", "c"], [0, 5, 3, 1])
    one = known.extended({"d": 4})
    two = one.extended({"e": 5, "f": 6})
    words = ["NULL", "a", "b", "c", "d", "e", "f"]
    assert isinstance(two.words, ExtendedWords) and two.words.known is known.words
    assert list(two.words) == words and two.words == words and len(two) == 7
    assert [two.words[k] for k in range(-7, 7)] == words + words
    assert two.words[1:6:2] == words[1:6:2] and two.words[::-1] == words[::-1]
    assert two.words + ["g"] == words + ["g"]
    with pytest.raises(IndexError):
        two.words[7]
    assert two.index == {w: i for i, w in enumerate(words) if i > 0}
    assert one.counts.tolist() == [0, 5, 3, 1, 0] and two.counts.tolist() == [0, 5, 3, 1, 0, 0, 0]
    again = known.extended({"z": 4})
    assert np.shares_memory(one.counts, again.counts) and not one.counts.flags.writeable
    big = known.extended({f"w{k}": 4 + k for k in range(3000)})        # more than the padding: a larger array
    assert big.counts.tolist() == [0, 5, 3, 1] + [0] * 3000 and known.counts.tolist() == [0, 5, 3, 1]
    assert known.extended({}).counts is known.counts


def test_sentences_are_lowercased_like_the_same_text_read_from_bytes():
    """corpus_from_sentences lower-cases the joined text before encoding it (no decode and
    re-encode): the same ids and words as corpus_from_bytes of the same lines, for non-ASCII text,
    token lists, a generator; a newline inside a sentence is still reported with its line."""
    from eegiza.corpus import CorpusError, corpus_from_bytes
    src = ["ΟΔΟΣ Straße", ["İstanbul", "ÇAY"], "", "Ab AB ab"]
    tgt = ["the ROAD", "tea", "x", ["Y", "y"]]
    lines = [s if isinstance(s, str) else " ".join(s) for s in src], [t if isinstance(t, str) else " ".join(t)
                                                                      for t in tgt]
    data = ["\n".join(side).encode("utf-8") + b"\n" for side in lines]
    for lowercase in (False, True):
        got = corpus_from_sentences(iter(src), tgt, lowercase=lowercase)
        ref = corpus_from_bytes(*data, lowercase=lowercase)
        assert got.src.ids.tolist() == ref.src.ids.tolist() and got.tgt.ids.tolist() == ref.tgt.ids.tolist()
        assert got.src_vocab.words == ref.src_vocab.words and got.tgt_vocab.words == ref.tgt_vocab.words
    assert corpus_from_sentences(src, tgt, lowercase=True).src_vocab.words[1:3] == ["οδος", "straße"]
    with pytest.raises(CorpusError, match="<source sentences>:2: a sentence contains a newline"):
        corpus_from_sentences(["a", "b\nc"], ["x", "y"])


def test_long_link_lists_share_one_tuple_per_distinct_link():
    import numpy as np
    from eegiza import links
    rng = np.random.default_rng(3)
    n = 3 * links.SHARED_TUPLES
    i, j = rng.integers(0, 40, n), rng.integers(0, 30, n)
    off = np.concatenate([[0], np.sort(rng.integers(0, n, 200)), [n]])
    expected = [sorted(zip(i[a:b].tolist(), j[a:b].tolist())) for a, b in zip(off[:-1], off[1:])]
    got = links.to_lists(i, j, off)
    assert got == expected and all(type(x) is int for s in got for link in s for x in link)
    flat = [link for s in got for link in s]
    assert len({id(link) for link in flat}) == len(set(flat)) < len(flat)        # shared, not copied
    short = links.to_lists(i[:10], j[:10], np.array([0, 10]))
    assert short == [sorted(zip(i[:10].tolist(), j[:10].tolist()))]
