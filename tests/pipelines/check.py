#!/usr/bin/env python3
"""Helpers for the pipelines' end-to-end tests: make inputs, check output fields and types, and
put outputs in a canonical form (sorted by key, timing fields removed) for comparisons."""
import json
import random
import sys


def make_requests(path, n, seed=1, malformed=True, max_tokens=(3, 10)):
    """n good requests (chat and completions, greedy and seeded sampling, stop, n=2, logprobs),
    then, when asked, one of each malformed kind. Returns the list of good custom_ids."""
    rnd = random.Random(seed)
    words = "the of a batch model state window token queue result line memory".split()
    good = []
    with open(path, "w") as f:
        for i in range(n):
            cid = f"req-{i:04d}"
            text = " ".join(rnd.choice(words) for _ in range(rnd.randint(2, 12)))
            mt = rnd.randint(*max_tokens)
            if i % 2 == 0:
                body = {"model": "m", "messages": [{"role": "system", "content": "Be brief."},
                                                   {"role": "user", "content": text}], "max_tokens": mt}
                url = "/v1/chat/completions"
            else:
                body = {"prompt": text, "max_tokens": mt}
                url = "/v1/completions"
            if i % 5 == 1:
                body.update(temperature=0.9, top_p=0.9, top_k=50, seed=i)
            if i % 7 == 2:
                body["stop"] = ["e", "\n"]
            if i % 11 == 3:
                body["n"] = 2
            if i % 13 == 4:
                if url == "/v1/chat/completions":
                    body.update(logprobs=True, top_logprobs=2)
                else:
                    body["logprobs"] = 2
            f.write(json.dumps({"custom_id": cid, "method": "POST", "url": url, "body": body}) + "\n")
            good.append(cid)
            if malformed and i == n // 2:
                f.write('{"custom_id": "bad-json", "method": "POST", \n')
                f.write(json.dumps({"custom_id": "bad-url", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}) + "\n")
                f.write(json.dumps({"custom_id": "no-body", "method": "POST", "url": "/v1/completions"}) + "\n")
                f.write(json.dumps({"custom_id": "streaming", "method": "POST", "url": "/v1/chat/completions",
                                    "body": {"messages": [{"role": "user", "content": "hi"}], "stream": True, "max_tokens": 3}}) + "\n")
                f.write(json.dumps({"custom_id": "req-0000", "method": "POST", "url": "/v1/completions",
                                    "body": {"prompt": "dup", "max_tokens": 3}}) + "\n")
                f.write(json.dumps({"custom_id": "bad-temp", "method": "POST", "url": "/v1/completions",
                                    "body": {"prompt": "x", "temperature": 5, "max_tokens": 3}}) + "\n")
                f.write(json.dumps({"method": "POST", "url": "/v1/completions", "body": {"prompt": "x"}}) + "\n")
    return good


MALFORMED = {"bad-url": "invalid_url", "no-body": "invalid_request", "streaming": "unsupported_parameter",
             "bad-temp": "invalid_request"}


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def check_run(path, good, malformed=True):
    lines = load(path)
    ok = {}
    errors = []
    for j in lines:
        for k in ("id", "custom_id", "response", "error"):
            if k not in j:
                fail(f"{path}: line without {k}: {j}")
        if not (isinstance(j["id"], str) and j["id"].startswith("batch_req_")):
            fail(f"bad id {j['id']}")
        r = j["response"]
        if not isinstance(r["status_code"], int) or not isinstance(r["request_id"], str) or not isinstance(r["body"], dict):
            fail(f"bad response {r}")
        if r["status_code"] == 200:
            if j["error"] is not None:
                fail("200 with error")
            b = r["body"]
            chat = b["object"] == "chat.completion"
            if b["object"] not in ("chat.completion", "text_completion") or not isinstance(b["id"], str) \
                    or not isinstance(b["created"], int) or not isinstance(b["model"], str):
                fail(f"bad body header {b}")
            u = b["usage"]
            if not all(isinstance(u[k], int) for k in ("prompt_tokens", "completion_tokens", "total_tokens")) \
                    or u["total_tokens"] != u["prompt_tokens"] + u["completion_tokens"] or u["prompt_tokens"] <= 0:
                fail(f"bad usage {u}")
            for i, c in enumerate(b["choices"]):
                if c["index"] != i or c["finish_reason"] not in ("stop", "length"):
                    fail(f"bad choice {c}")
                if chat and not (c["message"]["role"] == "assistant" and isinstance(c["message"]["content"], str)):
                    fail(f"bad message {c}")
                if not chat and not isinstance(c["text"], str):
                    fail(f"bad text {c}")
                if c["logprobs"] is not None:
                    lp = c["logprobs"]
                    seq = lp["content"] if chat else lp["token_logprobs"]
                    if not seq or not all((x["logprob"] if chat else x) <= 0 for x in seq):
                        fail(f"bad logprobs {lp}")
            if j["custom_id"] in ok:
                fail(f"two successes for {j['custom_id']}")
            ok[j["custom_id"]] = j
        else:
            e = r["body"]["error"]
            if not isinstance(e["message"], str) or not isinstance(e["type"], str) or "param" not in e or "code" not in e:
                fail(f"bad error body {e}")
            errors.append(j)
    if sorted(ok) != sorted(good):
        fail(f"{path}: {len(ok)} successes, want {len(good)}; missing {sorted(set(good) - set(ok))[:5]}")
    if malformed:
        codes = {}
        for j in errors:
            codes.setdefault(j["custom_id"], []).append(j["response"]["body"]["error"]["code"])
        for cid, code in MALFORMED.items():
            if codes.get(cid) != [code]:
                fail(f"{cid}: error codes {codes.get(cid)}, want [{code}]")
        if codes.get("req-0000") != ["duplicate_custom_id"]:
            fail(f"duplicate: {codes.get('req-0000')}")
        nulls = codes.get(None, [])
        if sorted(nulls) != ["invalid_json", "invalid_request"]:
            fail(f"lines without custom_id: {nulls}")
        if len(errors) != 7:
            fail(f"{len(errors)} error lines, want 7")
    return lines


