"""Builder patches: parsed by unidiff, applied all-or-nothing inside the run's workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ridgeline.autopack import patching
from tests.autopack.runs.conftest import move, service, start


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


MULTI = """diff --git a/src/app.py b/src/app.py
--- a/src/app.py
+++ b/src/app.py
@@ -1,3 +1,3 @@
 import os
-VALUE = 1
+VALUE = 2
 def main():
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# New
+text
\\ No newline at end of file
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("import os\nVALUE = 1\ndef main():\n    pass\n")
    (root / "old.txt").write_text("bye\n")
    return root


def test_modify_add_delete_in_one_patch(ws: Path) -> None:
    out = patching.apply(ws, MULTI)
    assert [(f.path, f.kind, f.lines_added, f.lines_removed) for f in out.files] == [
        ("src/app.py", "modified", 1, 1),
        ("docs/new.md", "added", 2, 0),
        ("old.txt", "deleted", 0, 1),
    ]
    assert (ws / "src" / "app.py").read_text() == "import os\nVALUE = 2\ndef main():\n    pass\n"
    assert (ws / "docs" / "new.md").read_bytes() == b"# New\ntext"  # no newline at end, as the diff says
    assert not (ws / "old.txt").exists()


def test_a_hunk_is_found_at_an_offset_but_never_fuzzily(ws: Path) -> None:
    (ws / "src" / "app.py").write_text("# header\n# more\nimport os\nVALUE = 1\ndef main():\n")
    patching.apply(ws, MULTI.split("--- /dev/null")[0])
    assert "VALUE = 2" in (ws / "src" / "app.py").read_text()
    (ws / "src" / "app.py").write_text("import os\nVALUE = 3\ndef main():\n")
    with pytest.raises(patching.PatchError) as err:
        patching.apply(ws, MULTI.split("--- /dev/null")[0])
    assert err.value.status == 409 and err.value.reason_code == "patch_does_not_apply"


def test_rename(ws: Path) -> None:
    diff = (
        "diff --git a/old.txt b/renamed.txt\nsimilarity index 50%\nrename from old.txt\nrename to renamed.txt\n"
        "--- a/old.txt\n+++ b/renamed.txt\n@@ -1 +1 @@\n-bye\n+hello\n"
    )
    out = patching.apply(ws, diff)
    assert out.files[0].kind == "renamed" and out.files[0].source_path == "old.txt"
    assert (ws / "renamed.txt").read_text() == "hello\n" and not (ws / "old.txt").exists()


@pytest.mark.parametrize(
    "broken_tail",
    [
        # the second file's hunk does not match
        "--- a/old.txt\n+++ b/old.txt\n@@ -1 +1 @@\n-not what is there\n+x\n",
        # adding a file that exists
        "--- /dev/null\n+++ b/old.txt\n@@ -0,0 +1 @@\n+x\n",
        # modifying a file that does not exist
        "--- a/ghost.txt\n+++ b/ghost.txt\n@@ -1 +1 @@\n-a\n+b\n",
    ],
)
def test_a_patch_that_does_not_apply_changes_nothing(ws: Path, broken_tail: str) -> None:
    before = _tree(ws)
    diff = MULTI.split("--- /dev/null")[0] + broken_tail
    with pytest.raises(patching.PatchError) as err:
        patching.apply(ws, diff)
    assert err.value.status == 409 and err.value.reason_code == "patch_does_not_apply"
    assert _tree(ws) == before  # the first file, which would apply, is untouched too


