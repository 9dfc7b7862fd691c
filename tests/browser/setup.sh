#!/usr/bin/env bash
# Installs what the browser test needs, from Debian only: chromium and its
# chromedriver (/usr/bin/chromium, /usr/bin/chromedriver). No browser is ever
# downloaded from anywhere else. A no-op when both are already there.
#
#   tests/browser/setup.sh        # from `make test` and CI, before pytest
#
# Not root and missing: prints the install command; exits 0 on a developer
# machine (the browser test then skips) but 1 when CI=true (it must not skip).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver
PACKAGES=(chromium chromium-driver)

if [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]]; then
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "browser test: $CHROMIUM or $CHROMEDRIVER is missing; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
    if [[ "${CI:-}" == "true" ]]; then
        exit 1
    fi
    echo "browser test: it will be skipped (CI is not set)." >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser test: apt-get not found; install ${PACKAGES[*]} with your package manager." >&2
    [[ "${CI:-}" == "true" ]] && exit 1
    exit 0
fi

echo "browser test: installing ${PACKAGES[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
"$CHROMIUM" --version >&2
"$CHROMEDRIVER" --version >&2
