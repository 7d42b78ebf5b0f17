/* X-macro list of subcommands: add one line per cli/cmd_<name>.c (no include guard on purpose). */
X(version)
X(bench)
X(info)
X(logits)
X(generate)
X(tokenize)
X(extract)
X(ingest)
