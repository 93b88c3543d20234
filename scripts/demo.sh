#!/usr/bin/env bash
# The README's first command: enroll the bundled public-domain photo, then try to certify
# with that same photo held up to the camera — which lifecert refuses — and write reports.
# Needs Rust and ffmpeg; with espeak-ng installed, the photo also gets a voice reading the
# digits (refused all the same: the lips of a photo do not move).
set -euo pipefail
cd "$(dirname "$0")/.."

out=out/demo
mkdir -p "$out"
keys="$out/keys.json"   # stands in for the phone's keystore and the authority's key
cargo build -q --workspace --bin lifecert
lifecert=target/debug/lifecert
id=11010519491231002X   # a specimen resident ID number (valid check digit)

echo "== 1. Enroll 张三 from samples/astronaut.png"
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
echo "== 4. A real person: GRID speaker s1 (samples/grid_a, CC BY 4.0) enrolls face and voice"
# His face from one clip; his voice from three other sentences and from his digit words read
# 0 to 9 (so certification verifies the spoken digits against his own voice).
id2=440106195203150032   # another specimen number (Guangzhou, born 1952)
"$lifecert" enroll --video samples/grid_a/enroll.mp4 --voice samples/grid_a/voice.mp4 \
  --voice-digits samples/grid_a/digits_0_to_9.mp4 --name 李四 --id "$id2" \
  --keys "$keys" --out "$out/grid_a.sealed" --lang en > "$out/grid_a-enroll.json"
echo "enrolled face and voice: $out/grid_a.sealed, $out/grid_a.sealed.voice"

echo
echo "== 5. He reads 2 5 8 after the prompt (his own words, spliced from his clips): certified"
"$lifecert" certify --video samples/grid_a/answer_258.mp4 --challenge 258 --prompt-end 1.6 \
  --template "$out/grid_a.sealed" --voice-templates "$out/grid_a.sealed.voice" \
  --name 李四 --id "$id2" --keys "$keys" --lang en --out "$out/grid_a-result.json" \
  --report "$out/grid_a-genuine.html"

if command -v espeak-ng >/dev/null; then
  echo
  echo "== 6. The same video dubbed by another voice reading 2 5 8 in time: refused"
  for w in two five eight; do espeak-ng -v en-us -s 150 -w "$out/$w.wav" "$w"; done
  # Each word placed where his own word starts in the video (1.60 s, 2.36 s, 3.12 s).
  ffmpeg -v error -y -i "$out/two.wav" -i "$out/five.wav" -i "$out/eight.wav" -filter_complex \
    "[0]adelay=1600[a];[1]adelay=2360[b];[2]adelay=3120[c];[a][b][c]amix=inputs=3:normalize=0,apad=pad_dur=0.5" \
    "$out/dubbed.wav"
  set +e
  "$lifecert" certify --video samples/grid_a/answer_258.mp4 --audio "$out/dubbed.wav" \
    --challenge 258 --prompt-end 1.6 \
    --template "$out/grid_a.sealed" --voice-templates "$out/grid_a.sealed.voice" \
    --name 李四 --id "$id2" --keys "$keys" --lang en --report "$out/grid_a-dubbed.html"
  echo "exit code $? (1 = not certified)"
  set -e
fi
echo
echo "Reports: $out/"
