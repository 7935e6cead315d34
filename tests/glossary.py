#!/usr/bin/env python3
"""Checks the classroom guide's glossaries against the -v trace, in both directions.

usage: python3 tests/glossary.py [SERVER_C] [GUIDE_EN] [GUIDE_ID]
       (defaults: server.c, public/guide.html, public/panduan.html)

What the trace can print is read from server.c, never listed here:
  - the literal text of every trace(s, "...") format, its printf conversions removed (and the
    literal strings passed to it, or set elsewhere in the field passed to it, such as c->origin's
    " from memory"); the "fd N:" that starts most lines is one phrase of its own;
  - the round line's words: the http_buf_printf formats inside trace_round;
  - the quiet-round summary: the note() formats inside trace_round_line that have words
    ("... N rounds with nothing ready");
  - every literal close reason passed to conn_close() or server_reclaim(), as "closed (REASON)",
    and, where a reason is strerror(), the system's messages as a class, checked through
    "closed (Connection reset by peer)";
  - the state names in state_names[] that the round line prints (from the state its loop starts at).

1. Every phrase must appear in the first column of the glossary table (<table class="glossary">) of
   both guide pages, English and Bahasa Indonesia, and the two tables must list the same phrases in
   the same order. The phrase stays in English in both, since it is what the program prints. A state
   name must be a code span of its own (<code>idle</code>), so that "idle timeout" does not count.
2. Every code span in either page that looks like trace output must be a piece of a line the trace
   can print. The lines are built from the same sources: each format with every %s replaced by what
   can fill it (the literals its argument can take, followed through the callers of the function it
   is a parameter of; a system message for strerror(); anything else is a value), every other
   conversion a value. A span looks like trace output when it has at least two words of the trace's
   fixed text and more of them than other words (or one, with nothing else but values), and is not
   code (a call, a member, a C name). A value is a number, a CAPITALISED placeholder (N, T, LINE...),
   a "quoted" request line, or "..." / "…"; in the span it matches a value of the line. A control (a stale phrase, "N idle not watched this round") must be caught.
Prints one line per check, then "N passed, N failed"; exits 1 on any failure.
"""
import errno
import html.parser
import itertools
import os
import re
import sys

CONVERSION = re.compile(r"%(?:%|[-+ #0']*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|j|z|t|L|q)?[diouxXeEfFgGaAcspn])")
STRERROR_EXAMPLE = "Connection reset by peer"
VALUE = "\x00"  # a value the program fills in, in a line the trace can print
STRERRORS = sorted({os.strerror(e) for e in errno.errorcode})
CONTROL = "N idle not watched this round"  # the guide's stale phrase before the trace said "parked"


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
    """Yields (offset, line, arguments) for every call of name(...), leaving out its definition."""
    for m in re.finditer(r"\b%s\s*\(" % re.escape(name), masked):
        before = masked[masked.rfind("\n", 0, m.start()) + 1:m.start()]
        if re.search(r"\b(?:void|int|static|char|long|size_t)\s*\**\s*$", before) or before.lstrip().startswith("#"):
            continue  # the definition, a declaration, or a macro standing for the call
        yield m.start(), src.count("\n", 0, m.start()) + 1, call_args(src, masked, m.end() - 1)


def closing_brace(masked, open_at):
    """Returns the offset of the } that closes the { at open_at, or None."""
    depth = 0
    for i in range(open_at, len(masked)):
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def function_body(src, masked, name):
    """Returns the source of the body of function name, or None."""
    m = re.search(r"\b%s\s*\([^;{]*\)\s*\{" % re.escape(name), masked)
    end = closing_brace(masked, m.end() - 1) if m else None
    return None if end is None else src[m.end():end]


def functions(masked):
    """Returns [(start, end, name, parameter names)] for every function definition."""
    found = []
    for m in re.finditer(r"(?m)^[A-Za-z_][^;{}()]*?\b(\w+)\s*\(([^;{}()]*(?:\([^()]*\)[^;{}()]*)*)\)\s*\{", masked):
        i = closing_brace(masked, m.end() - 1)
        i = len(masked) - 1 if i is None else i
        params = [re.findall(r"(\w+)\s*(?:\[[^\]]*\])?\s*$", p.strip())[0] if re.search(r"\w", p) else ""
                  for p in m.group(2).split(",")]
        found.append((m.start(), i, m.group(1), params))
    return found


class Phrase:
    """A phrase the trace prints: how to show it, and how to find it in a glossary row's first cell."""

    def __init__(self, shown, find):
        self.shown = shown
        self.find = find  # a function of (cell text, the cell's code spans)


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
    # conversions at either end are not part of the phrase; a leading "..." is.
    while tokens and (tokens[0][0] == "conv" or re.fullmatch(r"\s*[;:,]?\s*", tokens[0][1])):
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