def canon_objs(path):
    """Lines sorted by key, with time-dependent fields removed."""
    out = []
    for j in load(path):
        if isinstance(j.get("response"), dict) and isinstance(j["response"].get("body"), dict):
            j["response"]["body"].pop("created", None)
        j.pop("seconds", None)
        out.append(j)
    # sort by the text with floats rounded, so float noise cannot reorder
    return sorted(out, key=lambda j: json.dumps(rounded(j), sort_keys=True))


def rounded(x):
    if isinstance(x, float):
        return round(x, 2)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def close(a, b, tol=1e-3):
    """Equal, floats within tol: batched fp32 matmuls may differ from single ones in the last bits
    (1e-4 relative is the engine's stated agreement); tokens and text must match exactly."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= tol * max(1.0, abs(a))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return a == b


def canon(path):
    return [json.dumps(j, sort_keys=True) for j in canon_objs(path)]


def check_qa(path, ids):
    lines = load(path)
    got = {}
    for j in lines:
        for k, t in (("id", str), ("doc", str), ("question", str)):
            if not isinstance(j.get(k), t):
                fail(f"qa line field {k}: {j}")
        if "error" in j:
            if j["answer"] is not None or not isinstance(j["error"], str):
                fail(f"bad qa error line {j}")
        elif not isinstance(j.get("answer"), str):
            fail(f"qa answer {j}")
        if j["id"] in got:
            fail(f"duplicate question {j['id']}")
        got[j["id"]] = j
    if sorted(got) != sorted(ids):
        fail(f"qa ids {sorted(got)} want {sorted(ids)}")
    return got


def check_summaries(path, paths):
    lines = load(path)
    got = {}
    for j in lines:
        for k, t in (("doc", str), ("path", str), ("summary", str), ("windows", int), ("pages", int),
                     ("tokens_in", int), ("tokens_out", int), ("seconds", float)):
            if not isinstance(j.get(k), t):
                fail(f"summary field {k}: {j}")
        if j["windows"] < 1 or j["tokens_in"] <= 0:
            fail(f"summary counts {j}")
        got[j["path"]] = j
    if sorted(got) != sorted(paths):
        fail(f"summaries for {sorted(got)} want {sorted(paths)}")
    return got


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make-requests":
        good = make_requests(sys.argv[2], int(sys.argv[3]), malformed=sys.argv[4] == "1")
        print(len(good))
    elif cmd == "check-run":
        good = [json.loads(l)["custom_id"] for l in open(sys.argv[2]) if l.strip().startswith("{") and "custom_id" in l
                and l.strip().endswith("}") and json.loads(l).get("custom_id", "").startswith("req-")]
        check_run(sys.argv[3], sorted(set(good)), malformed=sys.argv[4] == "1")
    elif cmd == "canon":
        sys.stdout.write("\n".join(canon(sys.argv[2])) + "\n")
    elif cmd == "same":
        a, b = canon_objs(sys.argv[2]), canon_objs(sys.argv[3])
        if len(a) != len(b) or not all(close(x, y) for x, y in zip(a, b)):
            diff = [(x, y) for x, y in zip(a, b) if not close(x, y)][:1]
            fail(f"{sys.argv[2]} ({len(a)} lines) != {sys.argv[3]} ({len(b)} lines): {diff}")
    elif cmd == "order":   # custom_ids of the output follow the input order
        want = []
        for l in open(sys.argv[2]):
            try:
                want.append(json.loads(l).get("custom_id"))
            except ValueError:
                pass
        got = [j["custom_id"] for j in load(sys.argv[3]) if j["custom_id"] is not None]
        want = [w for w in want if w is not None]
        if got != want:
            fail(f"order differs: {got[:6]} vs {want[:6]}")
    else:
        fail(f"unknown command {cmd}")
