"""``python -m eegiza`` runs the ``eegiza`` command."""
import sys

from .cli.main import main

sys.exit(main())
