"""Tiny randomly initialised CLIP models saved to a folder, for tests (no network)."""
import json

import torch

TINY_ARCH = "DiptychTinyCLIP-test"
EMBED_DIM = 16


def build_tiny_open_clip(folder):
    """A tiny open_clip architecture registered from a JSON config, its weights in file.bin."""
    import open_clip

    config = {"embed_dim": EMBED_DIM,
              "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16,
                             "patch_size": 16},
              "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2,
                           "layers": 1}}
    (folder / f"{TINY_ARCH}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder / f"{TINY_ARCH}.json")
    torch.manual_seed(123)
    model = open_clip.create_model(TINY_ARCH, pretrained=None).eval()
    weights = folder / "file.bin"
    torch.save(model.state_dict(), weights)
    return model, weights


def build_tiny_hf_clip(folder):
    """A tiny transformers CLIP folder; tokenizer files built from open_clip's bundled BPE vocab."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor,
                              CLIPTokenizer)

    bpe = SimpleTokenizer()
    # open_clip spells the special tokens <start_of_text>/<end_of_text>; OpenAI/HF use <|...|>
    renamed = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {renamed.get(token, token): idx for token, idx in bpe.encoder.items()}
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    merges = sorted(bpe.bpe_ranks, key=bpe.bpe_ranks.get)
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges)
                                       + "\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32},
                                         crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    config = CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 77,
                     "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 49407},
        vision_config={"image_size": 32, "patch_size": 16, "hidden_size": 32, "intermediate_size": 64,
                       "num_hidden_layers": 1, "num_attention_heads": 2},
        projection_dim=EMBED_DIM)
    torch.manual_seed(321)
    model = CLIPModel(config).eval()
    model.save_pretrained(folder)
    return model, folder