class Source:
    """server.c without comments, with what the second direction needs to follow arguments."""

    def __init__(self, text):
        self.src = strip_comments(text)
        self.masked = mask_literals(self.src)
        self.functions = functions(self.masked)

    def enclosing(self, offset):
        """Returns (name, parameters) of the function whose body holds offset, or (None, [])."""
        for start, end, name, params in self.functions:
            if start <= offset <= end:
                return name, params
        return None, []

    def branches(self, expr):
        """Splits a conditional expression into the expressions it can take."""
        masked = mask_literals(expr)
        depth, q = 0, -1
        for i, c in enumerate(masked):
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "?" and depth == 0:
                q = i
                break
        if q < 0:
            inner = re.fullmatch(r"\s*\((.*)\)\s*", expr, re.S)
            return self.branches(inner.group(1)) if inner and "?" in inner.group(1) else [expr]
        depth, nested = 0, 0
        for i in range(q + 1, len(masked)):
            c = masked[i]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "?" and depth == 0:
                nested += 1
            elif c == ":" and depth == 0:
                if nested == 0:
                    return self.branches(expr[q + 1:i]) + self.branches(expr[i + 1:])
                nested -= 1
        return [expr]

    def fills(self, expr, offset, depth=0):
        """What can fill a %s whose argument is expr (at offset in the source): strings, VALUE for any."""
        out = []
        for branch in self.branches(expr):
            text = only_literals(branch)
            name = branch.strip()
            field = re.fullmatch(r"[\w.\[\]>-]*?(?:->|\.)(\w+)", name)
            if text is not None:
                out.append(text)
            elif "strerror" in branch:
                out += [VALUE] + STRERRORS
            elif re.fullmatch(r"[A-Za-z_]\w*", name) and depth < 4:
                function, params = self.enclosing(offset)
                if function is not None and name in params:  # a parameter: what its callers pass
                    index = params.index(name)
                    for at, _, args in calls(self.src, self.masked, function):
                        if len(args) > index:
                            out += self.fills(args[index], at, depth + 1)
                else:
                    out.append(VALUE)
            elif field:
                sets = [m.group(1) for m in re.finditer(r"(?:->|\.)%s\s*=(?!=)\s*([^;]*);" % field.group(1), self.src)]
                values = [only_literals(s) for s in sets]
                out += [v for v in values if v is not None]
                if not sets or None in values:
                    out.append(VALUE)
            else:
                out.append(VALUE)
        return list(dict.fromkeys(out))

    def lines(self, fmt, args, offset):
        """The lines a format prints: each %s filled by what can fill it, any other conversion a VALUE."""
        parts, pos, slots, arg = [], 0, [], 0
        for m in CONVERSION.finditer(fmt):
            parts.append(fmt[pos:m.start()])
            pos = m.end()
            conv = m.group()
            if conv == "%%":
                parts[-1] += "%"
                continue
            arg += conv.count("*")  # a width or precision argument
            if conv.endswith("s"):
                slots.append(self.fills(args[arg], offset) if arg < len(args) else [VALUE])
            else:
                slots.append([VALUE])
            arg += 1
        tail = fmt[pos:]
        out = []
        for choice in itertools.product(*slots):
            out.append("".join(p + c for p, c in zip(parts, choice)) + tail)
        return out


