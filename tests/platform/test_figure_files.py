"""The run dashboard lists charts in their formats and galleries as one JPEG, previews each in
the best format it has, and serves nothing but figure files."""
from types import SimpleNamespace

from projects.services import run_queries


def test_galleries_are_listed_as_jpeg_and_charts_keep_their_formats(tmp_path):
    folder = tmp_path / "figures"
    folder.mkdir()
    for name in ("data_loss.png", "data_loss.svg", "data_loss.pdf", "gallery_vector.jpg",
                 "notes.txt", "gallery_vector.exe"):
        (folder / name).write_bytes(b"x" * 10)
    run = SimpleNamespace(output_dir=str(tmp_path), manifest={})
    listed = {f["name"]: f for f in run_queries.figures(run)}
    assert set(listed) == {"data_loss", "gallery_vector"}
    assert listed["data_loss"]["formats"] == ["png", "svg", "pdf"]
    assert listed["data_loss"]["preview"] == "png"
    assert listed["gallery_vector"]["formats"] == ["jpg"]
    assert listed["gallery_vector"]["preview"] == "jpg"
    assert run_queries.figure_file(run, "gallery_vector.jpg") == folder / "gallery_vector.jpg"
    assert run_queries.figure_file(run, "gallery_vector.exe") is None
    assert run_queries.figure_file(run, "notes.txt") is None
