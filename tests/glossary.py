#!/usr/bin/env python3
"""Checks that every phrase the -v trace can print is explained in README.md's Classroom glossaries.

usage: python3 tests/glossary.py [SERVER_C] [README]     (defaults: server.c and README.md)

The phrases are read from server.c, never listed here:
  - the literal text of every trace(s, "...") format, its printf conversions removed (and the
    literal strings passed to it, such as " from memory"); the "fd N:" that starts most lines is
    one phrase of its own;
  - the round line's words: the http_buf_printf formats inside trace_round;
  - every literal close reason passed to conn_close() or server_reclaim(), as "closed (REASON)",
    and, where a reason is strerror(), the system's messages as a class, checked through
    "closed (Connection reset by peer)";
  - the state names in state_names[] that the round line prints (from the state its loop starts at).
Each must appear in the first column of the glossary table in both languages of the Classroom
section: the English one (under a heading with "Glossary") and the Indonesian one (under a heading
with "Glosarium"). The phrase stays in English in both, since it is what the program prints. A state
name must be a code span of its own (`idle`), so that "idle timeout" does not count for "idle".
Prints one line per phrase, then "N passed, N failed"; exits 1 on any failure.
"""
import os
import re
import sys

CONVERSION = re.compile(r"%(?:%|[-+ #0']*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|j|z|t|L|q)?[diouxXeEfFgGaAcspn])")
STRERROR_EXAMPLE = "Connection reset by peer"


def literal_end(src, i):
    """Returns the index just past the string or character literal that starts at src[i]."""
    j = i + 1
    while j < len(src) and src[j] != src[i] and src[j] != "\n":
        j += 2 if src[j] == "\\" else 1
    return min(j + 1, len(src))


