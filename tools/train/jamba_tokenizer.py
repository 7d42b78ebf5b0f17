"""Build a BPE tokenizer.json in Jamba's style with Hugging Face `tokenizers`.

Structure mirrors ../shared/fixtures/tokenizers/jamba-style/tokenizer.json exactly: BPE with byte
fallback, normalizer Replace(' ', '▁') (no prefix space), pre-tokenizer Digits(individual), Jamba's
special tokens at ids 0..8, the 256 byte tokens <0x00>..<0xFF> at ids 9..264, BOS added by a
TemplateProcessing post-processor, decoders Replace('▁', ' ') / ByteFallback / Fuse.
"""
import json

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

SPECIALS = ["<|pad|>", "<|startoftext|>", "<|endoftext|>", "<|unk|>",
            "<|bom|>", "<|eom|>", "<|system|>", "<|user|>", "<|assistant|>"]


def build(texts, vocab_size=8192, max_token_length=16):
    """texts: iterable of str. Returns the tokenizer.json document as a dict."""
    tok = Tokenizer(models.BPE(unk_token="<|unk|>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True)])
    n_base = len(SPECIALS) + 256
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 256, special_tokens=SPECIALS,
                                  limit_alphabet=160, max_token_length=max_token_length,
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    doc = json.loads(tok.to_str())

    # Renumber: specials, then the byte tokens, then what the trainer learned (its order kept).
    learned = sorted(doc["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(SPECIALS) + b
    for piece, _ in learned:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    assert len(vocab) >= n_base
    doc["model"]["vocab"] = vocab
    doc["model"]["byte_fallback"] = True
    doc["model"]["fuse_unk"] = True
    doc["model"]["unk_token"] = "<|unk|>"
    doc["added_tokens"] = [{"id": i, "content": s, "single_word": False, "lstrip": False,
                            "rstrip": False, "normalized": False, "special": True}
                           for i, s in enumerate(SPECIALS)]
    doc["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<|startoftext|>": {"id": "<|startoftext|>", "ids": [1],
                                               "tokens": ["<|startoftext|>"]}},
    }
    doc["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}]}
    doc["normalizer"] = {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
    doc["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}]}
    doc["truncation"] = None
    doc["padding"] = None
    return doc


def load(doc):
    return Tokenizer.from_str(json.dumps(doc, ensure_ascii=False))