def extract(server_c):
    """Returns the phrases server.c can print in its trace, the lines it can print, and the problems met."""
    with open(server_c, encoding="utf-8", errors="replace") as f:
        source = Source(f.read())
    src, masked = source.src, source.masked
    phrases, lines, problems = [], [], []
    seen = set()

    def add(phrase):
        if phrase is not None and phrase.shown not in seen:
            seen.add(phrase.shown)
            phrases.append(phrase)

    # trace(s, "format", args...): the format's words, and word-bearing literals among its arguments.
    traced = 0
    for offset, line, args in calls(src, masked, "trace"):
        if len(args) < 2:
            continue
        fmt = only_literals(args[1])
        if fmt is None:
            problems.append("trace() at server.c line %d has a format that is not a string literal" % line)
            continue
        traced += 1
        lines += [text.strip() for text in source.lines(fmt, args[2:], offset)]
        prefix = re.match(r"\s*fd %d:\s*", fmt)
        if prefix:
            add(format_phrase(prefix.group().strip()))
            fmt = fmt[prefix.end():]
        add(format_phrase(fmt))
        for arg in args[2:]:
            for text in literals(arg):
                add(format_phrase(text.replace("%", "%%")))
            if not literals(arg) and re.fullmatch(r"\s*[\w.\[\]>-]*?(?:->|\.)\w+\s*", arg):
                for text in source.fills(arg, offset):  # a field set elsewhere to literals: " from memory"
                    if text != VALUE:
                        add(format_phrase(text.replace("%", "%%")))
    if traced == 0:
        problems.append("no trace() call with a literal format found in server.c")

    # The round line: the formats trace_round builds it from; the state names it prints.
    body = function_body(src, masked, "trace_round")
    if body is None:
        problems.append("no trace_round() in server.c")
        body = ""
    body_masked = mask_literals(body)
    formats = []
    for _, _, args in calls(body, body_masked, "http_buf_printf"):
        if len(args) >= 2 and only_literals(args[1]) is not None:
            formats.append((only_literals(args[1]), args[2:]))
            add(format_phrase(formats[-1][0]))
    if body and not formats:
        problems.append("trace_round() builds its line with no http_buf_printf format this check can read")
    states = []
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
        states = names[first:]
    if formats:
        # The head, then one "N STATE" item per state with a count (": " before the first, ", " after),
        # then the optional tails ("; N parked, ...").
        head = formats[0][0]
        item = next((f for f, _ in formats[1:] if not re.search(r"[A-Za-z]", CONVERSION.sub("", f))), None)
        tails = [f for f, _ in formats[1:] if f != item]
        heads = [CONVERSION.sub(VALUE, head)]
        for n in range(len(states) + 1):
            for chosen in itertools.combinations(states, n):
                listed = "".join((": " if i == 0 else ", ") + VALUE + " " + name for i, name in enumerate(chosen))
                for k in range(len(tails) + 1):
                    for extra in itertools.combinations(tails, k):
                        lines.append(heads[0] + listed + "".join(CONVERSION.sub(VALUE, t) for t in extra))

    # The quiet-round summary: note() formats with words inside trace_round_line.
    body = function_body(src, masked, "trace_round_line")
    summaries = 0
    if body is not None:
        body_masked = mask_literals(body)
        for _, _, args in calls(body, body_masked, "note"):
            fmt = only_literals(args[1]) if len(args) >= 2 else None
            if fmt is None or not re.search(r"[A-Za-z]", CONVERSION.sub("", fmt)):
                continue
            summaries += 1
            filled = source.lines(fmt, args[2:], src.find(body))
            lines += filled
            # The phrase as a person would quote it: the plural, a count in place of the number.
            longest = max(filled, key=len)
            add(format_phrase(longest.replace(VALUE, "%d")))
    if summaries == 0:
        problems.append("no quiet-round summary (a note() format with words in trace_round_line) found in server.c")

    # Close reasons: the literals passed to conn_close() and server_reclaim().
    reasons, any_strerror = [], False
    for name, index in (("conn_close", 2), ("server_reclaim", 1)):
        for _, _, args in calls(src, masked, name):
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
    for name in states:
        add(Phrase(name, lambda cell, spans, name=name: name in spans))
    return phrases, list(dict.fromkeys(lines)), problems


