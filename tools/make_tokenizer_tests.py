#!/usr/bin/env python3
"""Makes the tokenizer test data under tests/tokenizer/ with Hugging Face `tokenizers` (the reference).

For each small tokenizer.json (trained here on Debian's license texts) it writes cases.jsonl: one
{"text", "ids", "ids_plain", "decoded", "decoded_keep"} per line, where
  ids          = encode(text, add_special_tokens=True).ids
  ids_plain    = encode(text, add_special_tokens=False).ids
  decoded      = decode(ids, skip_special_tokens=True)
  decoded_keep = decode(ids, skip_special_tokens=False)
It also writes extra cases for the shared mistral and jamba-style fixtures (texts beyond theirs).

usage: tools/make_tokenizer_tests.py [OUTDIR]   (default tests/tokenizer)
"""
import glob
import json
import os
import sys

from tokenizers import Tokenizer, AddedToken, decoders, models, normalizers, pre_tokenizers, processors, trainers, Regex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "tokenizer")
SHARED = os.path.join(ROOT, "..", "shared", "fixtures", "tokenizers")


def corpus():
    texts = []
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
    # a little non-English so that merges exist beyond ASCII
    texts += ["Les élèves étudient à l'école. Ça coûte très cher, naïve café résumé.",
              "Привет, как дела? Всё хорошо, спасибо.", "日本語のテキストです。東京は大きい都市です。",
              "مرحبا بالعالم، كيف حالك؟", "שלום עולם, מה שלומך?", "Ελληνικά γράμματα και λέξεις.",
              "emoji 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️", "def f(x):\n    return x ** 2  # square\n\tif x: pass\n"] * 20
    return texts


LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def texts():
    t = [
        "", " ", "  ", "\n", "Hello world", " Hello world", "Hello  world   again", "trailing space ",
        "hello\nworld\r\nagain\rmore", "\t\ttabs\tand  spaces \u00a0nbsp\u3000ideographic",
        "The GNU General Public License is a free, copyleft license for software.",
        "You may copy, distribute and modify the software as long as you track changes/dates.",
        "1234567890 3.14159 2,718 1e-10 0x1F 007 " + "9" * 40,
        "         lots of leading spaces", "x" + " " * 50 + "y", "\n\n\n\n\n\n",
        # multilingual scripts
        "Les élèves étudient à l'école. Ça coûte très cher.", "naïve café résumé Ångström",
        "Привет, как дела? Всё хорошо.", "日本語のテキストです。東京", "中文文本测试：你好，世界！",
        "한국어 텍스트 안녕하세요", "مرحبا بالعالم، كيف حالك؟", "שלום עולם", "हिन्दी पाठ नमस्ते दुनिया",
        "ภาษาไทย สวัสดีครับ", "Ελληνικά γράμματα", "Ümlaut ß straße STRASSE",
        # emoji and ZWJ sequences, flags, skin tones, variation selectors
        "emoji 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇩🇪 ❤️ ☺︎ 🏳️‍🌈", "😀😃😄😁😆😅🤣😂",
        # combining marks, precomposed vs decomposed
        "e\u0301 \u00e9 a\u0308 \u00e4 n\u0303 \u1e9b\u0323 \u0915\u094d\u0937", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dalgo",
        # NFKC-sensitive characters
        "ﬁnance ﬀ ① ² ½ Ⅻ ｆｕｌｌｗｉｄｔｈ ＡＢＣ ㌀ ㎏ ™ ℌ ﹏ ｶﾀｶﾅ", "İstanbul ΣΑΣ ǅ ǈ",
        # control characters
        "\x00\x01\x02\x7f control \x1b[31mred\x1b[0m \u200b\u200c\u200d\ufeff\u2028\u2029\x85",
        # long digit and whitespace runs
        "0" * 100, " " * 64 + "x", "\t" * 20, "a" * 300, "ab" * 150,
        # code
        "def f(x):\n    return x ** 2  # square\n", "int main(void) { printf(\"%d\\n\", a[i++]); return 0; }",
        "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>", "SELECT * FROM t WHERE a >= 10 AND b != 'x';",
        "it's they're we've I'm you'll he'd IT'S THEY'RE",
        # unknown characters for the small vocabularies
        "\U0001d54f\U0001d560\U0001d55a \U00010348 \u2603 \u16a0\u16a2\u16a6",
        "mixed Latin кириллица 漢字 123 !!! ???",
        # numbers beyond ASCII digits (Digits splits on every Unicode number: Nd, Nl, No)
        "x² + y³ = ½ ⅓ ٣٤٥ ४२ Ⅻ ① 〇 ⓐⓑ",
    ]
    return t


def special_texts(specials):
    s = specials
    return [
        f"{s[0]}", f"{s[0]}hello", f"hello{s[0]}", f" {s[0]} hello {s[1]} ", f"a{s[0]}{s[1]}b",
        f"{s[0]}{s[0]}{s[0]}", f"text {s[1]}\n{s[0]} more", f"<{s[0]}>", f"{s[0][:-1]} partial",
        f"  {s[0]}  spaced  {s[1]}  ",
    ]


def safe_decode(tok, ids, skip):
    # `tokenizers` panics in the Strip decoder on a token shorter than `stop`: no reference then (null)
    try:
        return tok.decode(ids, skip_special_tokens=skip)
    except BaseException:
        return None


def write_cases(tok, path, items):
    with open(path, "w", encoding="utf-8") as f:
        for text in items:
            e = tok.encode(text)
            p = tok.encode(text, add_special_tokens=False)
            f.write(json.dumps({"text": text, "ids": e.ids, "ids_plain": p.ids,
                                "decoded": safe_decode(tok, e.ids, True),
                                "decoded_keep": safe_decode(tok, e.ids, False)},
                               ensure_ascii=False) + "\n")


