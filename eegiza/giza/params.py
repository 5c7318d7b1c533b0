"""GIZA++ / MGIZA++ parameter handling (spec: shared/GIZA_FORMATS.md §3).

Every GIZA parameter has a canonical name, aliases, a C++ type and a default. Names are
normalised like GIZA's `simpleString` (lower-case, only [a-z0-9] kept) and looked up by exact
name, else by a unique prefix over all names and aliases. Values are converted like the C++
`mConvert` overloads: bool/int/short/unsigned accept yes/y/true/t and no/n/false/f, else `atoi`;
float/double use `atof` (floats are rounded to single precision); strings are taken verbatim.

`parse_giza_args(args)` reproduces GIZA's `parseArguments` (optional config file first, then
`-name value` pairs, `--flag` = 1, unknown names re-parse the next token); the messages GIZA
prints on stderr are returned as a list. `format_gizacfg` writes the `.gizacfg` GIZA dumps at
start (every name and alias, alphabetical, `name value`).
"""
from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass

import numpy as np

from ..formats.giza import atomic_open, cpp_float, iter_lines

__all__ = [
    "GizaParamError", "ParamSpec", "GizaParams", "PARAM_SPECS", "simple_string", "lookup_name",
    "convert_value", "parse_giza_args", "parse_config_file", "format_gizacfg", "write_gizacfg",
    "format_parameter_listing", "default_output_prefix",
]

#: Parameter listing groups, in GIZA's print order (printGIZAPars).
LEVELS = ("general", "iterations", "heuristics", "output", "input", "smoothing", "models", "em")
LEVEL_TITLES = {
    "general": "general parameters:",
    "iterations": "No. of iterations:",
    "heuristics": "parameter for various heuristics in GIZA++ for efficient training:",
    "output": "parameters for describing the type and amount of output:",
    "input": "parameters describing input files:",
    "smoothing": "smoothing parameters:",
    "models": "parameters modifying the models:",
    "em": "parameters modifying the EM-algorithm:",
}
#: Config-file-only keys (`t FILE : path`, ...) -> key in `GizaParams.seed_files`.
SEED_FILE_KEYS = {"t FILE": "t", "a FILE": "a", "d FILE": "d", "n FILE": "n", "p0 FILE": "p0"}


class GizaParamError(ValueError):
    """Unusable parameter input (e.g. an unreadable config file)."""


@dataclass(frozen=True)
class ParamSpec:
    """One GIZA parameter: canonical name, C++ type, default, aliases, listing group."""

    name: str
    kind: str  # bool | int | uint | short | float | double | str
    default: object
    aliases: tuple[str, ...] = ()
    level: str | None = None  # None: accepted but not in the help listing
    description: str = ""
    mgiza_only: bool = False


def _p(name, kind, default, aliases=(), level=None, description="", mgiza_only=False):
    return ParamSpec(name, kind, default, tuple(aliases), level, description, mgiza_only)


