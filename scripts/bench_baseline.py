"""Baseline for scripts/bench-classify: what a Python team would write for the same job.

Same pipeline as the Swift classifier (NFKC, str.translate folding, re for elisions, repeats and
script boundaries, Arabizi digits, plural folding, consonant skeletons, clitic peeling), the same
rules file, keywords in pyahocorasick automata, the same scoring (distinct rules, exclusions,
arrondissement restriction, threshold, margin, triage). Reads the corpus TSV, writes
id<TAB>department<TAB>confidence like `chikaya classify --batch`.
Simplification: phrases are matched on the unpeeled spellings only.
"""
import re
import sys
import unicodedata

import ahocorasick

DEPARTMENTS = ["proprete", "eclairage", "voirie", "eau-assainissement", "espaces-verts", "transport",
               "circulation", "hygiene", "police-administrative", "urbanisme", "etat-civil", "triage"]
ARRONDISSEMENTS = ["ain-chock", "ain-sebaa", "al-fida", "anfa", "ben-msick", "sbata", "hay-hassani",
                   "hay-mohammadi", "maarif", "mechouar", "moulay-rachid", "sidi-othmane", "roches-noires",
                   "sidi-belyout", "sidi-bernoussi", "sidi-moumen"]


def build_table():
    table = {}
    for cp in list(range(0x200B, 0x2010)) + list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A)) + [0xFEFF, 0x640]:
        table[cp] = None
    for cp in list(range(0x64B, 0x660)) + [0x670] + list(range(0x610, 0x61B)) + list(range(0x6D6, 0x6EE)) + list(range(0x300, 0x370)):
        table[cp] = None
    for src, dst in [("أإآٱ", "ا"), ("ىئیېے", "ي"), ("ةۀہە", "ه"), ("ؤ", "و"), ("ک", "ك"), ("گݣڨ", "ڭ")]:
        for ch in src:
            table[ord(ch)] = dst
    for i in range(10):
        table[0x660 + i] = str(i)
        table[0x6F0 + i] = str(i)
    table[ord("œ")] = "oe"
    table[ord("æ")] = "ae"
    table[ord("’")] = "'"
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        base = unicodedata.normalize("NFD", ch.lower())[0]
        if base.isascii() and base.isalpha():
            table[cp] = base
    return table


TABLE = build_table()
ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)'")
REPEAT = re.compile(r"([^\W\d])\1{2,}")
BOUNDARY = re.compile(r"(?<=[\u0600-\u06FF])(?=[a-z0-9])|(?<=[a-z0-9])(?=[\u0600-\u06FF])")
TOKEN = re.compile(r"[a-z0-9\u0621-\u06FF\u0750-\u077F]+")
ARABIZI = str.maketrans({"7": "ḥ", "8": "ḥ", "9": "q", "5": "kh", "2": None})
SKEL_LATIN = [(re.compile(r"ch|sh|x"), "C"), (re.compile(r"kh"), "X"), (re.compile(r"gh"), "g"), (re.compile(r"c"), "k"),
              (re.compile(r"p"), "b"), (re.compile(r"v"), "f"), (re.compile(r"[aeiouyw]"), ""), (re.compile(r"ḥ"), "h")]
SKEL_ARABIC = str.maketrans({"ا": "", "ء": "", "و": "", "ي": "", "ب": "b", "پ": "b", "ت": "t", "ث": "t", "ط": "t", "ج": "j",
                             "ح": "h", "خ": "X", "د": "d", "ذ": "d", "ض": "d", "ظ": "d", "ر": "r", "ز": "z", "س": "s", "ص": "s",
                             "ش": "C", "ع": "3", "غ": "g", "ڭ": "g", "ف": "f", "ڤ": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m",
                             "ن": "n", "ه": "h"})
