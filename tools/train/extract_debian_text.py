#!/usr/bin/env python3
"""Extract real English text that Debian ships into a JSONL corpus for training the sample model.

Sources: /usr/share/common-licenses, /usr/share/doc/*/copyright, gzipped README/NEWS files under
/usr/share/doc, and man pages rendered as plain text with `man -P cat`.
Each output line is {"source": path or man page, "title": first heading or NAME line, "text": ...}.

usage: extract_debian_text.py OUT.jsonl [--max-mb 8] [--man-pages 400]
"""
import argparse, glob, gzip, hashlib, json, os, random, re, subprocess, sys

MAX_DOC_CHARS = 80_000


def clean(text):
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    text = re.sub(r".\x08", "", text)  # overstrike bold/underline from nroff
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    text = re.sub(r"[ ]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()[:MAX_DOC_CHARS]


def first_heading(text):
    for line in text.splitlines():
        s = line.strip(" =-*#")
        if len(s) >= 4 and sum(c.isalpha() for c in s) >= 3:
            return s[:100]
    return ""


def english_enough(text):
    if len(text) < 400:
        return False
    ascii_letters = sum(c.isascii() and c.isalpha() for c in text[:5000])
    return ascii_letters > 0.55 * min(len(text), 5000)


def licenses():
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, errors="replace") as f:
                yield path, None, f.read()


def copyrights():
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        try:
            with open(path, errors="replace") as f:
                yield path, None, f.read()
        except OSError:
            pass


def gz_docs():
    pats = ["README*.gz", "NEWS*.gz", "*.txt.gz", "FAQ*.gz", "TODO*.gz", "*.md.gz"]
    seen = set()
    for pat in pats:
        for path in sorted(glob.glob("/usr/share/doc/*/" + pat)):
            if path in seen:
                continue
            seen.add(path)
            try:
                with gzip.open(path, "rt", errors="replace") as f:
                    yield path, None, f.read()
            except (OSError, EOFError):
                pass


def man_pages(n, rng):
    # Skip vendor CLIs with thousands of near-identical generated pages (gcloud, ...).
    pages = sorted(p for p in glob.glob("/usr/share/man/man[1578]/*.gz")
                   if not re.match(r"(gcloud|bq|gsutil|kubectl)[_.]", os.path.basename(p)))
    rng.shuffle(pages)
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    done = 0
    for path in pages:
        if done >= n:
            break
        try:
            out = subprocess.run(["man", "-P", "cat", "-l", path], capture_output=True, env=env,
                                 timeout=10, text=True, errors="replace").stdout
        except (subprocess.TimeoutExpired, OSError):
            continue
        m = re.search(r"^NAME\n\s+(.+)$", clean(out), re.M)
        title = m.group(1).strip()[:100] if m else None
        done += 1
        yield "man:" + os.path.basename(path)[:-3], title, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--max-mb", type=float, default=8.0)
    ap.add_argument("--man-pages", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    budget = int(a.max_mb * 1e6)
    seen, total, count = set(), 0, 0
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as out:
        # Share of the budget per source, so that no one kind of text dominates.
        shares = ((licenses(), 0.1), (man_pages(a.man_pages, rng), 0.4), (gz_docs(), 0.3), (copyrights(), 0.2))
        for gen, share in shares:
            part = 0
            for source, title, raw in gen:
                if part >= share * budget:
                    break
                text = clean(raw)
                if not english_enough(text):
                    continue
                h = hashlib.sha1(text.encode()).hexdigest()
                if h in seen:
                    continue
                seen.add(h)
                rec = {"source": source, "title": title or first_heading(text), "text": text}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                total += len(text)
                part += len(text)
                count += 1
                if total >= budget:
                    break
            if total >= budget:
                break
    print(f"{count} documents, {total / 1e6:.1f} MB of text -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
