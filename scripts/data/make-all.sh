#!/usr/bin/env bash
# Regenerate everything in data/ (text corpus, images, audio) and check the 5 MB budget.
#
#   bash scripts/data/make-all.sh
#
# Needs: Node >= 20 with the project's node_modules (pngjs, jpeg-js); apt-get and dpkg-deb
# (the text sources are Debian packages, fetched with `apt-get download` unless installed);
# espeak-ng and sox (apt-get install -y espeak-ng sox) for the audio.
set -euo pipefail
cd "$(dirname "$0")/../.."

node scripts/data/make-text.mjs
node scripts/data/make-images.mjs
bash scripts/data/make-audio.sh

bytes=$(du -sb data | cut -f1)
echo "data/: $bytes bytes"
if [ "$bytes" -gt 5000000 ]; then
  echo "make-all: data/ is over the 5 MB budget" >&2
  exit 1
fi