def strip_comments(src):
    """Returns src with its comments blanked out, string and character literals kept."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src[i] in "\"'":
            j = literal_end(src, i)
            out.append(src[i:j])
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def mask_literals(src):
    """Returns src with the inside of every string and character literal blanked (same length)."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src[i] in "\"'":
            j = literal_end(src, i)
            out.append(src[i] + " " * (j - i - 2) + src[j - 1] if j - i >= 2 else src[i:j])
            i = j
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def call_args(src, masked, open_paren):
    """Returns the top-level arguments (source text) of the call whose '(' is at open_paren."""
    depth, start, args = 0, open_paren + 1, []
    for i in range(open_paren, len(masked)):
        c = masked[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(src[start:i])
                return args
        elif c == "," and depth == 1:
            args.append(src[start:i])
            start = i + 1
    return args


def unescape(text):
    """Decodes the escapes of a C string literal's body."""
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
    return re.sub(r"\\(.)", lambda m: simple.get(m.group(1), m.group(1)), text)


def literals(expr):
    """Returns the string literals in an expression (adjacent ones joined, as C does)."""
    found, joined, last_end = [], None, -1
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', expr):
        text = unescape(m.group(1))
        if joined is not None and expr[last_end:m.start()].strip() == "":
            joined += text
        else:
            if joined is not None:
                found.append(joined)
            joined = text
        last_end = m.end()
    if joined is not None:
        found.append(joined)
    return found


def only_literals(expr):
    """Returns the string an argument made only of string literals spells, else None."""
    if re.fullmatch(r'\s*(?:"(?:[^"\\\n]|\\.)*"\s*)+', expr):
        return "".join(literals(expr))
    return None


def calls(src, masked, name):
    """Yields (line, arguments) for every call of name(...), leaving out its definition."""
    for m in re.finditer(r"\b%s\s*\(" % re.escape(name), masked):
        before = masked[masked.rfind("\n", 0, m.start()) + 1:m.start()]
        if re.search(r"\b(?:void|int|static|char|long|size_t)\s*\**\s*$", before):
            continue  # the definition or a declaration
        yield src.count("\n", 0, m.start()) + 1, call_args(src, masked, m.end() - 1)


def function_body(src, masked, name):
    """Returns the source of the body of function name, or None."""
    m = re.search(r"\b%s\s*\([^;{]*\)\s*\{" % re.escape(name), masked)
    if m is None:
        return None
    depth = 0
    for i in range(m.end() - 1, len(masked)):
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return src[m.end():i]
    return None


class Phrase:
    """A phrase the trace prints: how to show it, and how to find it in a glossary row's first cell."""

    def __init__(self, shown, find):
        self.shown = shown
        self.find = find  # a function of (cell text without backticks, the cell's code spans)


def format_phrase(fmt):
    """Turns a printf format into a Phrase: its literal text, the conversions being anything; None if no words."""
    tokens = []
    pos = 0
    for m in CONVERSION.finditer(fmt):
        if m.start() > pos:
            tokens.append(("lit", fmt[pos:m.start()]))
        tokens.append(("lit", "%") if m.group() == "%%" else ("conv", m.group()))
        pos = m.end()
    if pos < len(fmt):
        tokens.append(("lit", fmt[pos:]))
    # Separators before the first words (the "; " or ": " that joins a part of a line) and
    # conversions at either end are not part of the phrase.
    while tokens and (tokens[0][0] == "conv" or not re.search(r"\w", tokens[0][1])):
        tokens.pop(0)
    while tokens and tokens[-1][0] == "conv":
        tokens.pop()
    if not tokens or not any(kind == "lit" and re.search(r"[A-Za-z]", text) for kind, text in tokens):
        return None
    tokens[0] = ("lit", tokens[0][1].lstrip())
    tokens[-1] = ("lit", tokens[-1][1].rstrip()) if tokens[-1][0] == "lit" else tokens[-1]
    shown = "".join(text if kind == "lit" else "…" for kind, text in tokens)
    shown = re.sub(r"\s+", " ", shown)
    pattern = "".join(
        r"\s+".join(re.escape(part) for part in re.split(r"\s+", text)) if kind == "lit" else r".+?"
        for kind, text in tokens)
    regex = re.compile(pattern)
    return Phrase(shown, lambda cell, spans: regex.search(cell) is not None)


def extract(server_c):
    """Returns the phrases server.c can print in its trace, and the problems met reading it."""
    with open(server_c, encoding="utf-8", errors="replace") as f:
        src = strip_comments(f.read())
    masked = mask_literals(src)
    phrases, problems = [], []
    seen = set()

    def add(phrase):
        if phrase is not None and phrase.shown not in seen:
            seen.add(phrase.shown)
            phrases.append(phrase)

    # trace(s, "format", args...): the format's words, and word-bearing literals among its arguments.
    traced = 0
    for line, args in calls(src, masked, "trace"):
        if len(args) < 2:
            continue
        fmt = only_literals(args[1])
        if fmt is None:
            problems.append("trace() at server.c line %d has a format that is not a string literal" % line)
            continue
        traced += 1
        prefix = re.match(r"\s*fd %d:\s*", fmt)
        if prefix:
            add(format_phrase(prefix.group().strip()))
            fmt = fmt[prefix.end():]
        add(format_phrase(fmt))
        for arg in args[2:]:
            for text in literals(arg):
                add(format_phrase(text.replace("%", "%%")))
    if traced == 0:
        problems.append("no trace() call with a literal format found in server.c")

    # The round line: the formats trace_round builds it from.
    body = function_body(src, masked, "trace_round")
    if body is None:
        problems.append("no trace_round() in server.c")
        body = ""
    body_masked = mask_literals(body)
    round_formats = 0
    for _, args in calls(body, body_masked, "http_buf_printf"):
        if len(args) >= 2 and only_literals(args[1]) is not None:
            round_formats += 1
            add(format_phrase(only_literals(args[1])))
    if body and round_formats == 0:
        problems.append("trace_round() builds its line with no http_buf_printf format this check can read")

    # Close reasons: the literals passed to conn_close() and server_reclaim().
    reasons, any_strerror = [], False
    for name, index in (("conn_close", 2), ("server_reclaim", 1)):
        for _, args in calls(src, masked, name):
            if len(args) <= index:
                continue
            for text in literals(args[index]):
                if text not in reasons:
                    reasons.append(text)
            any_strerror = any_strerror or "strerror" in args[index]
    if not reasons:
        problems.append("no literal close reason found in conn_close() or server_reclaim() calls")
    if any_strerror:
        reasons.append(STRERROR_EXAMPLE)
    for reason in reasons:
        text = "closed (%s)" % reason
        add(Phrase(text, lambda cell, spans, text=text: text in re.sub(r"\s+", " ", cell)))

    # State names: those the round line prints, from the state its loop starts at.
    m = re.search(r"state_names\s*\[[^\]]*\]\s*=\s*\{(.*?)\}\s*;", src, re.S)
    if m is None:
        problems.append("no state_names[] in server.c")
    else:
        names = literals(m.group(1))
        first = 0
        enum = re.search(r"enum\s+conn_state\s*\{(.*?)\}", src, re.S)
        start = re.search(r"for\s*\(\s*int\s+i\s*=\s*(\w+)", body)
        if enum and start:
            members = [part.split("=")[0].strip() for part in enum.group(1).split(",") if part.strip()]
            if start.group(1) in members:
                first = members.index(start.group(1))
        for name in names[first:]:
            add(Phrase(name, lambda cell, spans, name=name: name in spans))
    return phrases, problems


def glossary_rows(readme):
    """Returns {language: [(first cell without backticks, its code spans), ...]} from the Classroom section."""
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        start = lines.index("## Classroom")
    except ValueError:
        return {}, ["README has no '## Classroom' section"]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start + 1:end]
    found, problems = {}, []
    for language, subsection, heading in (("English", "### English", "glossary"),
                                          ("Indonesian", "### Bahasa Indonesia", "glosarium")):
        if subsection not in section:
            problems.append("the Classroom section has no '%s' subsection" % subsection)
            continue
        s = section.index(subsection)
        e = next((i for i in range(s + 1, len(section)) if section[i].startswith("### ")), len(section))
        sub = section[s + 1:e]
        h = next((i for i, line in enumerate(sub) if line.startswith("#") and heading in line.lower()), None)
        if h is None:
            problems.append("the %s subsection has no heading with '%s'" % (language, heading.capitalize()))
            continue
        t = next((i for i in range(h + 1, len(sub)) if sub[i].startswith("|")), None)
        rows = []
        while t is not None and t < len(sub) and sub[t].startswith("|"):
            cells = [c for c in re.split(r"(?<!\\)\|", sub[t].strip())[1:-1]]
            if cells and not re.fullmatch(r"\s*:?-{3,}:?\s*", cells[0]):
                rows.append((cells[0].replace("`", "").strip(), re.findall(r"`([^`]+)`", cells[0])))
            t += 1
        if len(rows) < 2:
            problems.append("no glossary table under the %s %s heading" % (language, heading.capitalize()))
            continue
        found[language] = rows[1:]  # without the header row
    return found, problems


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    server_c = argv[1] if len(argv) > 1 else os.path.join(root, "server.c")
    readme = argv[2] if len(argv) > 2 else os.path.join(root, "README.md")
    if len(argv) > 3:
        print("usage: python3 tests/glossary.py [SERVER_C] [README]", file=sys.stderr)
        return 2
    passed = failed = 0
    try:
        phrases, problems = extract(server_c)
        tables, more = glossary_rows(readme)
        problems += more
    except OSError as e:
        print("FAIL - cannot read %s" % e)
        print("0 passed, 1 failed")
        return 1
    for problem in problems:
        print("FAIL - %s" % problem)
        failed += 1
    for phrase in phrases:
        lacking = [language for language in ("English", "Indonesian")
                   if not any(phrase.find(cell, spans) for cell, spans in tables.get(language, []))]
        if lacking:
            print('FAIL - glossary lacks "%s" (%s)' % (phrase.shown, " and ".join(lacking)))
            failed += 1
        else:
            print('ok - glossary has "%s"' % phrase.shown)
            passed += 1
    if len(tables) == 2:  # the two languages explain the same phrases, row for row
        english = [cell for cell, _ in tables["English"]]
        indonesian = [cell for cell, _ in tables["Indonesian"]]
        if english == indonesian:
            print("ok - the English and Indonesian glossaries list the same %d phrases in the same order" % len(english))
            passed += 1
        else:
            only = [c for c in english if c not in indonesian] + [c for c in indonesian if c not in english]
            print("FAIL - the English and Indonesian glossaries differ: %s" % (", ".join(only) or "in their order"))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