@pytest.mark.parametrize(
    "path",
    ["../escape.txt", "/etc/passwd", "src/../../escape.txt", "C:/x.txt", "..\\escape.txt", "link/evil.txt"],
)
def test_paths_outside_the_workspace_are_refused(ws: Path, tmp_path: Path, path: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, ws / "link")
    before = _tree(ws)
    diff = f"--- a/src/app.py\n+++ b/src/app.py\n@@ -1 +1 @@\n-import os\n+import sys\n--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+pwned\n"
    with pytest.raises(patching.PatchError) as err:
        patching.apply(ws, diff)
    assert err.value.status == 400 and err.value.reason_code == "patch_path_outside_workspace"
    assert _tree(ws) == before and list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_a_symlink_inside_the_workspace_that_leaves_it_is_refused(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("bye\n")
    os.symlink(secret, ws / "alias.txt")
    with pytest.raises(patching.PatchError) as err:
        patching.apply(ws, "--- a/alias.txt\n+++ b/alias.txt\n@@ -1 +1 @@\n-bye\n+owned\n")
    assert err.value.reason_code == "patch_path_outside_workspace"
    assert secret.read_text() == "bye\n"


@pytest.mark.parametrize(
    "text",
    [
        "not a diff at all",
        "",
        "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n",
        "--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+x\n",  # names no file (found by fuzzing)
    ],
)
def test_malformed_patches_are_422(ws: Path, text: str) -> None:
    with pytest.raises(patching.PatchError) as err:
        patching.apply(ws, text)
    assert err.value.status == 422 and err.value.reason_code == "patch_malformed"


@pytest.mark.db
def test_builder_result_applies_to_the_run_workspace(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    move(ap, "r-1", "P0.0", "EXECUTING")
    ws = service(ap).runs.workspace("r-1")
    add = "--- /dev/null\n+++ b/src/hello.py\n@@ -0,0 +1,2 @@\n+def hello():\n+    return 1\n"
    r = ap.post(
        "/runs/r-1/phases/P0.0/builder_result",
        json={"patch_content": add, "tokens_used": 500, "builder_messages": ["added hello"]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["patch_applied"] is True and body["attempt"] == 1 and body["lines_added"] == 2
    assert body["files"] == [
        {"path": "src/hello.py", "kind": "added", "lines_added": 2, "lines_removed": 0, "source_path": None}
    ]
    assert (ws / "src" / "hello.py").read_text() == "def hello():\n    return 1\n"
    edit = "--- a/src/hello.py\n+++ b/src/hello.py\n@@ -1,2 +1,2 @@\n def hello():\n-    return 1\n+    return 2\n"
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": edit})
    assert r.json()["attempt"] == 2 and r.json()["files"][0]["kind"] == "modified"
    assert ap.get("/runs/r-1").json()["phases"][0]["builder_attempts"] == 2


@pytest.mark.db
def test_builder_result_of_a_diff_naming_no_file_is_422(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    nothing = "--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+x\n"  # found by fuzzing: was a 500
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": nothing})
    assert r.status_code == 422 and r.json()["reason_code"] == "patch_malformed"


@pytest.mark.db
def test_builder_result_refusals_change_nothing_and_are_reported(ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    ws = service(ap).runs.workspace("r-1")
    (ws / "a.txt").write_text("one\n")
    before = _tree(ws)
    outside = "--- /dev/null\n+++ b/../../../escape.txt\n@@ -0,0 +1 @@\n+x\n"
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": outside})
    assert r.status_code == 400 and r.json()["reason_code"] == "patch_path_outside_workspace"
    stale = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-zero\n+two\n"
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": stale})
    assert r.status_code == 409 and r.json()["reason_code"] == "patch_does_not_apply"
    assert r.json()["path"] == "a.txt" and r.json()["hunk"] == 1
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": "garbage"})
    assert r.status_code == 422 and r.json()["reason_code"] == "patch_malformed"
    assert _tree(ws) == before
    assert ap.get("/runs/r-1").json()["phases"][0]["builder_attempts"] == 0
    errors = ap.get("/runs/r-1/errors").json()["errors"]
    assert [e["error_type"] for e in errors] == [
        "patch_path_outside_workspace",
        "patch_does_not_apply",
        "patch_malformed",
    ]
    assert all(e["component"] == "builder" and len(e["context"]["patch_sha256"]) == 64 for e in errors)
    # a failed attempt is recorded, its patch is not applied
    good = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n"
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"status": "failed", "patch_content": good})
    assert r.status_code == 200 and r.json()["patch_applied"] is False
    assert _tree(ws) == before


@pytest.mark.db
def test_results_for_a_final_phase_are_409(ap, make_ap) -> None:  # type: ignore[no-untyped-def]
    start(ap, "r-1")
    move(ap, "r-1", "P0.0", "SKIPPED")
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"tokens_used": 1})
    assert r.status_code == 409 and r.json()["reason_code"] == "phase_final"
    r = ap.post("/runs/r-1/phases/P0.0/auditor_result", json={"recommendation": "approve"})
    assert r.status_code == 409 and r.json()["reason_code"] == "phase_final"


@pytest.mark.db
def test_patch_size_limit_is_413(make_ap) -> None:  # type: ignore[no-untyped-def]
    ap = make_ap({"AUTOPACK_MAX_PATCH_BYTES": "100"})
    start(ap, "r-1")
    big = "--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,20 @@\n" + "+0123456789\n" * 20
    r = ap.post("/runs/r-1/phases/P0.0/builder_result", json={"patch_content": big})
    assert r.status_code == 413 and r.json()["reason_code"] == "patch_too_large"