PARAM_SPECS: tuple[ParamSpec, ...] = (
    # general
    _p("ml", "uint", 101, ["maxsentencelength"], "general", "maximum sentence length"),
    # iterations
    _p("model1iterations", "int", 5, ["noiterationsmodel1", "m1"], "iterations", "number of iterations for Model 1"),
    _p("model2iterations", "int", 0, ["noiterationsmodel2", "m2"], "iterations", "number of iterations for Model 2"),
    _p("hmmiterations", "int", 5, ["mh", "numberofiterationsforhmmalignmentmodel"], "iterations",
       "number of iterations for the HMM alignment model"),
    _p("model3iterations", "int", 5, ["noiterationsmodel3", "m3"], "iterations", "number of iterations for Model 3"),
    _p("model4iterations", "int", 5, ["noiterationsmodel4", "m4"], "iterations", "number of iterations for Model 4"),
    _p("model5iterations", "int", 0, ["noiterationsmodel5", "m5"], "iterations", "number of iterations for Model 5"),
    _p("model6iterations", "int", 0, ["noiterationsmodel6", "m6"], "iterations", "number of iterations for Model 6"),
    # heuristics
    _p("countincreasecutoff", "float", 1e-6, ["countcutoff"], "heuristics", "count increment cutoff"),
    _p("countincreasecutoffal", "float", 1e-5, ["countcutoffal"], "heuristics",
       "count increment cutoff for alignments in fertility-model training"),
    _p("mincountincrease", "float", 1e-7, (), "heuristics", "minimal count increase"),
    _p("peggedcutoff", "double", 0.03, (), "heuristics", "relative cutoff for alignment centres in pegging"),
    _p("probcutoff", "float", 1e-7, (), "heuristics", "probability cutoff for lexicon probabilities"),
    _p("probsmooth", "float", 1e-7, (), "heuristics", "probability floor; threshold for printing tables"),
    # output
    _p("compactalignmentformat", "short", 0, (), "output", "0: detailed alignment format, 1: compact format"),
    _p("hmmdumpfrequency", "int", 0, ["th"], "output", "dump frequency of the HMM"),
    _p("l", "str", "", ["logfile"], "output", "log file name"),
    _p("log", "bool", 0, (), "output", "0: no log file; 1: log file"),
    _p("model1dumpfrequency", "int", 0, ["t1"], "output", "dump frequency of Model 1"),
    _p("model2dumpfrequency", "int", 0, ["t2"], "output", "dump frequency of Model 2"),
    _p("model345dumpfrequency", "int", 0, ["model3dumpfrequency", "t3", "t345"], "output",
       "dump frequency of Models 3/4/5"),
    _p("nbestalignments", "float", 0, (), "output", "number of best alignments to print"),
    _p("nodumps", "bool", 0, ["nofiledumpsyn"], "output", "1: do not write any files"),
    _p("o", "str", "", ["outputfileprefix"], "output", "output file prefix"),
    _p("onlyaldumps", "bool", 0, (), "output", "1: write only the final alignment"),
    _p("outputpath", "str", "", (), "output", "output path"),
    _p("transferdumpfrequency", "int", 0, ["t2to3"], "output", "dump of the Model 2 to 3 transfer"),
    _p("verbose", "bool", 0, ["v"], "output", "0: not verbose; 1: verbose"),
    _p("verbosesentence", "int", -10, (), "output", "sentence to report in detail (negative: none)"),
    _p("countoutputprefix", "str", "", (), "output", "prefix for count output", True),
    _p("dumpcount", "bool", 0, (), "output", "also dump count tables", True),
    _p("dumpcountusingwordstring", "bool", 0, (), "output", "count tables use words instead of ids", True),
    # input
    _p("c", "str", "", ["corpusfile"], "input", "training corpus file name"),
    _p("d", "str", "", ["dictionary"], "input", "dictionary file name"),
    _p("s", "str", "", ["sourcevocabularyfile"], "input", "source vocabulary file name"),
    _p("t", "str", "", ["targetvocabularyfile"], "input", "target vocabulary file name"),
    _p("tc", "str", "", ["testcorpusfile"], "input", "test corpus file name"),
    _p("previousa", "str", "", (), "input", "a-table of the previous step", True),
    _p("previousd", "str", "", (), "input", "d-table of the previous step", True),
    _p("previousd4", "str", "", (), "input", "d4-table of the previous step", True),
    _p("previousd42", "str", "", (), "input", "D4-table of the previous step", True),
    _p("previoushmm", "str", "", (), "input", "HMM table of the previous step", True),
    _p("previousn", "str", "", (), "input", "n-table of the previous step", True),
    _p("previousp0", "str", "", (), "input", "p0 of the previous step", True),
    _p("previoust", "str", "", (), "input", "t-table of the previous step", True),
    _p("restart", "int", 0, (), "input", "restart level 0-11 (see GIZA_FORMATS.md §7)", True),
    _p("sourcevocabularyclasses", "str", "", (), "input", "source word-class file", True),
    _p("targetvocabularyclasses", "str", "", (), "input", "target word-class file", True),
    _p("coocurrencefile", "str", "", (), None, "co-occurrence file (required)"),
    _p("readtableprefix", "str", "", (), None, "prefix of tables to read"),
    # smoothing
    _p("emalsmooth", "double", 0.2, (), "smoothing", "smoothing factor for the HMM alignment model"),
    _p("model23smoothfactor", "float", 0.0, (), "smoothing", "smoothing for IBM-2/3 alignment tables"),
    _p("model4smoothfactor", "float", 0.2, (), "smoothing", "smoothing for Model 4 distortion"),
    _p("model5smoothfactor", "float", 0.1, (), "smoothing", "smoothing for Model 5 distortion"),
    _p("nsmooth", "double", 64.0, (), "smoothing", "weight of length-dependent fertility smoothing"),
    _p("nsmoothgeneral", "double", 0.0, (), "smoothing", "weight of word-independent fertility smoothing"),
    # models
    _p("compactadtable", "bool", 1, (), "models", "1: only 3-dimensional a/d tables"),
    _p("deficientdistortionforemptyword", "short", 0, (), "models", "0/1/2: distortion model of NULL"),
    _p("depm4", "int", 76, (), "models", "Model 4 distortion dependencies"),
    _p("depm5", "int", 68, (), "models", "Model 5 distortion dependencies"),
    _p("emalignmentdependencies", "short", 2, (), "models", "HMM alignment dependencies"),
    _p("emprobforempty", "double", 0.4, (), "models", "HMM probability of the empty word"),
    _p("emsmoothhmm", "short", 2, (), None, "HMM smoothing mode"),
    _p("adbackoff", "short", 0, (), None, "obsolete"),
    # EM
    _p("m5p0", "double", -1.0, (), "em", "fixed p0 for Model 5 (negative: learned)"),
    _p("manlexfactor1", "double", 0.0, (), "em", ""),
    _p("manlexfactor2", "double", 0.0, (), "em", ""),
    _p("manlexmaxmultiplicity", "double", 20.0, (), "em", ""),
    _p("maxfertility", "uint", 10, (), "em", "maximal fertility"),
    _p("p0", "double", -1.0, (), "em", "fixed p0 for Models 3/4 (negative: learned)"),
    _p("pegging", "bool", 0, ["p", "dopeggingyn"], "em", "0: no pegging; 1: pegging"),
    _p("ncpus", "short", 0, (), "em", "number of threads (0: all cores)", True),
)