DOUBLE = re.compile(r"(.)\1+")
AR_CLITICS = ["وال", "بال", "كال", "فال", "دال", "لل", "ال", "و", "ف", "ب", "ل", "د"]
LAT_CLITICS = ["el", "fl", "l", "f", "b", "w", "d"]


def tokens(text):
    text = unicodedata.normalize("NFKC", text).translate(TABLE).lower()
    text = ELISION.sub(" ", text)
    text = REPEAT.sub(r"\1", text)
    text = BOUNDARY.sub(" ", text)
    out = []
    for tok in TOKEN.findall(text):
        if tok[0].isascii() or tok[-1].isascii():
            if any(c.isdigit() for c in tok) and sum(c.isalpha() for c in tok) >= 2:
                tok = tok.translate(ARABIZI)
        out.append(tok)
    return out


def is_latin(tok):
    return tok[:1].isascii()


def fold(tok):
    if len(tok) >= 4 and tok.isascii() and tok.isalpha():
        if len(tok) >= 5 and tok.endswith("aux"):
            return tok[:-2] + "l"
        if tok.endswith("x") or (tok.endswith("s") and not tok.endswith("ss")):
            return tok[:-1]
    return tok


def skeleton(tok):
    if is_latin(tok):
        for pattern, repl in SKEL_LATIN:
            tok = pattern.sub(repl, tok)
    else:
        if len(tok) > 1 and tok.endswith("ه"):
            tok = tok[:-1]
        tok = tok.translate(SKEL_ARABIC)
    return DOUBLE.sub(r"\1", tok)


def candidates(tok, prev):
    """Spelling keys and skeleton keys ("~" + skeleton) the token offers."""
    keys = set()
    if is_latin(tok):
        keys.add(fold(tok))
        forms = [tok] + [tok[len(c):] for c in LAT_CLITICS if tok.startswith(c) and len(tok) - len(c) >= 2]
        if tok.endswith("ch") and (len(tok) >= 6 and tok.startswith("ma")):
            forms.append(tok[2:-2])
        elif tok.endswith("ch") and prev == "ma":
            forms.append(tok[:-2])
    else:
        forms = [tok] + [tok[len(c):] for c in AR_CLITICS if tok.startswith(c) and len(tok) - len(c) >= 2]
        if tok.endswith("ش") and len(tok) >= 5 and tok.startswith("ما"):
            forms.append(tok[2:-1])
        elif tok.endswith("ش") and prev == "ما":
            forms.append(tok[:-1])
        keys.update(forms)
    for form in forms:
        s = skeleton(form)
        if len(s) >= 3:
            keys.add("~" + s)
    return keys


def parse_rules(path):
    settings = {"threshold": 1.0, "margin": 0.5}
    rules = []  # (dept, weight, mask, exclusion, words)
    dept = None
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line[1:line.index("]")].strip()
            # [landmarks] phrases are matched like exclusions of no department: the same
            # matching work, no score (the baseline does not weigh what follows them).
            dept = -1 if section == "landmarks" else DEPARTMENTS.index(section)
        elif ":" in line:
            head, terms = line.split(":", 1)
            head = head.strip()
            exclusion = head == "exclude" or dept == -1
            mask = 0
            weight = 0.0
            if not exclusion:
                if "@" in head:
                    head, areas = head.split("@", 1)
                    for a in areas.split(","):
                        mask |= 1 << ARRONDISSEMENTS.index(a.strip())
                weight = float(head)
            for term in terms.split("|"):
                words = []
                for word in term.split():
                    skel = word.startswith("~")
                    prefix = word.endswith("*")
                    core = word.strip("~*")
                    toks = tokens(core)
                    for i, t in enumerate(toks):
                        key = ("~" + skeleton(t)) if skel else (fold(t) if is_latin(t) else t)
                        words.append((key, prefix and i == len(toks) - 1))
                if words:
                    rules.append((dept, weight, mask, exclusion, words))
        elif "=" in line:
            name, value = line.split("=", 1)
            try:
                settings[name.strip()] = float(value)
            except ValueError:
                settings[name.strip()] = value.strip()  # ties = first: not modelled
    return settings, rules


