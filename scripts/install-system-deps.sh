#!/usr/bin/env bash
# Best effort: the Debian packages some tests and the benchmark drive — wrk (load for the
# benchmark smoke test) and Chromium with chromium-driver (the audit report and rule pages
# rendered in a real browser). Tests that need them skip cleanly when they are absent, so a
# developer without root is not blocked.
set -u
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: ${missing[*]} not installed (needs root and apt-get); their tests will skip" >&2
  exit 0
fi
echo "installing Debian packages for the browser and benchmark tests: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
  echo "installed: ${missing[*]}" >&2
else
  echo "note: could not install ${missing[*]}; their tests will skip" >&2
fi
exit 0
