"""Browser test in real headless Chromium (Debian's chromium driven by Playwright): a PI logs in,
uploads a zip data set (and two bad ones), starts a run, watches it finish, opens the dashboard
and a cluster gallery. Screenshots go to var/test-artifacts/browser/."""
import zipfile
from pathlib import Path

import pytest

from .browser_pages import (CHROMIUM, RUN_TIMEOUT_MS, assert_images_load,  # noqa: F401
                            browser_page, shot)

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} "
                       "(apt-get install -y chromium)"),
]


def bad_zip(tmp_path):
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../escape.jpg", b"x")
    return path


def zip_bomb(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("images/zeros.jpg", b"\0" * (30 * 1024 * 1024))
    return path


def gbk_images_zip(tmp_path):
    from PIL import Image

    Image.new("RGB", (16, 16), (20, 120, 200)).save(tmp_path / "ok.png")
    path = tmp_path / "gbk-images.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(tmp_path / "ok.png", "ok.png")
        archive.writestr("bad.jpg", b"\xff\xd8\xff\xe0 truncated, not a JPEG")
    return path


@pytest.mark.django_db(transaction=True)
def test_pi_uploads_runs_and_reads_the_dashboards(users, project, small_dataset_dir, small_zip,
                                                   tmp_path, live_server, browser_page):
    # browser_page comes last: fixtures that use the ORM must run before Playwright's event
    # loop starts, or their connection lands in another context and outlives the test.
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "pi")
    page.fill("input[name=password]", "pw-pi")
    page.click("button[type=submit]")
    page.click(f"text={project.name}")
    page.click("text=Import a data set")

    # Bad input first: a clear message, nothing imported.
    page.fill("#id_upload-name", "bad")
    page.set_input_files("#id_upload-table", str(small_dataset_dir / "pairs.csv"))
    page.set_input_files("#id_upload-images_zip", str(bad_zip(tmp_path)))
    page.click("#upload-form button[type=submit]")
    assert "leaves the folder" in page.inner_text(".message.error")
    shot(page, "01-zip-slip-refused")
    page.fill("#id_upload-name", "no text column")
    page.set_input_files("#id_upload-table", {
        "name": "pairs.csv", "mimeType": "text/csv", "buffer": b"id,caption,image\n1,x,a.jpg\n"})
    page.set_input_files("#id_upload-images_zip", str(small_zip))
    page.click("#upload-form button[type=submit]")
    assert "Import failed" in page.inner_text(".message.error")
    page.fill("#id_upload-name", "bomb")
    page.set_input_files("#id_upload-table", str(small_dataset_dir / "pairs.csv"))
    page.set_input_files("#id_upload-images_zip", str(zip_bomb(tmp_path)))
    page.click("#upload-form button[type=submit]")
    assert "zip bomb" in page.inner_text(".message.error")
    shot(page, "01b-zip-bomb-refused")
    # No ORM call while Playwright's loop runs (its connection would outlive the test): the
    # project page tells whether anything was imported.
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    assert "No data set yet." in page.inner_text("main")
    page.click("text=Import a data set")

    # The good upload and its validation report.
    page.fill("#id_upload-name", "MediaEval sample")
    page.set_input_files("#id_upload-table", str(small_dataset_dir / "pairs.csv"))
    page.set_input_files("#id_upload-images_zip", str(small_zip))
    page.click("#upload-form button[type=submit]")
    assert page.inner_text("#n-valid") == "60"
    shot(page, "02-validation-report")
    dataset_url = page.url

    # A GBK-encoded table whose second image is corrupt: imported, the bad row listed.
    page.goto(f"{live_server.url}/projects/{project.pk}/datasets/new/")
    page.fill("#id_upload-name", "GBK with a corrupt image")
    page.set_input_files("#id_upload-table", {
        "name": "weibo.csv", "mimeType": "text/csv",
        "buffer": "id,text,image\n1,微博上的图片,ok.png\n2,另一条微博,bad.jpg\n".encode("gbk")})
    page.set_input_files("#id_upload-images_zip", str(gbk_images_zip(tmp_path)))
    page.click("#upload-form button[type=submit]")
    assert page.inner_text("#n-valid") == "1" and page.inner_text("#n-rejected") == "1"
    assert "bad.jpg" in page.inner_text("#rejected")
    shot(page, "02b-gbk-and-corrupt-image")
    page.goto(dataset_url)

    # A small run, watched until it ends.
    page.click("text=Run the engine on this data set")
    page.fill("#id_ks", "4, 9")
    page.uncheck("input[name=methods][value=joint]")  # label + vector keep the run short
    page.select_option("#id_reduction", "pca")
    page.fill("#id_n_components", "10")
    shot(page, "03-run-form")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-progress")
    shot(page, "04-run-progress")
    page.wait_for_selector("#run-dashboard-link:not([hidden])", timeout=RUN_TIMEOUT_MS)
    assert page.inner_text("#run-status") == "Succeeded"
    shot(page, "05-run-finished")

    page.click("#run-dashboard-link a")
    assert "AMI =" in page.inner_text("#ami-card")
    assert_images_load(page, ".figures img")
    shot(page, "06-dashboard")

    page.click("#solutions tbody tr:first-child >> text=Gallery")
    page.wait_for_selector(".cluster")
    assert_images_load(page, ".thumbs img")
    shot(page, "07-gallery")
    first_word = page.inner_text(".cluster .texts li").split()[0]
    page.fill("input[name=q]", first_word)
    page.click("form.search button")
    assert page.locator(".cluster").count() >= 1
    shot(page, "08-gallery-search")

