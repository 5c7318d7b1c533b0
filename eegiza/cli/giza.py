"""The `GIZA++`, `mgiza` and `mgizapp` commands: drop-in replacements for the GIZA++ / MGIZA++
training programs (spec: shared/GIZA_FORMATS.md §1.5, §3).

    GIZA++ [configfile] [-param value | --flag] ...
    mgiza  [configfile] [-param value | --flag] ... [-ncpus N]

Arguments are parsed exactly like GIZA (:func:`eegiza.giza.params.parse_giza_args`: config file
first, `-name value` pairs, unique prefixes, aliases, `--flag`, unknown names warned); the run
itself is :func:`eegiza.giza.run.run_giza`, whose docstring lists the deliberate differences from
GIZA. Without arguments the usage and the parameter list are printed and the exit code is 1;
with `--help` (`-h`) they are printed with exit code 0, `--version` prints the version. A run that
fails removes the `.gizacfg` it wrote (:func:`eegiza.giza.run.run_giza`).
"""
from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

from ..formats.giza import GizaFormatError
from ..giza.params import GizaParamError, GizaParams, format_parameter_listing, parse_giza_args


def _is_mgiza(prog: str) -> bool:
    return "mgiza" in os.path.basename(prog).lower()


def _usage(prog: str, mgiza: bool) -> str:
    return (f"{prog} <config_file> [options]\n\n"
            + format_parameter_listing(GizaParams(mgiza=mgiza)))


def giza_main(argv: Sequence[str], prog: str = "GIZA++") -> int:
    """Run `GIZA++` (or, if ``prog`` names mgiza, `mgiza`) with ``argv`` (without the program
    name); returns the exit code."""
    from ..giza.run import GizaRunError, run_giza

    mgiza = _is_mgiza(prog)
    argv = list(argv)
    if "--version" in argv:
        from .giza_tools import version_text
        sys.stdout.write(version_text(prog))
        return 0
    if argv and argv[0] in ("-h", "-help"):
        argv[0] = "--help"
    if not argv:
        sys.stdout.write(_usage(prog, mgiza))
        sys.stdout.flush()
        return 1
    try:
        params, messages = parse_giza_args(argv, mgiza=mgiza)
    except GizaParamError as err:
        print(err, file=sys.stderr)
        return 1
    if params.help_requested:
        sys.stdout.write(_usage(prog, mgiza))
        sys.stdout.flush()
        return 0
    for message in messages:
        print(message, file=sys.stderr)
    sys.stderr.flush()
    try:
        run_giza(params, mgiza=mgiza)
    except (GizaRunError, GizaFormatError) as err:  # messages already in GIZA's words
        print(f"{err}", file=sys.stderr)
        return 1
    except (ValueError, OSError, NotImplementedError) as err:  # bad classes file, unwritable output, ...
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    return 0


def giza_entry(argv: Optional[Sequence[str]] = None) -> None:
    """Console script `GIZA++`."""
    from .signals import run_interruptible
    sys.exit(run_interruptible("GIZA++", giza_main, sys.argv[1:] if argv is None else argv, "GIZA++"))


def mgiza_entry(argv: Optional[Sequence[str]] = None) -> None:
    """Console scripts `mgiza` and `mgizapp`."""
    prog = os.path.basename(sys.argv[0]) if argv is None else "mgiza"
    from .signals import run_interruptible
    prog = prog if _is_mgiza(prog) else "mgiza"
    sys.exit(run_interruptible(prog, giza_main, sys.argv[1:] if argv is None else argv, prog))
