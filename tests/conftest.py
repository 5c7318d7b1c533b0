import sys
from pathlib import Path

# the pure-Python reference implementations live beside the tests
sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
