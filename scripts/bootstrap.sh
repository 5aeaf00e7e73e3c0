# Sourced by scripts/demo and scripts/test: make the project's own virtual
# environment (.venv) and install the project into it, pinned by constraints.txt.
# Re-running is cheap: it reinstalls only when pyproject.toml or the pins change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "CALLE needs Python 3.11 or newer on PATH (or PYTHON=/path/to/python3.11)." >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)"
  echo "==> creating the virtual environment .venv with $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi

STAMP="$VENV/.calle-installed$EXTRAS"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "==> installing CALLE${EXTRAS:+ with $EXTRAS} into .venv (first time takes a few minutes)"
  "$VENV/bin/python" -m pip install -qq --upgrade pip
  "$VENV/bin/python" -m pip install -qq -c "$ROOT/constraints.txt" -e "$ROOT$EXTRAS"
  "$VENV/bin/python" -c "import calle, features" # fail here, not later, if the install failed
  echo "$WANT" >"$STAMP"
fi
export PATH="$VENV/bin:$PATH"
