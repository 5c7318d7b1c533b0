"""Tests of eegiza.giza.params: GIZA++'s parameter names, lookup, conversion, config files, .gizacfg."""
import time
from pathlib import Path

import pytest

from eegiza.giza import params as gp

REF = Path(__file__).resolve().parents[1].parent / "shared" / "giza-reference"
FULL_ARGS = ("-s toy.en.vcb -t toy.de.vcb -c toy.en_toy.de.snt -CoocurrenceFile toy.en_de.cooc -o full/en-de "
             "-m1 5 -m2 2 -mh 5 -m3 3 -m4 3 -t1 1 -t2 1 -th 1 -t345 1 -t2to3 1").split()
MOSES_ARGS = ("-CoocurrenceFile toy.en_de.cooc -c toy.en_toy.de.snt -m1 5 -m2 0 -m3 3 -m4 3 "
              "-model1dumpfrequency 1 -model4smoothfactor 0.4 -nodumps 1 -nsmooth 4 -o moses/de-en "
              "-onlyaldumps 1 -p0 0.999 -s toy.en.vcb -t toy.de.vcb").split()


def stamp(hms):
    return time.mktime((2026, 11, 26, *hms, 0, 0, -1))


def test_simple_string_folds_case_and_punctuation():
    assert gp.simple_string("-NO.ITERATIONS_MODEL_3") == "noiterationsmodel3"
    assert gp.simple_string("NO. ITERATIONS MODEL 1") == "noiterationsmodel1"
    assert gp.simple_string("--nodumps") == "nodumps"


def test_defaults_match_spec():
    p, msgs = gp.parse_giza_args(["-m1", "5"])
    assert msgs == []
    assert (p.m1, p.m2, p.mh, p.m3, p.m4, p.m5, p.m6) == (5, 0, 5, 5, 5, 0, 0)
    assert p.ml == 101 and p.maxfertility == 10 and p.p0 == -1.0 and p.depm4 == 76
    assert p.value_text("probsmooth") == "1e-07" and p.value_text("countcutoff") == "1e-06"
    assert p.compactadtable == 1 and p.nsmooth == 64 and p.emprobforempty == 0.4


@pytest.mark.parametrize("args, name, value", [
    (["-NO.ITERATIONS_MODEL_3", "2"], "model3iterations", 2),
    (["-noiterationsmodel3", "2"], "m3", 2),
    (["-coocurrence", "F.cooc"], "coocurrencefile", "F.cooc"),  # unique prefix
    (["-CoocurrenceFile", "G"], "coocurrencefile", "G"),
    (["-model1iter", "7"], "m1", 7),
    (["-MaxFertility", "12"], "maxfertility", 12),
    (["-nodumps", "yes"], "nodumps", 1),
    (["-nodumps", "T"], "nofiledumpsyn", 1),
    (["-pegging", "false"], "p", 0),
    (["-m4", "0.9"], "m4", 0),  # atoi
    (["-p0", ".999"], "p0", 0.999),
    (["-verbose", "5"], "v", 1),  # bool from atoi
    (["-model4smoothfactor", "0.4"], "model4smoothfactor", pytest.approx(0.4, rel=1e-7)),
    (["-countincreasecutoff", "2e-6"], "countincreasecutoff", pytest.approx(2e-6, rel=1e-7)),
])
def test_names_aliases_prefixes_and_values(args, name, value):
    p, msgs = gp.parse_giza_args(args)
    assert msgs == []
    assert p[name] == value


def test_exact_name_wins_over_longer_names_with_it_as_prefix():
    p, msgs = gp.parse_giza_args(["-countincreasecutoff", "3e-6", "-t", "x.vcb", "-p", "1"])
    assert msgs == []
    assert p.value_text("countincreasecutoff") == "3e-06" and p.value_text("countcutoffal") == "1e-05"
    assert p.t == "x.vcb" and p.pegging == 1


def test_ambiguous_prefix_is_an_error_and_next_token_is_reparsed():
    p, msgs = gp.parse_giza_args(["-m", "5", "-m1", "3"])
    assert msgs == ["ERROR: ambiguous parameter 'm'.", "WARNING: ignoring unrecognized option:  -m",
                    "ERROR: parameter '5' does not exist.", "WARNING: ignoring unrecognized option:  5"]
    assert p.m1 == 3


def test_unknown_option_reparses_next_token_as_name():
    p, msgs = gp.parse_giza_args(["-bogus", "-m3", "2"])
    assert msgs == ["ERROR: parameter 'bogus' does not exist.", "WARNING: ignoring unrecognized option:  -bogus"]
    assert p.m3 == 2
    _, msgs = gp.parse_giza_args(["-bogus", "7", "-m2", "1"])
    assert len(msgs) == 4 and "'7'" in msgs[2]
    # as the LAST pair, GIZA's parseArguments (`arg+1<argc && !makeSetCommand(...)`) skips the
    # final token without trying it as a name: one error + one warning, not two
    p, msgs = gp.parse_giza_args(["-m1", "3", "-bogus", "7"])
    assert msgs == ["ERROR: parameter 'bogus' does not exist.", "WARNING: ignoring unrecognized option:  -bogus"]
    assert p.m1 == 3


def test_double_dash_flag_sets_one_and_trailing_name_without_value_is_ignored():
    p, msgs = gp.parse_giza_args(["--nodumps", "--v", "-m1", "2", "-m2"])
    assert msgs == []
    assert p.nodumps == 1 and p.verbose == 1 and p.m1 == 2 and p.m2 == 0
    _, msgs = gp.parse_giza_args(["--nonsense"])
    assert msgs[-1] == "WARNING: ignoring unrecognized option:  --nonsense"


