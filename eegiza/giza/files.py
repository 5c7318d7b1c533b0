"""Every GIZA++ file format in one namespace (spec: shared/GIZA_FORMATS.md §4), for readers and tests
that want them together: the basics, `.vcb` and t-tables of :mod:`eegiza.formats.giza` and the
GIZA-only formats of :mod:`eegiza.giza.corpus_files` (`.snt .cooc .classes .cats`),
:mod:`eegiza.giza.alignment_files` (`.A3`, compact) and :mod:`eegiza.giza.table_files` (a/d/n/p0/D4/hhmm
tables, `.perp`, `.Decoder.config`). Nothing is defined here.
"""
from __future__ import annotations

from ..formats.giza import (ENCODING, ERRORS, PROBSMOOTH, GizaFormatError, VcbEntry, atomic_open, cpp_float, decode,
                            format_ttable_lines, format_vcb, g_digits, iter_lines, read_ttable, read_vcb, vcb_to_dict,
                            write_text, write_ttable, write_vcb)  # noqa: F401
from .alignment_files import (A3Sentence, a3_to_pharaoh, convert_a3_to_pharaoh, format_a3_block, format_a3_sentence,
                              format_compact_block, iter_a3, read_a3, read_compact, write_a3, write_compact)  # noqa: F401
from .corpus_files import (SntArrays, SntPair, class_ids, format_cats, format_cooc, format_snt_pair, iter_snt,
                           read_cats, read_classes, read_cooc, read_snt, read_snt_arrays, write_cats, write_classes,
                           write_cooc, write_snt, _snt_arrays_slow)  # noqa: F401
from .table_files import (PERP_HEADER, PerpRow, format_d4_text, format_decoder_config, format_perp, read_atable,
                          read_d4, read_decoder_config, read_hhmm, read_ntable, read_p0, read_perp, write_atable,
                          write_d3table, write_d4, write_d4_text, write_decoder_config, write_ntable, write_p0,
                          write_perp)  # noqa: F401
