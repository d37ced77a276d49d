# Sourced by the other scripts: makes .venv (and node_modules) current, then puts them on PATH.
# Reinstalls only when pyproject.toml or package-lock.json changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ONA_PATS_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

_stamp() { cat "$ROOT/pyproject.toml" "$ROOT/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1; }

if [ ! -x "$VENV/bin/python" ]; then
  echo "scripts: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
# One installer at a time: parallel runs of the scripts share the virtual environment.
exec 9>"$ROOT/.venv.lock"
flock 9
if [ "$(cat "$VENV/.ona-pats-stamp" 2>/dev/null)" != "$(_stamp)" ]; then
  echo "scripts: installing ona-pats and its dev tools into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2> >(grep -v "is ignored: it is neither" >&2)
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]" 2> >(grep -v "is ignored: it is neither" >&2)
  if [ -f "$ROOT/package-lock.json" ]; then
    (cd "$ROOT" && npm ci --silent --no-audit --no-fund)
  fi
  _stamp > "$VENV/.ona-pats-stamp"
fi
flock -u 9
export PATH="$VENV/bin:$ROOT/node_modules/.bin:$PATH"
cd "$ROOT"
