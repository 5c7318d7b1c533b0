"""Pharaoh format: formatting, parsing, errors, atomic writing and the round trip."""
import pytest

from eegiza.formats.pharaoh import (AlignmentFormatError, format_links, parse_links, read_pharaoh,
                                    write_pharaoh)


def test_format_sorts_by_source_then_target_and_drops_duplicates():
    assert format_links([(1, 2), (0, 3), (1, 0), (0, 3)]) == "0-3 1-0 1-2"
    assert format_links([]) == ""


def test_parse_keeps_written_order_and_ignores_extra_spaces():
    assert parse_links(" 2-1  0-10 ") == [(2, 1), (0, 10)]  # eflomal writes a trailing space
    assert parse_links("") == []


@pytest.mark.parametrize("bad", ["1-", "1", "a-1", "1?2", "1-2-3", "-1-2", "1–2"])
def test_parse_errors_name_file_and_line(bad):
    with pytest.raises(AlignmentFormatError, match=r"f\.txt:7: malformed alignment token"):
        parse_links("0-0 " + bad, path="f.txt", lineno=7)


def test_round_trip_with_empty_pairs(tmp_path):
    corpus = [[(0, 0), (2, 1)], [], [(3, 3)], []]
    path = tmp_path / "out.align"
    write_pharaoh(path, corpus)
    assert path.read_text(encoding="utf-8") == "0-0 2-1\n\n3-3\n\n"
    assert read_pharaoh(path) == corpus
    write_pharaoh(path, [])
    assert read_pharaoh(path) == []


def test_read_without_final_newline_and_error_line(tmp_path):
    path = tmp_path / "a.align"
    path.write_text("0-0\n\n1-1", encoding="utf-8")
    assert read_pharaoh(path) == [[(0, 0)], [], [(1, 1)]]
    path.write_text("0-0\n\n1-x\n", encoding="utf-8")
    with pytest.raises(AlignmentFormatError, match=r"a\.align:3:"):
        read_pharaoh(path)


def test_write_is_atomic(tmp_path):
    path = tmp_path / "out.align"
    write_pharaoh(path, [[(0, 0)]])

    def failing_corpus():
        yield [(1, 1)]
        raise RuntimeError("aligner crashed")

    with pytest.raises(RuntimeError):
        write_pharaoh(path, failing_corpus())
    assert path.read_text(encoding="utf-8") == "0-0\n"  # old content intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.align"]  # no temporary left
