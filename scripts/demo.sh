#!/usr/bin/env bash
# The README's first command: enrol the bundled public-domain photo, then try to certify
# with that same photo held up to the camera — which lifecert refuses — and write reports.
# Needs Rust and ffmpeg; with espeak-ng installed, the photo also gets a voice reading the
# digits (refused all the same: the lips of a photo do not move).
set -euo pipefail
cd "$(dirname "$0")/.."

out=out/demo
mkdir -p "$out"
keys="$out/keys.json"   # stands in for the phone's keystore and the authority's key
cargo build -q -p lifecert-cli
lifecert=target/debug/lifecert
id=11010519491231002X   # a specimen resident ID number (valid check digit)

echo "== 1. Enrol 张三 from samples/astronaut.png"
"$lifecert" enroll --photos samples/astronaut.png --name 张三 --id "$id" \
  --keys "$keys" --out "$out/astronaut.sealed" --lang en

echo
echo "== 2. Certify with the photo held to the camera for 4 s (random digits, no voice)"
set +e
"$lifecert" certify --still samples/astronaut.png --seconds 4 \
  --template "$out/astronaut.sealed" --name 张三 --id "$id" --keys "$keys" --lang en \
  --report "$out/still-photo.html"
echo "exit code $? (1 = not certified)"

if command -v espeak-ng >/dev/null; then
  echo
  echo "== 3. The same photo with a voice reading 2 5 8 after the prompt (replayed challenge)"
  espeak-ng -v cmn -s 130 -w "$out/digits.wav" '二，五，八'
  ffmpeg -v error -y -i "$out/digits.wav" -af adelay=1500 "$out/voice.wav"
  "$lifecert" certify --still samples/astronaut.png --audio "$out/voice.wav" \
    --challenge 258 --prompt-end 1.0 \
    --template "$out/astronaut.sealed" --name 张三 --id "$id" --keys "$keys" --lang en \
    --report "$out/still-photo-with-voice.png"
  echo "exit code $? (1 = not certified)"
else
  echo "(install espeak-ng to also try the photo with a voice)"
fi
set -e
echo
echo "Reports: $out/"