class Page(html.parser.HTMLParser):
    """A guide page: its code spans (outside <pre>), and its glossary table's rows (first cell's text and spans)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.spans, self.rows = [], []
        self.pre = self.table = 0
        self.code = None
        self.cell = None  # [text, spans] of the row's first cell while it is read
        self.cells = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "pre":
            self.pre += 1
        elif tag == "code" and not self.pre:
            self.code = []
        elif tag == "table":
            self.table = self.table + 1 if self.table else (1 if "glossary" in (a.get("class") or "").split() else 0)
        elif tag == "tr" and self.table == 1:
            self.cells = 0
        elif tag == "td" and self.table == 1:
            self.cells += 1
            if self.cells == 1:
                self.cell = ["", []]

    def handle_endtag(self, tag):
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag == "code" and self.code is not None:
            text = re.sub(r"\s+", " ", "".join(self.code)).strip()
            self.spans.append((text, self.getpos()[0]))
            if self.cell is not None:
                self.cell[1].append(text)
            self.code = None
        elif tag == "table" and self.table:
            self.table -= 1
        elif tag == "td" and self.cell is not None:
            self.rows.append((re.sub(r"\s+", " ", self.cell[0]).strip(), self.cell[1]))
            self.cell = None

    def handle_data(self, data):
        if self.code is not None:
            self.code.append(data)
        if self.cell is not None:
            self.cell[0] += data


def read_page(path):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    page.close()
    return page


TOKEN = re.compile(r'(?P<quoted>"[^"]*")|(?P<ellipsis>\.\.\.|…)|(?P<number>\d[\d.]*\d|\d)'
                   r'|(?P<placeholder>(?<![\w/])[A-Z]{1,6}(?![\w/]))|(?P<word>[A-Za-z_][\w-]*)|(?P<other>.)', re.S)


def vocabulary(lines):
    """The words of the trace's fixed text (a system message's words left out)."""
    words = set()
    for line in lines:
        if any(message in line for message in STRERRORS):
            continue
        words.update(re.findall(r"[A-Za-z_][\w-]*", line.replace(VALUE, " ")))
    return words


def span_pattern(span, words):
    """Returns the regex a trace-like span must find in a line the trace can print, or None when not trace-like."""
    known, unknown, pattern = 0, 0, []
    if re.search(r"[A-Za-z_]\(|[A-Za-z_]\.[A-Za-z_]|->|::|\b[a-z]+_[a-z_]+\b", re.sub(r'"[^"]*"', "", span)):
        return None  # code: a call, a member, a C name
    for m in TOKEN.finditer(span):
        kind, text = m.lastgroup, m.group()
        if kind == "quoted":
            pattern.append('"' + VALUE + '"')
        elif kind == "ellipsis":
            pattern.append("(?:%s|%s)" % (VALUE, re.escape(text)))
        elif kind in ("number", "placeholder"):
            pattern.append("(?:%s|%s)" % (VALUE, re.escape(text)))
        elif kind == "word":
            if text in words:
                known += 1
            else:
                unknown += 1
            pattern.append(re.escape(text))
        elif text.isspace():
            pattern.append(r"\s+" if pattern and pattern[-1] != r"\s+" else "")
        else:
            pattern.append(re.escape(text))
    values = sum(1 for m in TOKEN.finditer(span) if m.lastgroup in ("quoted", "ellipsis", "number", "placeholder"))
    if (known >= 2 and known > unknown) or (known == 1 and unknown == 0 and values > 0):
        return re.compile("".join(pattern))
    return None


def quoted_ok(span, words, lines):
    """None when span is not trace-like or is a piece of a line the trace prints; else the span."""
    pattern = span_pattern(span, words)
    if pattern is None or any(pattern.search(line) for line in lines):
        return None
    return span


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    server_c = argv[1] if len(argv) > 1 else os.path.join(root, "server.c")
    pages = {"English": argv[2] if len(argv) > 2 else os.path.join(root, "public", "guide.html"),
             "Indonesian": argv[3] if len(argv) > 3 else os.path.join(root, "public", "panduan.html")}
    if len(argv) > 4:
        print("usage: python3 tests/glossary.py [SERVER_C] [GUIDE_EN] [GUIDE_ID]", file=sys.stderr)
        return 2
    passed = failed = 0

    def check(ok, text):
        nonlocal passed, failed
        print(("ok - " if ok else "FAIL - ") + text)
        if ok:
            passed += 1
        else:
            failed += 1

    try:
        phrases, lines, problems = extract(server_c)
        read = {language: read_page(path) for language, path in pages.items()}
    except OSError as e:
        print("FAIL - cannot read %s" % e)
        print("0 passed, 1 failed")
        return 1
    for problem in problems:
        check(False, problem)
    tables = {}
    for language, page in read.items():
        if len(page.rows) < 2:
            check(False, "no glossary table (<table class=\"glossary\">) in %s" % pages[language])
        else:
            tables[language] = page.rows

    # 1. Every phrase the trace can print is in both glossaries, in the same order.
    for phrase in phrases:
        lacking = [language for language in pages
                   if not any(phrase.find(cell, spans) for cell, spans in tables.get(language, []))]
        check(not lacking, 'glossary has "%s"%s' % (phrase.shown, " (lacking in %s)" % " and ".join(lacking)
                                                     if lacking else ""))
    if len(tables) == 2:
        english = [cell for cell, _ in tables["English"]]
        indonesian = [cell for cell, _ in tables["Indonesian"]]
        only = [c for c in english if c not in indonesian] + [c for c in indonesian if c not in english]
        check(english == indonesian,
              "the English and Indonesian glossaries list the same %d phrases in the same order" % len(english)
              if english == indonesian else
              "the English and Indonesian glossaries differ: %s" % (", ".join(only) or "in their order"))

    # 2. Every trace phrase the guides quote is one the trace can print.
    words = vocabulary(lines)
    for language, page in read.items():
        name = os.path.basename(pages[language])
        quoted = [(span, line) for span, line in page.spans if span_pattern(span, words) is not None]
        bad = [(span, line) for span, line in quoted if quoted_ok(span, words, lines)]
        for span, line in bad:
            check(False, "%s line %d quotes a trace phrase the trace cannot print: %s" % (name, line, span))
        if not bad:
            check(len(quoted) > 0, "%s: its %d quoted trace phrases are all ones the trace can print" % (name, len(quoted)))
    check(quoted_ok(CONTROL, words, lines) == CONTROL, 'control: the stale phrase "%s" is caught' % CONTROL)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
