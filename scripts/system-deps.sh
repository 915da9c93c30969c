#!/usr/bin/env bash
# Install the Debian packages named as arguments when they are missing and we may (root + apt).
# Elsewhere, say what to install and carry on: the app still runs, with a warning or a skip.
set -u
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || echo "warning: could not install ${missing[*]}"
  fi
else
  echo "note: install these Debian packages for the best results: ${missing[*]}"
fi
exit 0
