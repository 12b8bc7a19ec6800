"""Tests for clustering_engine.data: reading pairs tables and the validation report.

Every bad-input case uses a real file made in tmp_path (images written with Pillow).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from clustering_engine.data import detect_encoding, load_pairs
from clustering_engine.errors import DataError

MEDIAEVAL = Path("/work/shared/data/mediaeval2016_vmu")


# --- helpers -----------------------------------------------------------------------------------

def write_image(path: Path, size=(32, 24), fmt=None, seed=0) -> Path:
    """A small noisy image (noise makes JPEG data long enough to truncate meaningfully)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)
    return path


def write_csv(path: Path, rows: list[dict], encoding="utf-8", columns=None) -> Path:
    columns = columns or list(rows[0])
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def root(tmp_path) -> Path:
    """tmp_path/data with images/good.jpg and images/other.png."""
    data = tmp_path / "data"
    write_image(data / "images" / "good.jpg", seed=1)
    write_image(data / "images" / "other.png", seed=2)
    return data


def good_rows(n=2):
    return [{"id": str(100 + i), "text": f"post {i}", "image": "images/good.jpg"} for i in range(n)]


def load_with_bad_image(root: Path, image: str, **kwargs):
    """A table of two good rows plus one row pointing at ``image``; returns (table, rejected)."""
    rows = good_rows() + [{"id": "bad", "text": "bad post", "image": image}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root, **kwargs)
    return table, table.report.rejected


def only_rejection(rejected):
    assert len(rejected) == 1, rejected
    return rejected[0]


# --- image problems ----------------------------------------------------------------------------

def test_missing_image_file(root):
    table, rejected = load_with_bad_image(root, "images/nope.jpg")
    r = only_rejection(rejected)
    assert (r.row, r.id, r.field, r.reason) == (3, "bad", "image", "missing_file")
    assert "nope.jpg" in r.message
    assert list(table.pairs.pair_id) == ["100", "101"]


def test_zero_byte_image(root):
    (root / "images" / "empty.jpg").write_bytes(b"")
    _, rejected = load_with_bad_image(root, "images/empty.jpg")
    assert only_rejection(rejected).reason == "empty_file"


