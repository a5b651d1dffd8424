#!/usr/bin/env bash
# Debian packages gongkai uses beyond PyPI: LibreOffice for .doc/.wps, a CJK font for rendering,
# Chromium for the browser test, antiword as the .doc text fallback, poppler for the PDF fixtures.
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v antiword >/dev/null 2>&1 || need+=(antiword)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "gongkai: please install these Debian packages for full support: ${need[*]}" >&2
    echo "gongkai: (.doc/.wps, PDF fixtures and the browser test are skipped without them)" >&2
    exit 0
fi
echo "gongkai: installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
