"""Loaders refuse missing, unlisted or corrupt data with a message naming the file and both hashes."""

import hashlib

import pytest

from src.data import embed as embed_module
from src.data.checksums import DataIntegrityError, read_manifest, verified_path


@pytest.fixture
def raw(tmp_path):
    """A data/raw-like folder with one file and its manifest."""
    root = tmp_path / "data" / "raw"
    (root / "toy").mkdir(parents=True)
    content = b"x,y\n1,2\n"
    (root / "toy" / "table.csv").write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    manifest = root / "MANIFEST.sha256"
    manifest.write_text(f"# comment\n{digest}  {len(content)}  toy/table.csv\n")
    return root, manifest, digest


def test_intact_file_is_returned(raw):
    root, manifest, _ = raw
    assert verified_path("toy/table.csv", manifest, root) == root / "toy" / "table.csv"


def test_corrupt_file_names_file_and_both_hashes(raw):
    root, manifest, digest = raw
    (root / "toy" / "table.csv").write_bytes(b"x,y\n1,3\n")
    actual = hashlib.sha256(b"x,y\n1,3\n").hexdigest()
    with pytest.raises(DataIntegrityError, match=rf"table\.csv is corrupt: sha256 expected {digest}, got {actual}"):
        verified_path("toy/table.csv", manifest, root)


def test_missing_file_says_how_to_restore(raw):
    root, manifest, _ = raw
    (root / "toy" / "table.csv").unlink()
    with pytest.raises(DataIntegrityError, match=r"table\.csv is missing\. Restore it with `git checkout"):
        verified_path("toy/table.csv", manifest, root)


def test_unlisted_file_is_refused(raw):
    root, manifest, _ = raw
    with pytest.raises(DataIntegrityError, match="not listed"):
        verified_path("toy/other.csv", manifest, root)


def test_malformed_manifest_line_is_reported(raw):
    _, manifest, _ = raw
    manifest.write_text("not a manifest line\n")
    with pytest.raises(DataIntegrityError, match=r"MANIFEST\.sha256:1"):
        read_manifest(manifest)


def test_embed_copies_verified_file_and_records_it(tmp_path, monkeypatch):
    source = tmp_path / "shared"
    (source / "toy").mkdir(parents=True)
    content = b"hello\n"
    (source / "toy" / "a.txt").write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    (source / "SOURCES.md").write_text(f"# sources\n## Manifest (path, bytes, sha256)\n{digest}  6  toy/a.txt\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setattr(embed_module, "DATA_RAW", raw)
    monkeypatch.setattr(embed_module, "MANIFEST", raw / "MANIFEST.sha256")

    target = embed_module.embed("toy/a.txt", source)

    assert target.read_bytes() == content
    assert read_manifest(raw / "MANIFEST.sha256") == {"toy/a.txt": (digest, 6)}
    assert verified_path("toy/a.txt", raw / "MANIFEST.sha256", raw) == target


def test_embed_refuses_a_source_file_that_does_not_match_its_manifest(tmp_path, monkeypatch):
    source = tmp_path / "shared"
    (source / "toy").mkdir(parents=True)
    (source / "toy" / "a.txt").write_bytes(b"tampered\n")
    (source / "SOURCES.md").write_text("## Manifest\n" + "0" * 64 + "  6  toy/a.txt\n")
    monkeypatch.setattr(embed_module, "DATA_RAW", tmp_path)
    with pytest.raises(DataIntegrityError, match="sha256 expected 0000"):
        embed_module.embed("toy/a.txt", source)
