# Sourced by the other scripts: makes .venv current, then puts it (and node_modules) on PATH.
# ONA_PATS_INSTALL=server (scripts/demo) installs only ona-pats[server]: no dev tools, no npm.
# Otherwise everything: ona-pats[dev], with package-lock.json the Node side (npm ci), and
# .venv-protovalidate (tests/protovalidate/requirements.txt) for the rule-agreement test.
# Reinstalls only when pyproject.toml or package-lock.json changed since the last install, or
# when the last install was the smaller one and this script needs more.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ONA_PATS_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
INSTALL="${ONA_PATS_INSTALL:-dev}"

_stamp() { cat "$ROOT/pyproject.toml" "$ROOT/package-lock.json" "$ROOT/tests/protovalidate/requirements.txt" 2>/dev/null | sha256sum | cut -d' ' -f1; }
_pip() { "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

if [ ! -x "$VENV/bin/python" ]; then
  echo "scripts: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
# One installer at a time: parallel runs of the scripts share the virtual environment.
exec 9>"$ROOT/.venv.lock"
flock 9
installed="$(cat "$VENV/.ona-pats-stamp" 2>/dev/null || true)"
# A dev install holds everything a server install has.
if [ "$installed" != "dev $(_stamp)" ] && [ "$installed" != "$INSTALL $(_stamp)" ]; then
  if [ "$INSTALL" = server ]; then
    echo "scripts: installing ona-pats[server] into $VENV" >&2
    _pip -e "$ROOT[server]"
  else
    echo "scripts: installing ona-pats and its dev tools into $VENV" >&2
    _pip --upgrade pip
    _pip -e "$ROOT[dev]"
    if [ -f "$ROOT/package-lock.json" ]; then
      (cd "$ROOT" && npm ci --silent --no-audit --no-fund)
    fi
    # protovalidate, the official reading of the schema's rules, for one test only
    # (tests/test_rules_agreement.py): its own environment, never next to ona_pats.
    rm -rf "$ROOT/.venv-protovalidate"
    "$PYTHON" -m venv "$ROOT/.venv-protovalidate"
    "$ROOT/.venv-protovalidate/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$ROOT/tests/protovalidate/requirements.txt" 2> >(grep -v "is ignored: it is neither" >&2)
  fi
  echo "$INSTALL $(_stamp)" > "$VENV/.ona-pats-stamp"
fi
flock -u 9
export PATH="$VENV/bin:$ROOT/node_modules/.bin:$PATH"
cd "$ROOT"
