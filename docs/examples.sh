#!/usr/bin/env bash
# Regenerates the examples of README.md from a real run, and prints each command with its output:
# the service on a fresh private database in a temporary folder, the README's curl examples against it
# (run in docs/examples, so `@digit.png` is the committed file), then the predict command on 200 MNIST
# test digits and one broken file, twice. Nothing outside the temporary folder is changed.
#
#   bash docs/examples.sh
#
# Needs what the service needs (the .NET SDK, PostgreSQL server binaries), plus curl, jq and python3.
# The MNIST test files are read from ../shared/mnist next to the repository (MNIST_DIR overrides it);
# only the predict part and a missing docs/examples/*.png need them. PORT picks the port (default 5089).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mnist=${MNIST_DIR:-$root/../shared/mnist}
port=${PORT:-5089}
base=http://127.0.0.1:$port
work=$(mktemp -d)
# Run as root, the service runs PostgreSQL as the postgres user, which must be able to reach the cluster folder.
chmod 755 "$work"
service_pid=

cleanup() {
    if [[ -n $service_pid ]] && kill -0 "$service_pid" 2>/dev/null; then
        kill -TERM "$service_pid"
        wait "$service_pid" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Writes MNIST test images as 8-bit grayscale PNGs: mnist_png OUT_DIR INVERT (1: dark digit on white,
# as a scan or a drawing; 0: as stored, light on black) then "index:path" pairs, or "per-class N".
mnist_png() {
    python3 - "$mnist" "$@" <<'EOF'
import gzip, os, struct, sys, zlib
mnist, out, invert, *wanted = sys.argv[1:]
images = gzip.open(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")).read()[16:]
labels = gzip.open(os.path.join(mnist, "t10k-labels-idx1-ubyte.gz")).read()[8:]

def png(path, pixels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(pixels[y * 28:(y + 1) * 28]) for y in range(28))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))

def pixels(i):
    p = images[i * 784:(i + 1) * 784]
    return [255 - v for v in p] if invert == "1" else list(p)

if wanted[0] == "per-class":
    counts = [0] * 10
    for i, label in enumerate(labels):
        if counts[label] < int(wanted[1]):
            os.makedirs(os.path.join(out, str(label)), exist_ok=True)
            png(os.path.join(out, str(label), f"{i:05}.png"), pixels(i))
            counts[label] += 1
else:
    for pair in wanted:
        index, name = pair.split(":")
        png(os.path.join(out, name), pixels(int(index)))
EOF
}

# Prints a command as the README writes it (http://localhost:5080, /tmp paths, arguments quoted for a
# shell), runs it, prints its output with the same substitutions, and leaves its exit code in $status.
show() {
    local arg shown=
    for arg in "$@"; do
        [[ $arg =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]] || arg="'$arg'"
        shown+=" $arg"
    done
    shown=${shown//$base/http://localhost:5080}
    printf '$%s\n' "${shown//$work\//\/tmp\/}"
    status=0
    "$@" >"$work/output" 2>&1 || status=$?
    sed "s#$work/#/tmp/#g" "$work/output"
    echo
}

cd "$root/docs/examples"
[[ -f digit.png && -f two.png ]] || mnist_png . 1 0:digit.png 1:two.png
[[ -f notes.txt ]] || printf 'These are notes, not an image.\n' > notes.txt

echo "## Building and starting the service on a fresh database in $work/db" >&2
dotnet build "$root/src/PredictionApi" -v q -nologo >&2
"$root/src/PredictionApi/bin/Debug/net10.0/PredictionApi" --urls "$base" --Database:LocalDirectory="$work/db" >"$work/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 300); do
    curl -sf "$base/health/ready" >/dev/null 2>&1 && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$work/service.log" >&2; exit 1; }
    sleep 0.2
done

echo "## Examples"
show curl -s -i -F file=@digit.png "$base/prediction"
# The tensor is 784 numbers: only its layout, shape and first values are printed.
printf '$ %s\n' "curl -s -F file=@digit.png 'http://localhost:5080/prediction?include=tensor'  (tensor.data cut to 4 values)"
curl -s -F file=@digit.png "$base/prediction?include=tensor" | jq -c '.tensor.data |= .[:4]'
echo
show curl -s -F file=@two.png "$base/prediction"
show curl -s "$base/predictions?limit=2&fields=likely_class,confidence"
cursor=$(curl -s "$base/predictions?limit=2&fields=likely_class,confidence" | jq -r .next_cursor)
show curl -s "$base/predictions?limit=2&fields=likely_class,confidence&cursor=$cursor"
show curl -s "$base/predictions?likely_class=7&model=mnist&fields=likely_class"
show curl -s "$base/prediction/1"
show curl -s -o "$work/digit-1.png" -w '%{http_code} %{content_type} %{size_download} bytes\n' "$base/prediction/1/image"
cmp "$work/digit-1.png" digit.png && echo "digit-1.png is digit.png, byte for byte"
echo
show curl -s "$base/models/mnist"
show curl -s "$base/health/live"
show curl -s "$base/health/ready"
printf '$ %s\n' "curl -s http://localhost:5080/openapi/v1.json | jq -c '.info, (.paths | keys)'"
curl -s "$base/openapi/v1.json" | jq -c '.info, (.paths | keys)'
echo

echo "## Labels, filters, statistics and feedback"
show curl -s -F file=@digit.png "$base/prediction?max_labels=3&min_confidence=0.1"
today=$(date -u +%F)
tomorrow=$(date -u -d tomorrow +%F)
show curl -s "$base/predictions?model=mnist&likely_class=2&from=$today&to=$tomorrow&fields=likely_class,created_at"
show curl -s "$base/predictions?max_confidence=0.6"
show curl -s -X PATCH -H 'Content-Type: application/json' -d '{"true_label": "7", "note": "thin stroke"}' "$base/prediction/1"
show curl -s "$base/predictions?label=7&fields=true_label,note"
show curl -s "$base/predictions?fields=likely_class,confidence,true_label"
printf '$ %s\n' "curl -s 'http://localhost:5080/predictions?fields=*,image&limit=10' | jq -c '.items[] | .image |= .[:40]'"
curl -s "$base/predictions?fields=*,image&limit=10" | jq -c '.items[] | .image |= .[:40]'
echo
show curl -s "$base/predictions/stats?from=$today&to=$tomorrow"
hour=$(date -u +%FT%H:00:00Z)
show curl -s "$base/predictions/stats/series?model=mnist&from=$(date -u -d "$hour - 1 hour" +%FT%TZ)&to=$(date -u -d "$hour + 1 hour" +%FT%TZ)"
show curl -s -X PATCH -H 'Content-Type: application/json' -d '{"true_label": null}' "$base/prediction/1"

echo "## Batches, deletes and retention"
show curl -s -H "Idempotency-Key: 3f1c2a9e-1d7b-4a57-9b7e-2c4d5e6f7a8b" -F file=@digit.png -F file=@notes.txt -F file=@two.png "$base/predictions/batch"
show curl -s -i -H "Idempotency-Key: 3f1c2a9e-1d7b-4a57-9b7e-2c4d5e6f7a8b" -F file=@digit.png -F file=@notes.txt -F file=@two.png "$base/predictions/batch"
show curl -s -o /dev/null -w '%{http_code}\n' -X DELETE "$base/prediction/1"
show curl -s -X DELETE "$base/predictions?before=2025-01-01T00:00:00Z"
sleep 1
now=$(date -u +%FT%TZ)
show curl -s -X DELETE "$base/predictions?before=$now&max_confidence=0.5"
show curl -s -X DELETE "$base/predictions?before=$now"

echo "## Errors"
show curl -s -F file=@notes.txt "$base/prediction"

echo "## Open Inference Protocol (V2)"
show curl -s "$base/v2"
show curl -s "$base/v2/health/ready"
show curl -s "$base/v2/models/mnist"
show curl -s "$base/v2/models/mnist/ready"
# Two images in one BYTES input, base64 (the README shows the printf that writes this file).
printf '{"id": "scan-0001", "inputs": [{"name": "input", "shape": [2], "datatype": "BYTES", "data": ["%s", "%s"]}]}' \
    "$(base64 -w0 digit.png)" "$(base64 -w0 two.png)" > "$work/images.json"
show curl -s -H 'Content-Type: application/json' -d @"$work/images.json" "$base/v2/models/mnist/infer"
# A tensor already shaped for the model: the one the service makes of digit.png.
curl -s -F file=@digit.png "$base/prediction?include=tensor" \
    | jq '{id: "t-42", inputs: [{name: "input", shape: [1, 1, 28, 28], datatype: "FP32", data: .tensor.data}], outputs: [{name: "label"}]}' > "$work/tensor.json"
show curl -s -H 'Content-Type: application/json' -d @"$work/tensor.json" "$base/v2/models/mnist/versions/2.0.0/infer"
tensor_id=$(jq -r .parameters.prediction_ids "$work/output")
show curl -s "$base/predictions?limit=4&fields=filename,contenttype,likely_class"
show curl -s -o "$work/item.f32" -w '%{content_type} %{size_download}\n' "$base/prediction/$tensor_id/image"
python3 -c 'import json, struct, sys; sent = json.load(open(sys.argv[1]))["inputs"][0]["data"]
print("stored bytes are the float32 values sent:", struct.pack("<784f", *sent) == open(sys.argv[2], "rb").read())' "$work/tensor.json" "$work/item.f32"
show curl -s -H 'Content-Type: application/json' -d '{"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": [0]}]}' "$base/v2/models/mnist/infer"
show curl -s -H 'Content-Type: application/json' -d @"$work/images.json" "$base/v2/models/fashion/infer"

# Stopping: SIGTERM to the service process (what `docker stop` and systemd send); it stops its private
# PostgreSQL cluster before it exits.
kill -TERM "$service_pid"
wait "$service_pid" && echo "(service stopped with exit code 0)" >&2
service_pid=

echo "## The predict command"
mkdir -p "$work/digits/sample"
mnist_png "$work/digits/sample" 0 per-class 20
printf 'not an image' > "$work/digits/sample/broken.png"
cd "$root"
for _ in 1 2; do
    show dotnet run --project src/PredictionApi -- predict "$work/digits/sample" --Database:LocalDirectory="$work/predict-demo"
    printf '$ echo $?\n%s\n\n' "$status"
done