_INT_BITS = {"int": (32, True), "uint": (32, False), "short": (16, True)}
_TRUE = {"yes", "y", "true", "t"}
_FALSE = {"no", "n", "false", "f"}
_ATOF = re.compile(
    r"[ \t\n\r\f\v]*([+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))", re.IGNORECASE)
_ATOI = re.compile(r"[ \t\n\r\f\v]*([+-]?\d+)")


def simple_string(name: str) -> str:
    """GIZA's `simpleString`: lower-case, keep only [a-z0-9] (`NO. ITERATIONS MODEL 1` -> `noiterationsmodel1`)."""
    return "".join(c for c in name.lower() if "a" <= c <= "z" or "0" <= c <= "9")


def _atoi(text: str) -> int:
    m = _ATOI.match(text)
    return int(m.group(1)) if m else 0


def _atof(text: str) -> float:
    m = _ATOF.match(text)
    return float(m.group(1)) if m else 0.0


def _wrap(value: int, kind: str) -> int:
    bits, signed = _INT_BITS[kind]
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def convert_value(kind: str, text: str):
    """Convert a value string like GIZA's `mConvert` for the C++ type `kind`."""
    if kind == "str":
        return text
    if kind in ("float", "double"):
        x = _atof(text)
        if kind == "float" and math.isfinite(x):
            with np.errstate(over="ignore"):
                x = float(np.float32(x))
        return x
    low = text.lower()
    if low in _TRUE:
        return 1
    if low in _FALSE:
        return 0
    if kind == "bool":
        return int(_atoi(text) != 0)
    return _wrap(_atoi(text), kind)


def _value_text(kind: str, value) -> str:
    if kind == "str":
        return value
    if kind in ("float", "double"):
        return cpp_float(value)
    return str(int(value))


def _active_specs(mgiza: bool) -> tuple[ParamSpec, ...]:
    return tuple(s for s in PARAM_SPECS if mgiza or not s.mgiza_only)


def _name_table(mgiza: bool) -> dict[str, ParamSpec]:
    table = {}
    for spec in _active_specs(mgiza):
        for n in (spec.name, *spec.aliases):
            table[n] = spec
    return table