def test_truncated_jpeg(root):
    data = (write_image(root / "images" / "full.jpg", size=(128, 128))).read_bytes()
    (root / "images" / "cut.jpg").write_bytes(data[: len(data) // 2])
    _, rejected = load_with_bad_image(root, "images/cut.jpg")
    r = only_rejection(rejected)
    assert r.reason == "truncated_image" and "cut.jpg" in r.message
    # header mode does not decode JPEG data, so it lets the truncated file through (documented)
    table, rejected = load_with_bad_image(root, "images/cut.jpg", check_images="header")
    assert rejected == [] and len(table) == 3


def test_corrupt_image_bytes(root):
    data = bytearray(write_image(root / "images" / "ok.png", size=(128, 128), fmt="PNG").read_bytes())
    start = data.find(b"IDAT") + 40
    data[start:start + 200] = bytes(200)  # wipe compressed pixel data, header intact
    (root / "images" / "broken.png").write_bytes(bytes(data))
    _, rejected = load_with_bad_image(root, "images/broken.png")
    assert only_rejection(rejected).reason == "corrupt_image"


def test_text_file_with_jpg_extension(root):
    (root / "images" / "notes.jpg").write_text("this is not an image\n")
    _, rejected = load_with_bad_image(root, "images/notes.jpg")
    assert only_rejection(rejected).reason == "not_an_image"


def _png_with_declared_size(path: Path, width: int, height: int) -> Path:
    """A 1x1 PNG whose IHDR claims width x height (CRC fixed): a cheap decompression bomb."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR payload starts after sig+len+type
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def test_decompression_bomb_declared_dimensions(root):
    _png_with_declared_size(root / "images" / "bomb.png", 100_000, 100_000)
    _, rejected = load_with_bad_image(root, "images/bomb.png")
    r = only_rejection(rejected)
    assert r.reason == "decompression_bomb" and "bomb.png" in r.message


def test_decompression_bomb_limit_parameter(root):
    write_image(root / "images" / "big.png", size=(64, 64), fmt="PNG")
    _, rejected = load_with_bad_image(root, "images/big.png", max_image_pixels=1000)
    # good.jpg is 32x24 = 768 pixels: under the limit
    r = only_rejection(rejected)
    assert r.reason == "decompression_bomb" and "4,096" in r.message


def test_directory_instead_of_file(root):
    (root / "images" / "folder.jpg").mkdir()
    _, rejected = load_with_bad_image(root, "images/folder.jpg")
    assert only_rejection(rejected).reason == "not_a_file"


def test_url_image_rejected(root):
    _, rejected = load_with_bad_image(root, "https://example.org/a.jpg")
    assert only_rejection(rejected).reason == "url_not_supported"


# --- paths outside the root --------------------------------------------------------------------

def test_parent_traversal_outside_root(root, tmp_path):
    write_image(tmp_path / "secret.jpg")  # exists, but outside the images root
    _, rejected = load_with_bad_image(root, "../secret.jpg")
    assert only_rejection(rejected).reason == "path_outside_root"


def test_absolute_path_outside_root_and_allowed_roots(root, tmp_path):
    outside = write_image(tmp_path / "elsewhere" / "x.jpg")
    _, rejected = load_with_bad_image(root, str(outside))
    assert only_rejection(rejected).reason == "path_outside_root"
    # the same absolute path is fine once its folder is an allowed root
    table, rejected = load_with_bad_image(
        root, str(outside), allowed_roots=[root, tmp_path / "elsewhere"])
    assert rejected == []
    assert table.pairs.image_path.iloc[2] == os.path.realpath(outside)


def test_symlink_resolving_outside_root(root, tmp_path):
    outside = write_image(tmp_path / "private" / "x.jpg")
    (root / "images" / "link.jpg").symlink_to(outside)
    _, rejected = load_with_bad_image(root, "images/link.jpg")
    assert only_rejection(rejected).reason == "symlink_outside_root"


def test_symlink_inside_root_is_resolved(root):
    (root / "images" / "alias.jpg").symlink_to(root / "images" / "good.jpg")
    table, rejected = load_with_bad_image(root, "images/alias.jpg")
    assert rejected == []
    assert table.pairs.image_path.iloc[2] == str((root / "images" / "good.jpg").resolve())


def test_no_root_resolves_against_table_folder(root):
    table = load_pairs(write_csv(root / "pairs.csv", good_rows()))
    assert table.images_root is None
    assert table.pairs.image_path.iloc[0] == str((root / "images" / "good.jpg").resolve())


# --- row problems ------------------------------------------------------------------------------

def test_empty_and_whitespace_text(root):
    rows = good_rows() + [{"id": "e1", "text": "", "image": "images/good.jpg"},
                          {"id": "e2", "text": " \t ", "image": "images/good.jpg"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    assert [(r.row, r.id, r.field, r.reason) for r in table.report.rejected] == [
        (3, "e1", "text", "empty_text"), (4, "e2", "text", "empty_text")]
    assert len(table) == 2


def test_text_kept_verbatim(root):
    rows = [{"id": "1", "text": "  spaced  out\nline two ", "image": "images/good.jpg"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    text = table.pairs.text.iloc[0]
    assert text == "  spaced  out\nline two "
    assert table.pairs.text_sha256.iloc[0] == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_duplicate_ids_keep_first(root):
    rows = [{"id": "7", "text": "first", "image": "images/good.jpg"},
            {"id": "8", "text": "other", "image": "images/good.jpg"},
            {"id": "7", "text": "second", "image": "images/other.png"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    r = only_rejection(table.report.rejected)
    assert (r.row, r.id, r.reason) == (3, "7", "duplicate_id")
    assert table.pairs.set_index("pair_id").text["7"] == "first"


def test_large_ids_stay_exact_strings(root):
    rows = [{"id": "324501940329394178", "text": "a", "image": "images/good.jpg"},
            {"id": "00042", "text": "b", "image": "images/good.jpg"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    assert list(table.pairs.pair_id) == ["324501940329394178", "00042"]


def test_malformed_jsonl_line_is_named(root):
    path = root / "pairs.jsonl"
    path.write_text(
        json.dumps({"id": 1, "text": "ok", "image": "images/good.jpg"}) + "\n"
        + '{"id": 2, "text": "broken", "image": \n'
        + "\n"  # blank line: skipped, but line numbers still count it
        + json.dumps({"id": 3, "text": "ok too", "image": "images/other.png"}) + "\n",
        encoding="utf-8")
    table = load_pairs(path, root)
    r = only_rejection(table.report.rejected)
    assert (r.row, r.reason) == (2, "malformed_json") and "line 2" in r.message
    assert list(table.pairs.pair_id) == ["1", "3"]
    assert table.report.n_rows_read == 3


def test_undecodable_row_in_utf8_file(root):
    """A UTF-8 file with one row of GBK bytes: that row is rejected, the rest decoded as UTF-8."""
    lines = ["id,text,image"] + [f"{i},你好世界 {i},images/good.jpg" for i in range(1, 4)]
    raw = "\n".join(lines).encode("utf-8") + b"\n4," + "坏行".encode("gbk") + b",images/good.jpg\n"
    (root / "pairs.csv").write_bytes(raw)
    table = load_pairs(root / "pairs.csv", root)
    r = only_rejection(table.report.rejected)
    assert (r.row, r.id, r.field, r.reason) == (4, None, "text", "undecodable_text")
    assert table.pairs.text.tolist() == ["你好世界 1", "你好世界 2", "你好世界 3"]


def test_too_many_fields_row(root):
    raw = "id,text,image\n1,fine,images/good.jpg\n2,a,b,images/good.jpg\n"
    (root / "pairs.csv").write_text(raw)
    table = load_pairs(root / "pairs.csv", root)
    r = only_rejection(table.report.rejected)
    assert (r.row, r.reason) == (2, "malformed_row")


# --- encodings and formats ---------------------------------------------------------------------

CHINESE = [{"id": "1", "text": "地震后的救援现场", "image": "images/good.jpg"},
           {"id": "2", "text": "微博用户转发了这张照片", "image": "images/other.png"}]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_csv_gbk_and_gb18030(root, encoding):
    path = write_csv(root / "pairs.csv", CHINESE, encoding=encoding)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the test really exercises the fallback
    table = load_pairs(path, root)
    assert table.pairs.text.tolist() == [r["text"] for r in CHINESE]
    assert table.report.encoding == "gb18030"


def test_utf8_with_bom(root):
    path = write_csv(root / "pairs.csv", CHINESE, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = load_pairs(path, root)
    assert table.pairs.columns[:3].tolist() == ["pair_id", "post_id", "text"]
    assert table.pairs.pair_id.tolist() == ["1", "2"]  # BOM not glued to the "id" header


def test_latin1_falls_back_to_charset_normalizer():
    texts = ["Le café est très crème à la française", "Déjà vu à Genève, où l'été est chaud",
             "Les élèves ont réussi leur épreuve", "Ça coûte cher, hélas, même à Noël"]
    raw = ("id,text,image\n" + "".join(f"{i},{t},{i}.jpg\n" for i, t in enumerate(texts))).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb18030")  # really reaches charset-normalizer
    encoding = detect_encoding(raw)
    assert raw.decode(encoding) == raw.decode("cp1252")


def test_mixed_line_endings(root):
    raw = "id,text,image\r\n1,a,images/good.jpg\n2,b,images/good.jpg\r3,c,images/good.jpg\r\n"
    (root / "pairs.csv").write_bytes(raw.encode())
    table = load_pairs(root / "pairs.csv", root)
    assert table.pairs.text.tolist() == ["a", "b", "c"]


def test_header_only_csv(root):
    (root / "pairs.csv").write_text("id,text,image\n")
    with pytest.raises(DataError, match="header but no data rows"):
        load_pairs(root / "pairs.csv", root)


def test_empty_file(root):
    (root / "pairs.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load_pairs(root / "pairs.csv", root)


def test_missing_text_column_is_named(root):
    path = write_csv(root / "pairs.csv", [{"id": "1", "image": "images/good.jpg"}])
    with pytest.raises(DataError, match=r"missing required column\(s\): text") as info:
        load_pairs(path, root)
    assert "pairs.csv" in str(info.value)


def test_multi_image_expansion(root):
    rows = [{"id": "9", "text": "two photos", "image": "images/good.jpg; images/other.png",
             "event": "quake"},
            {"id": "10", "text": "one photo", "image": "images/good.jpg", "event": "flood"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    p = table.pairs
    assert p.pair_id.tolist() == ["9#1", "9#2", "10"]
    assert p.post_id.tolist() == ["9", "9", "10"]
    assert p.text.tolist() == ["two photos", "two photos", "one photo"]
    assert p.image.tolist() == ["images/good.jpg", "images/other.png", "images/good.jpg"]
    assert p.event.tolist() == ["quake", "quake", "flood"]
    assert p.index.tolist() == [0, 1, 2]
    expected = hashlib.sha256((root / "images" / "other.png").read_bytes()).hexdigest()
    assert p.image_sha256.iloc[1] == expected
    assert p.image_sha256.iloc[0] == p.image_sha256.iloc[2]  # shared image, one hash
    assert (table.report.n_rows_read, table.report.n_pairs_expanded, table.report.n_pairs_valid) == (2, 3, 3)


def test_multi_image_pair_ids_stable_when_one_is_bad(root):
    rows = [{"id": "9", "text": "t", "image": "images/missing.jpg;images/good.jpg"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    assert table.pairs.pair_id.tolist() == ["9#2"]
    assert only_rejection(table.report.rejected).id == "9#1"


def test_duplicate_image_in_post_and_pair_id_clash(root):
    rows = [{"id": "5#1", "text": "a", "image": "images/good.jpg"},
            {"id": "5", "text": "b", "image": "images/good.jpg;images/other.png;./images/other.png"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    assert [(r.row, r.id, r.reason) for r in table.report.rejected] == [
        (2, "5#1", "duplicate_pair_id"), (2, "5#3", "duplicate_image_in_post")]
    assert table.pairs.pair_id.tolist() == ["5#1", "5#2"]
    assert table.pairs.text.tolist() == ["a", "b"]


@pytest.mark.parametrize("name,sep", [("pairs.csv", ";"), ("pairs.txt", "\t"), ("pairs.tsv", "\t")])
def test_delimiter_taken_from_header(root, name, sep):
    (root / name).write_text(sep.join(["id", "text", "image"]) + "\n"
                             + sep.join(["1", "hello, world", "images/good.jpg"]) + "\n")
    assert load_pairs(root / name, root).pairs.text.tolist() == ["hello, world"]


def test_float_id_in_jsonl_rejected(root):
    path = root / "pairs.jsonl"
    path.write_text('{"id": 3.245e17, "text": "a", "image": "images/good.jpg"}\n'
                    '{"id": 324501940329394178, "text": "b", "image": "images/good.jpg"}\n')
    table = load_pairs(path, root)
    assert only_rejection(table.report.rejected).reason == "invalid_value"
    assert table.pairs.pair_id.tolist() == ["324501940329394178"]


def test_post_id_column_used(root):
    rows = [{"id": "1", "post_id": "p1", "text": "a", "image": "images/good.jpg"},
            {"id": "2", "post_id": "", "text": "b", "image": "images/good.jpg"}]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root)
    assert table.pairs.post_id.tolist() == ["p1", "2"]


def test_parquet_input(root):
    df = pd.DataFrame({"id": [324501940329394178, 2], "text": ["a", "b"],
                       "image": ["images/good.jpg", "images/other.png"], "event": ["x", "y"]})
    df.to_parquet(root / "pairs.parquet")
    table = load_pairs(root / "pairs.parquet", root)
    assert table.pairs.pair_id.tolist() == ["324501940329394178", "2"]
    assert table.pairs.event.tolist() == ["x", "y"]


def test_jsonl_input_with_image_list_and_explicit_format(root):
    path = root / "pairs.data"  # unknown extension: needs format=
    path.write_text(
        json.dumps({"id": 5, "text": "a", "image": ["images/good.jpg", "images/other.png"]}) + "\n"
        + json.dumps({"id": "6", "text": "b", "image": "images/good.jpg", "lang": "en"}) + "\n")
    with pytest.raises(DataError, match="format="):
        load_pairs(path, root)
    table = load_pairs(path, root, format="jsonl")
    assert table.pairs.pair_id.tolist() == ["5#1", "5#2", "6"]
    assert table.pairs.lang.tolist()[2] == "en"


def test_all_rows_invalid_raises_with_summary(root):
    rows = [{"id": "1", "text": "", "image": "images/good.jpg"},
            {"id": "2", "text": "a", "image": "images/none.jpg"},
            {"id": "3", "text": "b", "image": "images/none2.jpg"}]
    with pytest.raises(DataError, match="no valid pairs") as info:
        load_pairs(write_csv(root / "pairs.csv", rows), root)
    assert "missing_file: 2" in str(info.value) and "empty_text: 1" in str(info.value)
    assert info.value.report.n_pairs_valid == 0


# --- report, modes, workers --------------------------------------------------------------------

def test_report_outputs(root, tmp_path):
    rows = good_rows() + [{"id": "x", "text": "", "image": "images/good.jpg"},
                          {"id": "y", "text": "t", "image": "images/no.jpg"}]
    report = load_pairs(write_csv(root / "pairs.csv", rows), root).report
    assert report.counts_by_reason() == {"empty_text": 1, "missing_file": 1}
    assert "empty_text: 1" in report.summary() and "2 valid" in report.summary()
    report.to_csv(tmp_path / "r.csv")
    back = pd.read_csv(tmp_path / "r.csv", dtype=str)
    assert back.reason.tolist() == ["empty_text", "missing_file"] and back.row.tolist() == ["3", "4"]
    report.to_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["n_pairs_valid"] == 2 and data["rejected"][1]["id"] == "y"


def test_check_none_skips_decoding_but_hashes(root):
    (root / "images" / "notes.jpg").write_text("not an image")
    table, rejected = load_with_bad_image(root, "images/notes.jpg", check_images="none")
    assert rejected == []
    assert table.pairs.image_sha256.iloc[2] == hashlib.sha256(b"not an image").hexdigest()


def test_parallel_checks_match_sequential(root):
    names = [f"images/g{i}.png" for i in range(40)]
    for i, name in enumerate(names):
        write_image(root / name, size=(8, 8), fmt="PNG", seed=i)
    (root / "images" / "g7.png").write_bytes(b"")
    rows = [{"id": str(i), "text": "t", "image": name} for i, name in enumerate(names * 3)]
    path = write_csv(root / "pairs.csv", rows)
    seen = []
    parallel = load_pairs(path, root, workers=4, progress=lambda done, total: seen.append((done, total)))
    sequential = load_pairs(path, root, workers=1)
    pd.testing.assert_frame_equal(parallel.pairs, sequential.pairs)
    assert len(parallel) == 117 and parallel.report.counts_by_reason() == {"empty_file": 3}
    assert seen[-1] == (40, 40)


def test_process_executor(root):
    for i in range(8):
        write_image(root / f"images/p{i}.png", size=(8, 8), fmt="PNG", seed=i)
    rows = [{"id": str(i), "text": "t", "image": f"images/p{i}.png"} for i in range(8)]
    table = load_pairs(write_csv(root / "pairs.csv", rows), root, workers=2, executor="process")
    assert len(table) == 8 and table.pairs.image_sha256.notna().all()


# --- real data ---------------------------------------------------------------------------------

@pytest.mark.skipif(not (MEDIAEVAL / "pairs.csv").is_file(), reason="MediaEval data not present")
def test_mediaeval_loads_all_pairs():
    table = load_pairs(MEDIAEVAL / "pairs.csv", MEDIAEVAL)
    assert table.report.rejected == []
    assert len(table) == 1776 and table.report.n_rows_read == 1776
    assert table.pairs.image_path.nunique() == 366
    assert table.pairs.event.nunique() == 15
    assert table.pairs.pair_id.str.fullmatch(r"\d{15,}").all()  # tweet ids kept whole
