#!/usr/bin/env bash
# Debian/Ubuntu packages gongkai uses beyond PyPI, and nothing else:
#   python3-venv      `python3 -m venv` where the system Python lacks ensurepip (make install's .venv)
#   libgl1, libglib   opencv (pulled in by rapidocr, the ocr extra) loads libGL.so.1 and libgthread-2.0.so.0;
#                     without them OCR is unavailable however the wheels installed
#   libreoffice       .doc/.wps/.rtf reading, PDF and scan fixtures (soffice)
#   antiword          the .doc text fallback without LibreOffice
#   chromium          the browser tests (Playwright drives /usr/bin/chromium)
#   fonts-wqy-zenhei  a CJK font for rendered PDFs, scans and charts
# and with --test (make test) what only the tests use:
#   r-base-core       Rscript: the panel's CSV read by R as a researcher reads it (tests/test_panel.py)
# (poppler-utils and procps are not needed: nothing runs pdftoppm, and the tests read /proc themselves)
# Idempotent and quiet: checks what is there first; installs only as root with apt-get, else says what is missing.
set -euo pipefail

have_lib() { python3 -c "import ctypes.util, sys; sys.exit(not ctypes.util.find_library('$1'))" 2>/dev/null; }

need=()
can_venv() {  # a real venv with pip: Debian's python3 has the venv module but not ensurepip without python3-venv
    local tmp rc
    tmp=$(mktemp -d)
    python3 -m venv "$tmp/v" >/dev/null 2>&1 && rc=0 || rc=1
    rm -rf "$tmp"
    return $rc
}
[ -x .venv/bin/python ] || can_venv || need+=(python3-venv)
have_lib GL || need+=(libgl1)
have_lib gthread-2.0 || need+=(glib)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v antiword >/dev/null 2>&1 || need+=(antiword)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
if [ "${1:-}" = --test ]; then
    command -v Rscript >/dev/null 2>&1 || need+=(r-base-core)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "gongkai: please install these Debian/Ubuntu packages for full support: ${need[*]/glib/libglib2.0-0}" >&2
    echo "gongkai: (without them .doc/.wps, OCR, the PDF fixtures or the browser tests are unavailable)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# names that differ between releases: glib is libglib2.0-0t64 on Ubuntu 24.04+ and Debian 13+;
# Ubuntu's chromium is a snap wrapper, so there it is chromium-browser only when a real package exists
available() { apt-cache show "$1" 2>/dev/null | grep -q '^Filename:'; }
packages=()
for name in "${need[@]}"; do
    case "$name" in
        glib) if available libglib2.0-0t64; then packages+=(libglib2.0-0t64); else packages+=(libglib2.0-0); fi ;;
        chromium) if available chromium; then packages+=(chromium); else echo "gongkai: no chromium package here (the browser tests will skip)" >&2; fi ;;
        *) packages+=("$name") ;;
    esac
done
[ ${#packages[@]} -eq 0 ] && exit 0
echo "gongkai: installing Debian packages: ${packages[*]}" >&2
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