def train(model_kwargs, norm, pre, dec, post, vocab_size, specials, added=(), **trainer_kw):
    tok = Tokenizer(models.BPE(**model_kwargs))
    if norm is not None:
        tok.normalizer = norm
    if pre is not None:
        tok.pre_tokenizer = pre
    if dec is not None:
        tok.decoder = dec
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials), show_progress=False,
                                  **trainer_kw)
    tok.train_from_iterator(corpus(), trainer)
    if added:
        tok.add_tokens(list(added))
    if post is not None:
        tok.post_processor = post(tok)
    return tok


def main():
    os.makedirs(OUT, exist_ok=True)
    made = {}

    # 1. GPT-2 style: ByteLevel pre-tokenizer/decoder/post-processor, added tokens with flags
    made["gpt2-bytelevel"] = (train(
        {"unk_token": None}, None, pre_tokenizers.ByteLevel(add_prefix_space=False),
        decoders.ByteLevel(), lambda t: processors.ByteLevel(trim_offsets=True), 1200,
        ["<|endoftext|>", "<|pad|>"],
        added=[AddedToken("<mask>", lstrip=True, rstrip=False, special=True, normalized=False),
               AddedToken("[word]", single_word=True, normalized=False),
               AddedToken("<sep>", rstrip=True, lstrip=False, special=True, normalized=False),
               AddedToken(" hello", normalized=True)],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()), ["<|endoftext|>", "<mask>", "[word]", "<sep>"])

    # 2. Llama-3 style: regex Split (Isolated) + ByteLevel without its regex, ignore_merges, BOS template
    def llama_post(t):
        return processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B",
                                             special_tokens=[("<|begin_of_text|>", t.token_to_id("<|begin_of_text|>"))])
    made["llama3-split"] = (train(
        {"unk_token": None, "ignore_merges": True}, None,
        pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_RE), behavior="isolated", invert=False),
                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
        decoders.ByteLevel(), llama_post, 1500, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()), ["<|begin_of_text|>", "<|eot_id|>"])

    # 3. Normalizers: NFKC, Lowercase, Strip, Prepend, Replace(regex); Metaspace(first) + Punctuation +
    #    Digits; unk without fusing; Metaspace and Strip decoders; an added token that is normalized
    def cls_sep(t):
        return processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                             special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
    made["normalizers"] = (train(
        {"unk_token": "[UNK]", "fuse_unk": False},
        normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase(),
                              normalizers.Strip(left=True, right=True), normalizers.Prepend("▁")]),
        pre_tokenizers.Sequence([pre_tokenizers.Punctuation(behavior="isolated"),
                                 pre_tokenizers.Digits(individual_digits=False),
                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)]),
        decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first"),
                           decoders.Strip(content=" ", left=0, right=1)]),
        cls_sep, 900, ["[UNK]", "[CLS]", "[SEP]"], added=[AddedToken("License", normalized=True)]),
        ["[CLS]", "[SEP]", "license"])

    # 4. NFD + StripAccents-free path: NFD, Whitespace pre-tokenizer, continuing_subword_prefix and
    #    end_of_word_suffix, fuse_unk, Replace + Fuse decoders
    made["subword-affixes"] = (train(
        {"unk_token": "<unk>", "fuse_unk": True, "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>"},
        normalizers.NFD(), pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]),
        decoders.Sequence([decoders.Replace("##", ""), decoders.Replace("</w>", " "), decoders.Fuse()]),
        None, 900, ["<unk>"], continuing_subword_prefix="##", end_of_word_suffix="</w>"), ["<unk>", "<unk>"])

    # 5. SentencePiece style: Metaspace(always, no split), byte fallback, NFKD, Split(string, merged with next),
    #    Split(regex, merged with previous / contiguous, inverted)
    sp_byte = [f"<0x{b:02X}>" for b in range(256)]
    made["metaspace-bytes"] = (train(
        {"unk_token": "<unk>", "byte_fallback": True, "fuse_unk": True},
        normalizers.NFKD(),
        pre_tokenizers.Sequence([pre_tokenizers.Split(",", behavior="merged_with_next"),
                                 pre_tokenizers.Split(Regex(r"[.!?]+"), behavior="merged_with_previous"),
                                 pre_tokenizers.Split(Regex(r"\d"), behavior="contiguous", invert=True),
                                 pre_tokenizers.WhitespaceSplit(),
                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)]),
        decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                           decoders.Strip(content=" ", left=1, right=0)]),
        lambda t: processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B </s>",
                                                special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))]),
        1100, ["<unk>", "<s>", "</s>"] + sp_byte), ["<s>", "</s>"])

    for name, (tok, specials) in made.items():
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))   # what the C side will read
        write_cases(tok, os.path.join(d, "cases.jsonl"), texts() + special_texts(specials))
        print(name, os.path.getsize(os.path.join(d, "tokenizer.json")), "bytes")

    # extra cases for the shared fixtures (the tokenizer.json stays in ../shared)
    for name, specials in [("mistral", ["<s>", "</s>"]), ("jamba-style", ["<|startoftext|>", "<|eom|>"])]:
        tok = Tokenizer.from_file(os.path.join(SHARED, name, "tokenizer.json"))
        d = os.path.join(OUT, "shared-" + name)
        os.makedirs(d, exist_ok=True)
        write_cases(tok, os.path.join(d, "cases.jsonl"), texts() + special_texts(specials) + [
            "<|startoftext|><|bom|><|system|> You are helpful.<|eom|><|bom|><|user|> Hi there<|eom|><|bom|><|assistant|>"])
        print("shared-" + name, "cases")


if __name__ == "__main__":
    main()