def lookup_name(name: str, mgiza: bool = False) -> tuple[ParamSpec | None, str | None]:
    """Resolve a parameter name like GIZA's `makeSetCommand`: exact (normalised) name, else a
    unique prefix over all names and aliases. Returns (spec, None) or (None, error message)."""
    key = simple_string(name)
    table = _name_table(mgiza)
    if key in table:
        return table[key], None
    hits = [n for n in table if n.startswith(key)]
    if len(hits) == 1:
        return table[hits[0]], None
    if hits:
        return None, f"ERROR: ambiguous parameter '{key}'."
    return None, f"ERROR: parameter '{key}' does not exist."


def default_output_prefix(mgiza: bool = False, now: float | None = None, user: str | None = None) -> str:
    """GIZA's default `-o`: `YYYY-MM-DD.HHMMSS.$USER` (MGIZA: years since 1900, e.g. `126-11-26...`)."""
    tm = time.localtime(time.time() if now is None else now)
    if user is None:
        user = os.environ.get("USER", "USER")
    if mgiza:
        stamp = "%02d-%02d-%02d.%02d%02d%02d." % (tm.tm_year - 1900, tm.tm_mon, tm.tm_mday,
                                                  tm.tm_hour, tm.tm_min, tm.tm_sec)
    else:
        stamp = time.strftime("%Y-%m-%d.%H%M%S.", tm)
    return stamp + user