def test_later_options_win_and_help_flag():
    p, _ = gp.parse_giza_args(["-m1", "2", "-model1iterations", "4"])
    assert p.m1 == 4
    p, _ = gp.parse_giza_args(["--help"])
    assert p.help_requested


def test_config_file_colon_rule_comments_and_seed_keys(tmp_path):
    cfg = tmp_path / "giza.cfg"
    cfg.write_text("// a comment : 7\n"
                   "NO. ITERATIONS MODEL 1 : 2\n"
                   "S: src.vcb\n"
                   "m3 4\n"
                   "t FILE : seed.t\n"
                   "\n"
                   "NO. ITERATIONS MODEL 2: 9\n")
    p, msgs = gp.parse_giza_args([str(cfg), "-m3", "1"])
    assert p.m1 == 2 and p.s == "src.vcb" and p.m2 == 0
    assert p.m3 == 1  # command line after the config file wins
    assert p.seed_files == {"t": "seed.t"}
    assert msgs == ["ERROR: ambiguous parameter 'no'.", "ERROR: Unrecognized attribute :NO."]


def test_missing_config_file_raises(tmp_path):
    with pytest.raises(gp.GizaParamError, match="Cannot open configuration file"):
        gp.parse_giza_args([str(tmp_path / "none.cfg")])


@pytest.mark.parametrize("folder, args, hms", [("full/en-de.gizacfg", FULL_ARGS, (22, 32, 59)),
                                                ("moses/de-en.gizacfg", MOSES_ARGS, (22, 33, 45))])
def test_gizacfg_reproduces_reference_byte_for_byte(tmp_path, folder, args, hms):
    p, msgs = gp.parse_giza_args(args, now=stamp(hms), user="root")
    assert msgs == []
    assert gp.format_gizacfg(p) == (REF / folder).read_text()
    gp.write_gizacfg(p, tmp_path / "x.gizacfg")
    assert (tmp_path / "x.gizacfg").read_bytes() == (REF / folder).read_bytes()


def test_reference_gizacfg_read_back_as_config_file(tmp_path):
    ref = REF / "moses" / "de-en.gizacfg"
    p, msgs = gp.parse_giza_args([str(ref)], now=stamp((1, 2, 3)), user="someone")
    assert msgs == []
    assert (p.m1, p.m2, p.m3, p.m4, p.p0, p.nsmooth, p.nodumps, p.onlyaldumps) == (5, 0, 3, 3, 0.999, 4, 1, 1)
    assert p.o == "moses/de-en" and p.l == "2026-11-26.223345.root.log" and p.d == ""
    assert gp.format_gizacfg(p) == ref.read_text()
    # a force-alignment style override on top of the config file
    p, _ = gp.parse_giza_args([str(ref), "-m1", "0", "-o", "out/T-S"])
    assert p.m1 == 0 and p.o == "out/T-S" and p.m3 == 3


def test_outputpath_prefixes_o_and_l():
    p, _ = gp.parse_giza_args(["-outputpath", "dir", "-o", "run", "-l", "run.log"])
    assert (p.o, p.l, p.outputpath) == ("dir/run", "dir/run.log", "dir/")


def test_default_prefix_formats():
    t = stamp((22, 32, 59))
    assert gp.default_output_prefix(False, t, "root") == "2026-11-26.223259.root"
    assert gp.default_output_prefix(True, t, "root") == "126-11-26.223259.root"
    p, _ = gp.parse_giza_args(["-m1", "1"], now=t, user="u")
    assert p.o == "2026-11-26.223259.u" and p.l == "2026-11-26.223259.u.log"


def test_mgiza_parameters_and_class_file_defaults():
    p, msgs = gp.parse_giza_args(["-s", "S.vcb", "-t", "T.vcb", "-ncpus", "4", "-restart", "11",
                                  "-previoust", "x.t3.final", "-previousd42", "x.D4.final"], mgiza=True)
    assert msgs == []
    assert p.ncpus == 4 and p.restart == 11 and p.previoust == "x.t3.final" and p.previousd42 == "x.D4.final"
    assert p.sourcevocabularyclasses == "S.vcb.classes" and p.targetvocabularyclasses == "T.vcb.classes"
    names = gp.format_gizacfg(p)
    assert "\nncpus 4\n" in names and "\npreviousd4 \n" in names
    _, msgs = gp.parse_giza_args(["-ncpus", "4"])  # not a GIZA++ parameter
    assert msgs[0] == "ERROR: parameter 'ncpus' does not exist."
    _, msgs = gp.parse_giza_args(["-sourcevocabulary", "x"], mgiza=True)  # now ambiguous
    assert msgs[0] == "ERROR: ambiguous parameter 'sourcevocabulary'."


def test_lookup_and_value_conversion_helpers():
    spec, err = gp.lookup_name("-CoOcUrReNcE")
    assert err is None and spec.name == "coocurrencefile"
    assert gp.lookup_name("zzz") == (None, "ERROR: parameter 'zzz' does not exist.")
    assert gp.convert_value("short", "70000") == 70000 - 65536
    assert gp.convert_value("uint", "-1") == 2 ** 32 - 1
    assert gp.convert_value("int", "  12abc") == 12 and gp.convert_value("int", "abc") == 0
    assert gp.convert_value("double", "1e-3xyz") == 0.001
    assert gp.convert_value("bool", "No") == 0


def test_parameter_listing_groups():
    p, _ = gp.parse_giza_args(["-m1", "3"])
    text = gp.format_parameter_listing(p)
    assert text.startswith("general parameters:\n-------------------\nml = 101  (")
    assert "model1iterations = 3  (" in text and "coocurrencefile" not in text
