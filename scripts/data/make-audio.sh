#!/usr/bin/env bash
# Synthesise the spoken sample clips in data/audio/ with espeak-ng and convert them with sox.
#
#   bash scripts/data/make-audio.sh [OUT_DIR]          (default data/audio)
#
# Needs the Debian packages espeak-ng and sox (apt-get install -y espeak-ng sox).
# Output: 16 kHz mono 16-bit PCM WAV clips, one 44.1 kHz stereo 16-bit copy of the first clip
# (right channel at half amplitude, so a downmix is distinguishable from taking one channel),
# and transcripts.tsv. espeak-ng's output is deterministic for a given espeak-ng version; sox is
# run without dither (-D) so that the conversion is deterministic too.
set -euo pipefail

OUT="${1:-data/audio}"
VOICE="en-us"
SPEED=150 # words per minute (espeak-ng default is 175)

for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make-audio: $tool is not installed (apt-get install -y espeak-ng sox)" >&2; exit 1; }
done
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# file name <TAB> sentence
CLIPS=$(cat <<'EOF'
capital-of-france.wav	The capital of France is Paris.
quick-brown-fox.wav	The quick brown fox jumps over the lazy dog.
counting-one-to-five.wav	One, two, three, four, five.
hello-how-are-you.wav	Hello, how are you today?
EOF
)

printf 'file\ttext\n' > "$OUT/transcripts.tsv"
while IFS=$'\t' read -r name text; do
  espeak-ng -v "$VOICE" -s "$SPEED" -w "$TMP/raw.wav" "$text"
  # 22.05 kHz mono from espeak-ng -> 16 kHz mono 16-bit, peak-normalised to -1 dBFS.
  sox -D "$TMP/raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$OUT/$name" norm -1
  printf '%s\t%s\n' "$name" "$text" >> "$OUT/transcripts.tsv"
  dur=$(soxi -D "$OUT/$name")
  awk -v d="$dur" -v n="$name" 'BEGIN { if (d > 4.0) { printf "make-audio: %s is %.2f s (> 4 s)\n", n, d; exit 1 } }'
done <<< "$CLIPS"

# The first clip again, as 44.1 kHz stereo (left = speech, right = speech at half amplitude).
first_name=$(head -n1 <<< "$CLIPS" | cut -f1)
first_text=$(head -n1 <<< "$CLIPS" | cut -f2)
stereo_name="${first_name%.wav}-44k1-stereo.wav"
espeak-ng -v "$VOICE" -s "$SPEED" -w "$TMP/raw.wav" "$first_text"
sox -D "$TMP/raw.wav" -r 44100 -b 16 -e signed-integer "$OUT/$stereo_name" norm -1 remix 1 1v0.5
printf '%s\t%s\n' "$stereo_name" "$first_text" >> "$OUT/transcripts.tsv"

for f in "$OUT"/*.wav; do
  printf '%s\t%s Hz\t%s ch\t%.2f s\t%s bytes\n' "$(basename "$f")" "$(soxi -r "$f")" "$(soxi -c "$f")" "$(soxi -D "$f")" "$(stat -c %s "$f")"
done