class GizaParams:
    """Values of all GIZA parameters, by canonical name or alias (`p["m1"]`, `p.model1iterations`).

    `seed_files` holds the config-only `t FILE`/`a FILE`/`d FILE`/`n FILE`/`p0 FILE` settings
    (keys t, a, d, n, p0); `help_requested` is set by a first argument `--h`/`--help`."""

    def __init__(self, mgiza: bool = False, now: float | None = None, user: str | None = None):
        object.__setattr__(self, "mgiza", mgiza)
        object.__setattr__(self, "_specs", {s.name: s for s in _active_specs(mgiza)})
        object.__setattr__(self, "_names", _name_table(mgiza))
        values = {s.name: s.default for s in _active_specs(mgiza)}
        for name, spec in self._specs.items():
            if spec.kind == "float":
                values[name] = convert_value("float", repr(float(spec.default)))
        prefix = default_output_prefix(mgiza, now, user)
        values["o"] = prefix
        values["l"] = prefix + ".log"
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "seed_files", {})
        object.__setattr__(self, "help_requested", False)

    # -- access
    def spec(self, name: str) -> ParamSpec:
        """The ParamSpec of an exact (normalised) name or alias."""
        key = simple_string(name)
        if key not in self._names:
            raise KeyError(name)
        return self._names[key]

    def __getitem__(self, name: str):
        return self._values[self.spec(name).name]

    def __setitem__(self, name: str, value) -> None:
        spec = self.spec(name)
        self._values[spec.name] = convert_value(spec.kind, value) if isinstance(value, str) else value

    def __contains__(self, name: str) -> bool:
        return simple_string(name) in self._names

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        if name in ("seed_files", "help_requested"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def as_dict(self) -> dict:
        """Canonical name -> value."""
        return dict(self._values)

    def names(self) -> list[str]:
        """Every accepted name (canonical and aliases), sorted."""
        return sorted(self._names)

    def value_text(self, name: str) -> str:
        """The value printed the way GIZA prints it (`0.999`, `1e-06`, `5`, file names verbatim)."""
        spec = self.spec(name)
        return _value_text(spec.kind, self._values[spec.name])

    # -- setting by GIZA's rules
    def set_command(self, name: str, value: str) -> str | None:
        """GIZA's `makeSetCommand`: resolve `name` (exact or unique prefix), convert and set
        `value`. Returns None on success, else the error message GIZA prints."""
        spec, error = lookup_name(name, self.mgiza)
        if spec is None:
            return error
        self._values[spec.name] = convert_value(spec.kind, value)
        return None


def parse_config_file(params: GizaParams, path) -> list[str]:
    """Apply a GIZA config file to `params` (GIZA's `parseConfigFile`); returns the messages.

    Per line: a first token `//` makes a comment; tokens up to a standalone `:` form the name and
    the token after it the value; without that, first token = name, second = value. The keys
    `t FILE`, `a FILE`, `d FILE`, `n FILE`, `p0 FILE` (only in the `:` form) go to `seed_files`.
    """
    messages: list[str] = []
    try:
        lines = list(iter_lines(path))
    except OSError:
        raise GizaParamError(f"ERROR:  Cannot open configuration file {path}!") from None
    for _, line in lines:
        toks = line.split()
        if toks and toks[0] == "//":
            continue
        if ":" in toks[1:] and toks.index(":", 1) + 1 < len(toks):
            k = toks.index(":", 1)
            attrib, value = " ".join(toks[:k]), toks[k + 1]
        else:
            attrib = toks[0] if toks else ""
            value = toks[1] if len(toks) > 1 else ""
        if attrib in SEED_FILE_KEYS:
            params.seed_files[SEED_FILE_KEYS[attrib]] = value
        elif line == "":
            continue
        else:
            error = params.set_command(attrib, value)
            if error:
                messages += [error, f"ERROR: Unrecognized attribute :{attrib}"]
    return messages


def parse_giza_args(args, mgiza: bool = False, now: float | None = None,
                    user: str | None = None) -> tuple[GizaParams, list[str]]:
    """Parse a GIZA++/mgiza command line WITHOUT the program name (i.e. `sys.argv[1:]`).

    A first argument not starting with `-` is a config file, applied first. Then each
    `-name value` pair is applied in order (later wins); `--name` sets `name` to 1; an unknown
    name gives `ERROR: parameter 'x' does not exist.` and `WARNING: ignoring unrecognized option:
    -x` and the next token is parsed as a name; a name without a value at the end is ignored
    (so `-bogus 7` warns twice in the middle, once at the end, as in GIZA).
    Finally `o` and `l` get `outputpath/` prepended (and `outputpath` a trailing `/`) and, for
    mgiza, empty `sourcevocabularyclasses`/`targetvocabularyclasses` default to `<vcb>.classes`.
    Returns (params, messages GIZA would print on stderr). `now`/`user` fix the default prefix.
    """
    args = list(args)
    params = GizaParams(mgiza=mgiza, now=now, user=user)
    messages: list[str] = []
    if not args:
        return params, messages
    if args[0] in ("--h", "--help"):
        params.help_requested = True
        return params, messages
    k = 0
    if not args[0].startswith("-"):
        messages += parse_config_file(params, args[0])
        k = 1
    while k < len(args):
        arg = args[k]
        if len(arg) > 2 and arg.startswith("--"):
            error = params.set_command(arg[1:], "1")
            if error:
                messages += [error, f"WARNING: ignoring unrecognized option:  {arg}"]
            k += 1
        elif k + 1 < len(args):
            error = params.set_command(arg, args[k + 1])
            if error:
                messages += [error, f"WARNING: ignoring unrecognized option:  {arg}"]
                k += 1
            else:
                k += 2
        else:
            k += 2
    values = params._values
    if values["outputpath"]:
        values["outputpath"] += "/"
    values["o"] = values["outputpath"] + values["o"]
    values["l"] = values["outputpath"] + values["l"]
    if mgiza:
        for cls, vcb in (("sourcevocabularyclasses", "s"), ("targetvocabularyclasses", "t")):
            if values[cls] == "":
                values[cls] = values[vcb] + ".classes"
    return params, messages


def format_gizacfg(params: GizaParams) -> str:
    """The `.gizacfg` text: every name and alias, alphabetical, `name value` per line."""
    return "".join(f"{n} {params.value_text(n)}\n" for n in params.names())


def write_gizacfg(params: GizaParams, path=None) -> None:
    """Write `<o>.gizacfg` (or `path`) atomically."""
    with atomic_open(path or params["o"] + ".gizacfg") as fh:
        fh.write(format_gizacfg(params))


def format_parameter_listing(params: GizaParams) -> str:
    """The grouped `name = value  (description)` listing GIZA prints at start and without
    arguments (canonical names and the aliases GIZA lists, alphabetical within a group)."""
    out = []
    for level in LEVELS:
        title = LEVEL_TITLES[level]
        out.append(f"{title}\n{'-' * len(title)}\n")
        specs = sorted((s for s in params._specs.values() if s.level == level), key=lambda s: s.name)
        for s in specs:
            out.append(f"{s.name} = {params.value_text(s.name)}  ({s.description})\n")
        out.append("\n")
    return "".join(out)
