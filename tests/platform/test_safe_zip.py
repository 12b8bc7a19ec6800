"""Safe zip extraction: zip-slip, absolute paths, links, nested archives, bombs, caps."""
import stat
import zipfile

import pytest

from projects.services.safe_zip import ArchiveLimits, UnsafeArchiveError, extract_zip_safely

LIMITS = ArchiveLimits(max_total_bytes=10 * 1024 * 1024, max_files=100, max_ratio=200)


def make_zip(path, entries):
    """entries: (name, bytes) or a prepared ZipInfo with bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def test_a_clean_zip_is_extracted(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [("images/a.jpg", b"x" * 10), ("b.png", b"y")])
    result = extract_zip_safely(archive, tmp_path / "out", LIMITS)
    assert result.n_files == 2 and result.total_bytes == 11
    assert (tmp_path / "out" / "images" / "a.jpg").read_bytes() == b"x" * 10


@pytest.mark.parametrize("name", ["../evil.jpg", "images/../../evil.jpg", "/etc/evil.jpg",
                                  "..\\evil.jpg", "C:/evil.jpg"])
def test_paths_leaving_the_folder_are_refused(tmp_path, name):
    archive = make_zip(tmp_path / "slip.zip", [("images/ok.jpg", b"ok"), (name, b"evil")])
    target = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match="path|refused"):
        extract_zip_safely(archive, target, LIMITS)
    assert not target.exists(), "nothing may be left behind"
    assert not list(tmp_path.rglob("evil.jpg"))


def test_symbolic_links_are_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("images/link.jpg")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract_zip_safely(path, tmp_path / "out", LIMITS)


def test_nested_archives_are_refused(tmp_path):
    inner = make_zip(tmp_path / "inner.zip", [("a.jpg", b"a")])
    archive = make_zip(tmp_path / "outer.zip", [("images/more.zip", inner.read_bytes())])
    with pytest.raises(UnsafeArchiveError, match="another archive"):
        extract_zip_safely(archive, tmp_path / "out", LIMITS)


def test_a_zip_bomb_gives_a_clear_error(tmp_path):
    # 50 MB of zeros compresses ~1000-fold: refused before extraction by the ratio check.
    archive = make_zip(tmp_path / "bomb.zip", [("images/zeros.jpg", b"\0" * (50 * 1024 * 1024))])
    assert archive.stat().st_size < 200_000
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        extract_zip_safely(archive, tmp_path / "out", LIMITS)
    assert not (tmp_path / "out").exists()


def test_total_size_and_file_count_caps(tmp_path):
    archive = make_zip(tmp_path / "big.zip", [(f"{i}.jpg", bytes(range(256)) * 20) for i in range(5)])
    with pytest.raises(UnsafeArchiveError, match="limit"):
        extract_zip_safely(archive, tmp_path / "a", ArchiveLimits(20_000, 100))
    with pytest.raises(UnsafeArchiveError, match="5 files"):
        extract_zip_safely(archive, tmp_path / "b", ArchiveLimits(10 ** 9, 4))


def test_lying_sizes_are_caught_while_writing(tmp_path):
    """The central directory's sizes are claims: the bytes written are counted too."""
    path = make_zip(tmp_path / "liar.zip", [("a.jpg", b"z" * 4096)])
    raw = bytearray(path.read_bytes())
    # Patch the declared uncompressed size in the central directory to 10 bytes.
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(UnsafeArchiveError):
        extract_zip_safely(path, tmp_path / "out", ArchiveLimits(1000, 10))
    assert not (tmp_path / "out").exists()


def test_not_a_zip(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(UnsafeArchiveError, match="not a readable zip"):
        extract_zip_safely(path, tmp_path / "out", LIMITS)