def build(rules):
    """Single words: one automaton over "\\x02key\\x03" slots (prefix keys lack \\x03);
    phrases: one automaton over the spaced spelling string."""
    words = ahocorasick.Automaton()
    phrases = ahocorasick.Automaton()
    for r, (_, _, _, _, ws) in enumerate(rules):
        if len(ws) == 1:
            key, prefix = ws[0]
            text = "\x02" + key + ("" if prefix else "\x03")
            words.add_word(text, words.get(text, ()) + (r,)) if text in words else words.add_word(text, (r,))
        else:
            text = " " + " ".join(k for k, _ in ws) + " "
            phrases.add_word(text, phrases.get(text, ()) + (r,)) if text in phrases else phrases.add_word(text, (r,))
    words.make_automaton()
    if len(phrases) == 0:
        phrases.add_word("\x00\x00", ())
    phrases.make_automaton()
    return words, phrases


def classify(text, area_bit, settings, rules, words, phrases):
    toks = tokens(text)
    slots = []
    spans = []  # token index per slot start offset
    pos = 0
    plain = []
    prev = ""
    for i, tok in enumerate(toks):
        for key in candidates(tok, prev):
            s = "\x02" + key + "\x03"
            slots.append(s)
            spans.append((pos, i))
            pos += len(s)
        plain.append(fold(tok) if is_latin(tok) else tok)
        prev = tok
    hits = []
    slot_text = "".join(slots)
    starts = [p for p, _ in spans]
    import bisect
    for end, rs in words.iter(slot_text):
        j = bisect.bisect_right(starts, end) - 1
        i = spans[j][1]
        for r in rs:
            hits.append((r, i, i + 1))
    plain_text = " " + " ".join(plain) + " "
    for end, rs in phrases.iter(plain_text):
        start = end - 0
        first = plain_text.count(" ", 0, end - 1)  # approximate token index, good enough for overlap
        for r in rs:
            n = len(rules[r][4])
            hits.append((r, max(0, first - n), first))
        del start
    scores = [0.0] * len(DEPARTMENTS)
    counted = set()
    exclusions = [(rules[r][0], a, b) for r, a, b in hits if rules[r][3]]
    for r, a, b in hits:
        dept, weight, mask, exclusion, _ = rules[r]
        if exclusion or (mask and not mask & area_bit) or r in counted:
            continue
        if any(d == dept and x < b and a < y for d, x, y in exclusions):
            continue
        counted.add(r)
        scores[dept] += weight
    triage = DEPARTMENTS.index("triage")
    ranked = sorted(((s, i) for i, s in enumerate(scores) if i != triage and s > 0), reverse=True)
    if not ranked:
        return "triage", 0.0
    top, best = ranked[0]
    runner = ranked[1][0] if len(ranked) > 1 else 0.0
    if top < settings["threshold"] or top - runner < settings["margin"] or scores[triage] >= top:
        return "triage", 0.0
    strength = min(1.0, top / (2 * settings["threshold"])) if settings["threshold"] > 0 else 1.0
    return DEPARTMENTS[best], strength * top / (top + runner)


def main():
    rules_path, corpus_path = sys.argv[1], sys.argv[2]
    settings, rules = parse_rules(rules_path)
    words, phrases = build(rules)
    out = []
    with open(corpus_path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            fields = line.rstrip("\r\n").split("\t", 4)
            if n == 0 and fields[0] == "id":
                continue
            if len(fields) != 5:
                continue
            area = fields[2]
            bit = 1 << ARRONDISSEMENTS.index(area) if area in ARRONDISSEMENTS else 0
            dept, confidence = classify(fields[4], bit, settings, rules, words, phrases)
            out.append(f"{fields[0]}\t{dept}\t{confidence:.3f}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
