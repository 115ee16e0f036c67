#!/usr/bin/env bash
# Rebuild spec/hl7v2.5.1/ from the pinned public packages (see spec/hl7v2.5.1/SOURCE.md).
# Needs: node + npm, python3.11 (stdlib + venv). Network: npm and PyPI registries only.
set -euo pipefail

HL7_DICTIONARY_VERSION=1.0.1
HL7APY_VERSION=1.3.5

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../hl7v2.5.1"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm install --silent --no-audit --no-fund --no-save "hl7-dictionary@$HL7_DICTIONARY_VERSION" >/dev/null)
dict_dir="$(cd "$work" && node -p "require('path').dirname(require.resolve('hl7-dictionary/package.json'))")"

"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "hl7apy==$HL7APY_VERSION"
apy_path="$("$work/venv/bin/python" -c 'import hl7apy, os; print(os.path.dirname(os.path.dirname(hl7apy.__file__)))')"

# Check the installed versions are the pinned ones.
got_dict="$(node -p "require('$dict_dir/package.json').version")"
got_apy="$("$work/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("hl7apy"))')"
[ "$got_dict" = "$HL7_DICTIONARY_VERSION" ] || { echo "hl7-dictionary $got_dict != $HL7_DICTIONARY_VERSION" >&2; exit 1; }
[ "$got_apy" = "$HL7APY_VERSION" ] || { echo "hl7apy $got_apy != $HL7APY_VERSION" >&2; exit 1; }

# The converter is stdlib-only; hl7apy's data modules are imported from --hl7apy-path.
"$py" -B "$here/convert_base.py" \
  --dict-dir "$dict_dir" --hl7apy-path "$apy_path" --out "$out" \
  --dict-version "$HL7_DICTIONARY_VERSION" --hl7apy-version "$HL7APY_VERSION"
