# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# distutils: language = c++
"""C-speed versions of the steps every screened name goes through: folding the
text, finding the marks worth aligning (the candidate stage), and aligning
them (Aligner: align.could_align() and align.align() of all of a name's
candidate marks in one call).

Most names are near no mark, so these two steps are nearly all of the cost of a
nightly scan. The pure-Python paths in normalize.py and candidates.py define the
results; this module must give exactly the same ones (tests/test_matcher_accel.py,
tests/test_matcher_dispatch.py) and is used when the compiled implementation
runs (matcher/_impl.py; setup.py builds it when a C++ compiler is present). Written by hand, as no maintained package folds per character with
these tables or scans several projections of one text for bigram-keyed patterns.
"""

cimport cython
from cython.operator cimport dereference as deref
from libc.math cimport log
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcmp
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector
from libcpp.utility cimport pair
from libcpp.algorithm cimport sort as stdsort
from cpython.unicode cimport PyUnicode_FromKindAndData, PyUnicode_4BYTE_KIND

cdef uint32_t UNKNOWN = 0xFFFFFFFF
cdef uint32_t EMPTY = 0xFFFFFFFE
cdef uint32_t MULTI = 0xFFFFFFFD
cdef unsigned char SEP = 1
cdef uint64_t NO_PAIR = 0xFFFFFFFFFFFFFFFFULL  # no code point is 0xFFFFFFFF: never a pair


ctypedef struct _Slot:  # a pair's slot in the table, all in one cache line
    uint64_t key
    uint32_t lo, hi  # its patterns are order[lo:hi]


ctypedef struct _Entry:  # one pattern of a pair, with what is needed to check it
    int idx
    uint32_t start, length  # its code points are flat[start:start + length]


ctypedef struct _Owners:  # the marks a Chinese key raises, flat in CandidateIndex.owner_ids
    uint32_t at
    uint32_t strong, homophone, sound  # how many of each, in this order


cdef inline uint64_t _hash(uint64_t key) noexcept nogil:
    """Fibonacci hashing: the top bits of the product index the filter and the table."""
    return key * 0x9E3779B97F4A7C15ULL


cdef inline bint _han_re(uint32_t c) noexcept nogil:
    """The Han ranges of normalize._SEP_RE (not is_han(): 4DC0–4DFF differs)."""
    return (0x3400 <= c <= 0x4DBF) or (0x4E00 <= c <= 0x9FFF) or (0xF900 <= c <= 0xFAFF)


cdef inline void _append(vector[uint32_t]& out, str s):
    cdef Py_UCS4 ch
    for ch in s:
        out.push_back(ch)


cdef str _to_str(vector[uint32_t]& buf):
    if buf.size() == 0:
        return ""
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf.data(), buf.size())


cdef class Folder:
    """normalize.fold(): the per-character table, then separators between Han removed.

    The table is the same lazily filled mapping str.translate uses; its answers
    for BMP code points are remembered in a flat array.
    """

    cdef object table, reason_of
    cdef list reasons
    cdef vector[uint32_t] bmp
    cdef vector[unsigned char] reason_bmp
    cdef vector[unsigned char] flags

    def __init__(self, table, str separators, reason_of):
        cdef Py_UCS4 ch
        self.table = table
        self.reason_of = reason_of
        self.reasons = []
        self.bmp.assign(0x10000, UNKNOWN)
        self.reason_bmp.assign(0x10000, 255)
        self.flags.assign(0x10000, 0)
        for ch in separators:
            self.flags[ch] = SEP

    cdef str _reason(self, Py_UCS4 ch):
        cdef unsigned char k = self.reason_bmp[ch] if ch < 0x10000 else 255
        if k != 255:
            return self.reasons[k]
        why = self.reason_of(ch)
        if why not in self.reasons:
            self.reasons.append(why)
        k = self.reasons.index(why)
        if ch < 0x10000 and k < 255:
            self.reason_bmp[ch] = k
        return why

    cdef uint32_t _learn(self, uint32_t cp) except? 0xFFFFFFFC:
        cdef str s = self.table[cp]
        cdef uint32_t v
        if len(s) == 0:
            v = EMPTY
        elif len(s) == 1:
            v = ord(s)
        else:
            v = MULTI
        self.bmp[cp] = v
        return v

    cdef int fold_into(self, str text, vector[uint32_t]& raw, vector[uint32_t]& out,
                       vector[Py_ssize_t]* source=NULL, vector[size_t]* kept=NULL) except -1:
        """Fold text into out; with source and kept, also the index in text of each
        character of raw, and the index in raw of each character of out."""
        cdef Py_UCS4 ch
        cdef uint32_t cp, v
        cdef size_t i, j, n
        cdef Py_ssize_t at = -1
        raw.reserve(len(text))
        for ch in text:
            cp = ch
            at += 1
            if cp < 0x10000:
                v = self.bmp[cp]
                if v == UNKNOWN:
                    v = self._learn(cp)
                if v == EMPTY:
                    continue
                if v != MULTI:
                    raw.push_back(v)
                    if source != NULL:
                        source.push_back(at)
                    continue
            _append(raw, self.table[cp])
            if source != NULL:
                source.resize(raw.size(), at)
        n = raw.size()
        out.reserve(n)
        i = 0
        while i < n:
            cp = raw[i]
            if cp < 0x10000 and self.flags[cp] & SEP:
                j = i
                while j < n and raw[j] < 0x10000 and self.flags[raw[j]] & SEP:
                    j += 1
                if not (i > 0 and j < n and _han_re(raw[i - 1]) and _han_re(raw[j])):
                    while i < j:
                        out.push_back(raw[i])
                        if kept != NULL:
                            kept.push_back(i)
                        i += 1
                i = j
                continue
            out.push_back(cp)
            if kept != NULL:
                kept.push_back(i)
            i += 1
        return 0

    def trace(self, str text) -> tuple:
        """normalize.trace(): (folded text, index in text of each folded character,
        why each one changed)."""
        cdef vector[uint32_t] raw, out
        cdef vector[Py_ssize_t] source
        cdef vector[size_t] kept
        cdef size_t k, m
        self.fold_into(text, raw, out, &source, &kept)
        m = kept.size()
        origin = [source[kept[k]] for k in range(m)]
        why = [self._reason(text[source[kept[k]]]) for k in range(m)]
        return _to_str(out), tuple(origin), tuple(why)

    def fold(self, str text) -> str:
        # Buffers are per call: the table may run Python code, so another thread may fold meanwhile.
        cdef vector[uint32_t] raw, out
        self.fold_into(text, raw, out)
        return _to_str(out)


cdef class _Patterns:
    """Exact patterns keyed by their first two code points (one-character patterns
    by their only one); every occurrence is reported, overlapping ones included,
    as an overlapping Aho-Corasick scan would.

    At 10,000 marks there are ~590,000 keys: a node-based map cost two or three cache
    misses per lookup, and a 128 KiB filter let ~40 % of a text's pairs through to it.
    So the pairs sit in one open-addressing table (one probe, usually one miss) behind a
    bit filter of ~8 bits per pair (1 MiB at 10,000 marks, 64 KiB at 1,000), which turns
    away all but a few per cent of the pairs that start no key."""

    cdef vector[uint32_t] flat  # every pattern's code points, one after another
    cdef vector[_Slot] slots  # the table: a pair per slot, or NO_PAIR
    cdef vector[_Entry] order  # patterns grouped by pair, ascending within a pair
    cdef uint64_t table_mask
    cdef int table_shift, filter_shift
    cdef unordered_map[uint32_t, vector[int]] by_char
    cdef vector[uint64_t] pair_filter

    def __init__(self, list patterns):
        cdef int idx
        cdef str p
        cdef vector[uint32_t] cps
        cdef uint64_t key, h
        cdef size_t k, groups, bits, slots
        cdef vector[pair[uint64_t, int]] keyed  # (pair, pattern): sorted, they come grouped by pair
        cdef vector[uint32_t] starts, lengths
        cdef _Slot empty
        cdef _Entry entry
        for idx, p in enumerate(patterns):
            cps.clear()
            _append(cps, p)
            starts.push_back(self.flat.size())
            lengths.push_back(cps.size())
            for k in range(cps.size()):
                self.flat.push_back(cps[k])
            if cps.size() == 1:
                self.by_char[cps[0]].push_back(idx)
            elif cps.size() >= 2:
                keyed.push_back(pair[uint64_t, int]((<uint64_t>cps[0] << 32) | cps[1], idx))
        stdsort(keyed.begin(), keyed.end())
        groups = 0
        for k in range(keyed.size()):
            if k == 0 or keyed[k].first != keyed[k - 1].first:
                groups += 1
        bits = 16
        while bits < 24 and (<size_t>1 << bits) < 8 * groups:
            bits += 1
        self.filter_shift = 64 - bits
        self.pair_filter.assign((<size_t>1 << bits) // 64, 0)
        bits = 4
        while (<size_t>1 << bits) < 2 * groups:
            bits += 1
        slots = <size_t>1 << bits
        self.table_shift = 64 - bits
        self.table_mask = slots - 1
        empty.key, empty.lo, empty.hi = NO_PAIR, 0, 0
        self.slots.assign(slots, empty)
        for k in range(keyed.size()):
            key, idx = keyed[k].first, keyed[k].second
            h = _hash(key) >> self.table_shift
            while self.slots[h].key != NO_PAIR and self.slots[h].key != key:
                h = (h + 1) & self.table_mask
            if self.slots[h].key == NO_PAIR:
                self.slots[h].key = key
                self.slots[h].lo = self.order.size()
            entry.idx = idx
            entry.start = starts[idx]
            entry.length = lengths[idx]
            self.order.push_back(entry)
            self.slots[h].hi = self.order.size()
            h = _hash(key) >> self.filter_shift
            self.pair_filter[h >> 6] |= (<uint64_t>1) << (h & 63)

    cdef void find(self, vector[uint32_t]& text, vector[int]& found):
        cdef size_t i, k, n = text.size(), m, a, j, lo, hi
        cdef uint64_t key, h, slot
        cdef int idx
        cdef vector[int]* lst
        cdef bint single = not self.by_char.empty()
        cdef unordered_map[uint32_t, vector[int]].iterator it1
        for i in range(n):
            if single:
                it1 = self.by_char.find(text[i])
                if it1 != self.by_char.end():
                    lst = &deref(it1).second
                    for j in range(lst.size()):
                        found.push_back(deref(lst)[j])
            if i + 1 >= n:
                continue
            key = (<uint64_t>text[i] << 32) | text[i + 1]
            h = _hash(key)
            slot = h >> self.filter_shift
            if not (self.pair_filter[slot >> 6] >> (slot & 63)) & 1:
                continue
            slot = h >> self.table_shift
            while self.slots[slot].key != key:
                if self.slots[slot].key == NO_PAIR:
                    break
                slot = (slot + 1) & self.table_mask
            if self.slots[slot].key != key:
                continue
            lo, hi = self.slots[slot].lo, self.slots[slot].hi
            for j in range(lo, hi):
                idx = self.order[j].idx
                a = self.order[j].start
                m = self.order[j].length
                if m == 2:
                    found.push_back(idx)
                    continue
                if i + m > n:
                    continue
                k = 2
                while k < m and self.flat[a + k] == text[i + k]:
                    k += 1
                if k == m:
                    found.push_back(idx)


cdef class WordFreq  # defined with the word cut below; in_field looks up class words in one


cdef class KeySet:
    """Where ahocorasick_rs.AhoCorasick(patterns).find_matches_as_indexes(text, overlapping=True)
    finds its patterns, as the same multiset of pattern indexes (ordered by start, not end):
    Matcher.screen's scan for marks written part in pinyin, in the candidate stage's pair table
    rather than a call into another extension and a list of tuples per text with a Latin letter."""

    cdef _Patterns keys

    def __init__(self, list patterns):
        self.keys = _Patterns(patterns)

    def find(self, str text) -> list:
        cdef vector[uint32_t] t
        cdef vector[int] found
        cdef Py_UCS4 ch
        for ch in text:
            t.push_back(ch)
        self.keys.find(t, found)
        return found


cdef class CandidateIndex:
    """candidates.CandidateIndex in C++: the folded text, its even and odd
    characters and its sound projection against the Chinese keys; the Latin
    skeleton against the alias keys. Built from the same IndexPlan."""

    cdef _Patterns keys
    cdef vector[_Owners] owners  # per Chinese key: where its marks are in owner_ids
    cdef vector[int] owner_ids  # strong, then homophone-only, then sound-only marks, each sorted
    cdef vector[uint32_t] sound_bmp
    cdef unordered_map[uint32_t, uint32_t] sound_of
    cdef _Patterns latin
    cdef vector[vector[int]] latin_owners
    cdef uint32_t skeleton[128]
    # in_field(): per mark, its Nice classes as bits (1 << c), and whether the answer
    # can need Python (it lists industries, or a class outside 0..63)
    cdef object field_plans
    cdef vector[uint64_t] class_mask
    cdef vector[unsigned char] field_python
    cdef vector[unsigned char] unplaced
    # context.classes_in's words (plan.class_words), each to its classes as bits (-1: a class
    # outside 0..62, for which in_field asks Python), and the longest one's length
    cdef WordFreq class_words
    cdef size_t class_word_max

    def __init__(self, plan):
        cdef int cp, mark
        cdef _Owners own
        cdef long long bits
        words = {}
        self.class_word_max = 0
        for w, classes in getattr(plan, "class_words", ()):
            bits = 0
            for c in classes:
                if 0 <= c < 63:
                    bits |= (<long long>1) << <int>c
                else:
                    bits = -1
                    break
            if w:
                words[w] = bits
                self.class_word_max = max(self.class_word_max, len(w))
        self.class_words = WordFreq(words) if words else None
        self.keys = _Patterns(list(plan.patterns))
        for st, ho, so in plan.owners:
            own.at = self.owner_ids.size()
            own.strong, own.homophone, own.sound = len(st), len(ho), len(so)
            for group in (st, ho, so):
                for mark in sorted(group):
                    self.owner_ids.push_back(mark)
            self.owners.push_back(own)
        self.sound_bmp.assign(0x10000, 0)
        for cp, code in plan.sound_table.items():
            if cp < 0x10000:
                self.sound_bmp[cp] = ord(code)
            else:
                self.sound_of[cp] = ord(code)
        self.latin = _Patterns(list(plan.latin_patterns))
        for o in plan.latin_owners:
            self.latin_owners.push_back(sorted(o))
        for cp in range(128):
            self.skeleton[cp] = cp
        for k, val in plan.skeleton.items():
            self.skeleton[k] = ord(val)

    def scan(self, str folded):
        """(strong, homophone-only, sound-only) mark indexes, with Latin alias
        hits among the strong; None when no key occurs at all."""
        cdef vector[uint32_t] f, half, proj, compact
        cdef vector[int] hits, latin_hits
        cdef size_t n = len(folded)
        f.reserve(n)
        half.reserve(n // 2 + 1)
        proj.reserve(n)
        hits.reserve(16)
        return self._scan(folded, f, half, proj, compact, hits, latin_hits)

    cdef object _scan(self, str folded, vector[uint32_t]& f, vector[uint32_t]& half, vector[uint32_t]& proj,
                      vector[uint32_t]& compact, vector[int]& hits, vector[int]& latin_hits):
        if not self._find(folded, f, half, proj, compact, hits, latin_hits):
            return None
        return self._owner_sets(hits, latin_hits)

    cdef bint _find(self, str folded, vector[uint32_t]& f, vector[uint32_t]& half, vector[uint32_t]& proj,
                    vector[uint32_t]& compact, vector[int]& hits, vector[int]& latin_hits,
                    bint* latin=NULL) except -1:
        """The Chinese keys (hits) and Latin keys (latin_hits) in folded; False when none.
        With latin, whether folded holds a letter a to z (candidates.has_latin)."""
        cdef Py_UCS4 ch
        cdef uint32_t c
        cdef size_t i, n
        cdef bint has_latin = False
        cdef unordered_map[uint32_t, uint32_t].iterator it
        for ch in folded:
            f.push_back(ch)
            if 0x61 <= ch <= 0x7A:
                has_latin = True
        if latin != NULL:
            latin[0] = has_latin
        n = f.size()
        if n == 0:
            return False
        self.keys.find(f, hits)
        i = 0
        while i < n:
            half.push_back(f[i])
            i += 2
        self.keys.find(half, hits)
        half.clear()
        i = 1
        while i < n:
            half.push_back(f[i])
            i += 2
        self.keys.find(half, hits)
        for i in range(n):
            c = f[i]
            if c < 0x10000:
                proj.push_back(self.sound_bmp[c] if self.sound_bmp[c] else c)
            else:
                it = self.sound_of.find(c)
                proj.push_back(c if it == self.sound_of.end() else deref(it).second)
        self.keys.find(proj, hits)
        if has_latin:
            for i in range(n):
                c = f[i]
                if c < 128:
                    c = self.skeleton[c]
                    if (0x61 <= c <= 0x7A) or (0x30 <= c <= 0x39):
                        compact.push_back(c)
            self.latin.find(compact, latin_hits)
        return not (hits.empty() and latin_hits.empty())

    cdef object _owner_sets(self, vector[int]& hits, vector[int]& latin_hits):
        cdef int p, o
        cdef _Owners* own
        cdef uint32_t k, at
        found, by_homophone, by_sound = set(), set(), set()
        for p in hits:
            own = &self.owners[p]
            at = own.at
            for k in range(own.strong):
                found.add(self.owner_ids[at + k])
            at += own.strong
            for k in range(own.homophone):
                by_homophone.add(self.owner_ids[at + k])
            at += own.homophone
            for k in range(own.sound):
                by_sound.add(self.owner_ids[at + k])
        for p in latin_hits:
            for o in self.latin_owners[p]:
                found.add(o)
        return found, by_homophone, by_sound

    cdef bint _field_mask(self, vector[uint32_t]& f, str category, uint64_t* mask) except -1:
        """context.classes_in(folded + " " + category) as bits into mask: its automaton's
        leftmost-longest words (at each position the longest word starting there, then on
        past its end). False when there are no class words, or a word found shows a class
        outside 0..62: then Python is asked."""
        cdef vector[uint32_t] t
        cdef size_t n, p, k, best, top
        cdef uint64_t h
        cdef long long v, got = 0
        cdef Py_UCS4 ch
        if self.class_words is None:
            return False
        t = f
        if category:
            t.push_back(0x20)
            for ch in category:
                t.push_back(ch)
        n = t.size()
        mask[0] = 0
        p = 0
        while p < n:
            best = 0
            h = FNV_OFFSET
            top = min(self.class_word_max, n - p)
            for k in range(1, top + 1):
                h = _fnv(h, t[p + k - 1])
                if self.class_words.find(&t[p], k, h, &v):
                    best, got = k, v
            if best:
                if got < 0:
                    return False
                mask[0] |= <uint64_t>got
                p += best
            else:
                p += 1
        return True

    def field_classes(self, str folded, str category=""):
        """The classes _field_mask finds (None where it would ask Python): for the tests."""
        cdef vector[uint32_t] f
        cdef uint64_t mask = 0
        cdef Py_UCS4 ch
        for ch in folded:
            f.push_back(ch)
        if not self._field_mask(f, category, &mask):
            return None
        return {c for c in range(64) if mask >> c & 1}

    cdef void _fields(self, list plans):
        """Each mark's classes as a bit mask, from its plan (once per list of plans)."""
        cdef size_t i
        cdef uint64_t m
        cdef bint odd
        self.class_mask.assign(len(plans), 0)
        self.field_python.assign(len(plans), 0)
        self.unplaced.assign(len(plans), 0)
        for i, plan in enumerate(plans):
            self.unplaced[i] = not plan.has_field
            m = 0
            odd = bool(plan.industries)
            for c in plan.classes:
                if 0 <= c < 64:
                    m |= (<uint64_t>1) << <int>c
                else:
                    odd = True
            self.class_mask[i] = m
            self.field_python[i] = odd
        self.field_plans = plans

    def in_field(self, str folded, str category, list plans, classes_in):
        """candidates.in_field(self.scan(folded), plans, folded, category), without
        building the scan's three sets: a sound-alike's classes are compared as bit
        masks, and only marks listing industries (or odd classes) ask Python.
        *classes_in* is context.classes_in, called only when a sound-alike needs it."""
        cdef vector[int] kept
        cdef bint latin
        self._in_field(folded, category, plans, classes_in, kept, &latin)
        return set(kept)

    def in_field_sorted(self, str folded, str category, list plans, classes_in) -> tuple:
        """(sorted(self.in_field(...)), candidates.has_latin(folded)): what Matcher.screen
        needs, without a set to sort or a regex to run."""
        cdef vector[int] kept
        cdef bint latin = False
        self._in_field(folded, category, plans, classes_in, kept, &latin)
        stdsort(kept.begin(), kept.end())
        return kept, latin

    cdef int _in_field(self, str folded, str category, list plans, classes_in, vector[int]& kept,
                       bint* latin) except -1:
        """The marks in_field() keeps, each once (in no particular order), into kept;
        whether folded holds a letter a to z into latin."""
        cdef vector[uint32_t] f, half, proj, compact
        cdef vector[int] hits, latin_hits, sound, homophone
        # per mark: 1 strong, 2 sound-only, 4 homophone-only, 8 kept (local: thread-safe)
        cdef vector[unsigned char] seen
        cdef size_t n = len(folded), k
        cdef _Owners* own
        cdef uint32_t at, j
        cdef int p, o, i
        cdef uint64_t mask = 0
        cdef bint text_odd = False, no_classes
        if plans is not self.field_plans:
            self._fields(plans)
        f.reserve(n)
        half.reserve(n // 2 + 1)
        proj.reserve(n)
        hits.reserve(16)
        if not self._find(folded, f, half, proj, compact, hits, latin_hits, latin):
            return 0
        seen.assign(self.class_mask.size(), 0)
        for p in hits:  # strong first: a mark raised strongly is never filtered
            own = &self.owners[p]
            at = own.at
            for j in range(own.strong):
                o = self.owner_ids[at + j]
                if not seen[o] & 1:
                    seen[o] |= 9
                    kept.push_back(o)
        for p in latin_hits:
            for o in self.latin_owners[p]:
                if not seen[o] & 1:
                    seen[o] |= 9
                    kept.push_back(o)
        for p in hits:
            own = &self.owners[p]
            at = own.at + own.strong
            for j in range(own.homophone):
                o = self.owner_ids[at + j]
                if not seen[o] & 5:
                    seen[o] |= 4
                    homophone.push_back(o)
            at += own.homophone
            for j in range(own.sound):
                o = self.owner_ids[at + j]
                if not seen[o] & 3:
                    seen[o] |= 2
                    sound.push_back(o)
        if sound.empty() and homophone.empty():
            return 0
        field = folded + " " + category if category else folded
        if self._field_mask(f, category, &mask):
            # classes_in(field) as bits, all in 0..62: the set is made only if a mark asks
            classes = None
            no_classes = mask == 0
        else:
            classes = classes_in(field)
            for c in classes:
                if 0 <= c < 64:
                    mask |= (<uint64_t>1) << <int>c
                else:
                    text_odd = True
            no_classes = not classes
        for k in range(sound.size()):
            i = sound[k]
            if mask & self.class_mask[i]:
                pass
            elif text_odd or self.field_python[i]:
                plan = plans[i]
                if classes is None:
                    classes = {c for c in range(63) if mask >> c & 1}
                if not ((classes and not classes.isdisjoint(plan.classes)) or (
                    plan.industries and any(w in field for w in plan.industries)
                )):
                    continue
            else:
                continue
            if not seen[i] & 8:
                seen[i] |= 8
                kept.push_back(i)
        for k in range(homophone.size()):
            i = homophone[k]
            if no_classes or mask & self.class_mask[i] or self.unplaced[i]:
                pass
            elif text_odd or self.field_python[i]:
                plan = plans[i]
                if classes is None:
                    classes = {c for c in range(63) if mask >> c & 1}
                if not (not classes.isdisjoint(plan.classes) or (
                    plan.industries and any(w in field for w in plan.industries)
                )):
                    continue
            else:
                continue
            if not seen[i] & 8:
                seen[i] |= 8
                kept.push_back(i)
        return 0


# align.Aligner in C++: relation kinds by number (align.KINDS), edits by number (_EDITS).
cdef unsigned char K_SAME = 0
cdef unsigned char K_DIFF = 5
cdef int E_EXACT = 0, E_VARIANT = 1, E_SWAP = 2, E_INSERTION = 3, E_REORDER = 4
_EDITS = ("exact", "variant", "swap", "insertion", "reorder")
cdef unsigned char C_HAN = 1, C_RARE_HAN = 2, C_RARE = 4  # align.char_classes()


ctypedef struct _Rel:  # relation(a, b) for a mark character a (by table id) and a common b
    uint64_t key  # (table id << 32) | b, or NO_PAIR
    double sim
    unsigned char kind
    unsigned char start  # b may begin a window of a mark whose first character is a


ctypedef struct _AMark:
    uint32_t at, n  # its code points are mark_cps[at:at + n], sorted in sorted_cps, tables in mark_tids
    double wsum, reorder_sim, factor, ins2_sim


ctypedef struct _AHit:  # align()'s (-similarity, start, phase, j, kinds, edit, window) as numbers
    double neg
    Py_ssize_t i
    int phase, j
    Py_ssize_t kinds  # offset in the kinds buffer, or -1: all SAME
    int edit
    Py_ssize_t wlen


cdef bint _hit_less(const _AHit& a, const _AHit& b) noexcept nogil:
    """align()'s tuple order; (start, phase, j) never ties, so kinds, edit and window are never compared."""
    if a.neg != b.neg:
        return a.neg < b.neg
    if a.i != b.i:
        return a.i < b.i
    if a.phase != b.phase:
        return a.phase < b.phase
    return a.j < b.j


cdef inline size_t _keep(Py_ssize_t limit, size_t size) noexcept:
    """len(found[:limit]) for a list of `size` results (a negative limit drops from the end)."""
    if limit < 0:
        limit += <Py_ssize_t>size
        return <size_t>limit if limit > 0 else 0
    return <size_t>limit if <size_t>limit < size else size


cdef class Aligner:
    """align.Aligner in C++: for one text, could_align() and align() of each of the marks
    asked for, in one call per screened name instead of two Python calls per candidate mark.

    Each mark character's relation table (align._table) is copied once into one
    open-addressing table keyed by (character, text character); a rare text character
    missing from it asks align._relation, as align() does. The results are align()'s
    exactly (tests/test_matcher_align_speed_equivalence.py)."""

    cdef vector[_Rel] rels
    cdef uint64_t rel_mask
    cdef int rel_shift
    cdef vector[_AMark] marks
    cdef vector[uint32_t] mark_cps, sorted_cps, mark_tids
    cdef vector[unsigned char] classes  # align.char_classes(): per code point below len
    cdef list strs
    cdef object relation, make
    cdef tuple kinds
    cdef dict kind_code
    cdef dict same_kinds

    def __init__(self, list marks, plan_facts, bytes char_classes, relation, make, tuple kinds):
        """marks: folded marks; plan_facts(mark) -> (tables, first_starts, wsum, reorder_sim,
        factor, ins2_sim) for marks of two or more characters (align._plan_facts)."""
        cdef str mark
        cdef Py_UCS4 ch
        cdef uint32_t tid, k, at
        cdef _AMark am
        cdef _Rel rel, empty
        cdef vector[_Rel] pending
        cdef vector[uint32_t] firsts
        cdef size_t bits, slots, q
        cdef uint64_t h
        cdef _Rel* found
        self.strs = marks
        self.relation = relation
        self.make = make
        self.kinds = kinds
        self.kind_code = {s: i for i, s in enumerate(kinds)}
        self.same_kinds = {}
        self.classes.assign(len(char_classes), 0)
        for q in range(len(char_classes)):
            self.classes[q] = char_classes[q]
        tid_of = {}
        starts_of = []  # per table id of a first character: its first_starts, once
        for mark in marks:
            am.at = self.mark_cps.size()
            am.n = len(mark)
            am.wsum = am.reorder_sim = am.factor = am.ins2_sim = 0.0
            for ch in mark:
                self.mark_cps.push_back(ch)
            for k in range(am.n):
                self.sorted_cps.push_back(self.mark_cps[am.at + k])
            stdsort(self.sorted_cps.begin() + am.at, self.sorted_cps.end())
            if am.n >= 2:
                tables, first_starts, am.wsum, am.reorder_sim, am.factor, am.ins2_sim = plan_facts(mark)
                for k in range(am.n):
                    ch = mark[k]
                    got = tid_of.get(ch)
                    if got is None:
                        tid = len(tid_of)
                        tid_of[ch] = tid
                        starts_of.append(None)
                        for b, (sim, kind) in tables[k].items():
                            rel.key = (<uint64_t>tid << 32) | <uint32_t>ord(b)
                            rel.sim = sim
                            rel.kind = self.kind_code[kind]
                            rel.start = 0
                            pending.push_back(rel)
                    else:
                        tid = got
                    self.mark_tids.push_back(tid)
                tid = self.mark_tids[am.at]
                if starts_of[tid] is None:
                    starts_of[tid] = first_starts
            else:
                for k in range(am.n):
                    self.mark_tids.push_back(0)
            self.marks.push_back(am)
        bits = 4
        while (<size_t>1 << bits) < 2 * pending.size():
            bits += 1
        slots = <size_t>1 << bits
        self.rel_shift = 64 - bits
        self.rel_mask = slots - 1
        empty.key, empty.sim, empty.kind, empty.start = NO_PAIR, 0.0, K_DIFF, 0
        self.rels.assign(slots, empty)
        for q in range(pending.size()):
            h = _hash(pending[q].key) >> self.rel_shift
            while self.rels[h].key != NO_PAIR:
                h = (h + 1) & self.rel_mask
            self.rels[h] = pending[q]
        for tid in range(len(starts_of)):
            if starts_of[tid] is None:
                continue
            for b in starts_of[tid]:
                found = self._find(tid, ord(b))
                if found == NULL:
                    raise ValueError(f"first_starts holds {b!r}, which its table lacks")
                found.start = 1

    cdef inline _Rel* _find(self, uint32_t tid, uint32_t b) noexcept:
        cdef uint64_t key = (<uint64_t>tid << 32) | b
        cdef uint64_t h = _hash(key) >> self.rel_shift
        cdef uint64_t k
        while True:
            k = self.rels[h].key
            if k == key:
                return &self.rels[h]
            if k == NO_PAIR:
                return NULL
            h = (h + 1) & self.rel_mask

    cdef inline unsigned char _class(self, uint32_t c) noexcept:
        return self.classes[c] if c < self.classes.size() else 0

    cdef int _rel(self, uint32_t tid, uint32_t a, uint32_t b, double* sim) except -1:
        """relation(a, b)'s kind (sim set) as align() looks it up: the table, else
        _relation() for a rare character, else DIFF."""
        cdef _Rel* r = self._find(tid, b)
        if r != NULL:
            sim[0] = r.sim
            return r.kind
        if self._class(b) & C_RARE:
            got = self.relation(chr(a), chr(b))
            sim[0] = got[0]
            return self.kind_code[got[1]]
        sim[0] = 0.0
        return K_DIFF

    cdef tuple _same(self, uint32_t n):
        got = self.same_kinds.get(n)
        if got is None:
            got = self.same_kinds[n] = (self.kinds[K_SAME],) * n
        return got

    def align_each(self, list which, str text, Py_ssize_t limit=4) -> list:
        """[align(marks[i], text, limit) if could_align(marks[i], text) else [] for i in which]."""
        cdef vector[uint32_t] t
        cdef Py_UCS4 ch
        cdef bint rare = False
        cdef size_t m
        cdef int i
        cdef vector[_AHit] hits
        cdef vector[unsigned char] kbuf
        cdef vector[uint32_t] scratch
        cdef vector[_Rel*] r0
        for ch in text:
            t.push_back(ch)
            if self._class(ch) & C_RARE_HAN:
                rare = True
        out = []
        for i in which:
            if i < 0:  # as marks[i] would
                i += <int>self.marks.size()
            if i < 0 or <size_t>i >= self.marks.size():
                raise IndexError("mark index out of range")
            out.append(self._align(self.marks[i], i, text, t, rare, limit, hits, kbuf, scratch, r0))
        return out

    cdef bint _in_mark(self, _AMark& m, uint32_t c) noexcept:
        cdef uint32_t k
        for k in range(m.n):
            if self.mark_cps[m.at + k] == c:
                return True
        return False

    cdef bint _sorted_eq(self, _AMark& m, vector[uint32_t]& t, size_t i, vector[uint32_t]& scratch) noexcept:
        """sorted(text[i:i + n]) == sorted(mark)"""
        cdef uint32_t k
        scratch.assign(t.begin() + i, t.begin() + i + m.n)
        stdsort(scratch.begin(), scratch.end())
        for k in range(m.n):
            if scratch[k] != self.sorted_cps[m.at + k]:
                return False
        return True

    cdef bint _could_align(self, _AMark& m, vector[uint32_t]& t, bint rare, vector[_Rel*]& r0) noexcept:
        """could_align() for a mark of two or more characters and a text at least as long;
        r0[i] is the mark's first character's relation to t[i] (NULL: none listed)."""
        cdef size_t i, k
        cdef uint32_t c
        cdef _Rel* r
        cdef bint found
        if rare:
            return True
        for i in range(t.size()):
            r = r0[i]
            if r != NULL and (r.start or self._in_mark(m, t[i])):
                return True
        for k in range(m.n):
            c = self.mark_cps[m.at + k]
            found = False
            for i in range(t.size()):
                if t[i] == c:
                    found = True
                    break
            if not found:
                return False
        return True

    cdef list _align(self, _AMark& m, int idx, str text, vector[uint32_t]& t, bint rare, Py_ssize_t limit,
                     vector[_AHit]& hits, vector[unsigned char]& kbuf, vector[uint32_t]& scratch,
                     vector[_Rel*]& r0):
        cdef size_t size = t.size(), n = m.n, i, k, last
        cdef uint32_t c, b, e
        cdef uint32_t* mc
        cdef uint32_t* tids
        cdef _Rel* r
        cdef int k0, k1, kk, diff
        cdef double s0, s1, s, sim
        cdef bint others_same, is_mark, any_same
        cdef _AHit hit
        cdef size_t q
        hits.clear()
        kbuf.clear()
        if n == 0 or size < n:
            return []
        mark = self.strs[idx]
        if n == 1:
            c = self.mark_cps[m.at]
            for i in range(size):
                if t[i] == c:
                    hits.push_back(_AHit(-1.0, i, 0, 0, -1, E_EXACT, 1))
            return [
                self.make(hits[q].i, hits[q].i + 1, 1.0, self._same(1), _EDITS[E_EXACT], mark, -1)
                for q in range(_keep(limit, hits.size()))
            ]
        mc = &self.mark_cps[m.at]
        tids = &self.mark_tids[m.at]
        r0.resize(size)
        for i in range(size):
            r0[i] = self._find(tids[0], t[i])
        if not self._could_align(m, t, rare, r0):
            return []
        last = size - n
        for i in range(last + 1):
            is_mark = True
            for k in range(n):
                if t[i + k] != mc[k]:
                    is_mark = False
                    break
            if is_mark:
                hits.push_back(_AHit(-1.0, i, 0, 0, -1, E_EXACT, n))
        for i in range(last + 1):
            c = t[i]
            r = r0[i]
            if not ((r != NULL and r.start) or self._in_mark(m, c) or (rare and self._class(c) & C_RARE_HAN)):
                continue
            if r != NULL:
                k0 = r.kind
                s0 = r.sim
            else:
                k0 = self._rel(tids[0], mc[0], c, &s0)
            if n == 2:
                b = t[i + 1]
                if k0 == K_DIFF:
                    k1 = K_DIFF
                    s1 = 0.0
                else:
                    k1 = self._rel(tids[1], mc[1], b, &s1)
                if k1 != K_DIFF:
                    if c != mc[0] or b != mc[1]:
                        sim = (1.5 * s0 + s1) / m.wsum
                        if k0 != K_SAME and k1 != K_SAME:
                            sim *= 0.8
                        hits.push_back(_AHit(-sim, i, 1, 0, kbuf.size(), E_VARIANT, 2))
                        kbuf.push_back(k0)
                        kbuf.push_back(k1)
                elif c == mc[1] and b == mc[0] and c != b:
                    hits.push_back(_AHit(-m.reorder_sim, i, 1, 0, -1, E_REORDER, 2))
                if k0 == K_DIFF or i == last or not self._class(c) & C_HAN:
                    continue
                e = t[i + 2]
                if c == mc[0] and e == mc[1] and self._class(b) & C_HAN and self._class(e) & C_HAN:
                    hits.push_back(_AHit(-m.ins2_sim, i, 2, 1, -1, E_INSERTION, 3))
                continue
            is_mark = True
            for k in range(n):
                if t[i + k] != mc[k]:
                    is_mark = False
                    break
            if k0 == K_DIFF:
                if self._in_mark(m, c) and not is_mark and self._sorted_eq(m, t, i, scratch):
                    hits.push_back(_AHit(-m.reorder_sim, i, 1, 0, -1, E_REORDER, n))
                continue
            if not is_mark:
                # the scoring of align(): given up at the first position ruling the window out
                q = kbuf.size()
                kbuf.push_back(k0)
                sim = 1.5 * s0
                diff = 0
                others_same = k0 == K_SAME
                for k in range(1, n):
                    kk = self._rel(tids[k], mc[k], t[i + k], &s)
                    if kk == K_DIFF:
                        if diff:
                            break
                        diff = k
                    elif kk != K_SAME:
                        if diff:
                            break
                        others_same = False
                    kbuf.push_back(kk)
                    sim += s
                if kbuf.size() - q == n and (others_same or not diff):
                    sim /= m.wsum
                    any_same = False
                    for k in range(n):
                        if kbuf[q + k] == K_SAME:
                            any_same = True
                    if not any_same:
                        sim *= 0.8
                    hits.push_back(_AHit(-sim, i, 1, 0, q, E_SWAP if diff else E_VARIANT, n))
                else:
                    kbuf.resize(q)
                    if self._in_mark(m, c) and self._sorted_eq(m, t, i, scratch):
                        hits.push_back(_AHit(-m.reorder_sim, i, 1, 0, -1, E_REORDER, n))
            # one inserted character: the window is one longer and begins and ends with han
            if i == last or not self._class(c) & C_HAN:
                continue
            e = t[i + n]
            if not self._class(e) & C_HAN:
                continue
            if self._rel(tids[n - 1], mc[n - 1], e, &s) != K_DIFF:
                self._insertions(m, t, i, k0, s0, hits, kbuf)
        if hits.empty():
            return []
        stdsort(hits.begin(), hits.end(), _hit_less)
        found = []
        for q in range(_keep(limit, hits.size())):
            hit = hits[q]
            if hit.kinds < 0:
                kinds = self._same(n)
            else:
                kinds = tuple([self.kinds[kbuf[hit.kinds + k]] for k in range(n)])
            found.append(
                self.make(
                    hit.i, hit.i + hit.wlen, -hit.neg, kinds, _EDITS[hit.edit],
                    text[hit.i : hit.i + hit.wlen], hit.j if hit.phase == 2 else -1,
                )
            )
        return found

    cdef int _insertions(self, _AMark& m, vector[uint32_t]& t, size_t i, int k0, double s0,
                         vector[_AHit]& hits, vector[unsigned char]& kbuf) except -1:
        """align._insertions: windows t[i:i + n + 1], their character j inserted."""
        cdef size_t n = m.n, k, q = 0, left, j, at
        cdef uint32_t* mc = &self.mark_cps[m.at]
        cdef uint32_t* tids = &self.mark_tids[m.at]
        cdef vector[int] rk, lk
        cdef vector[double] rs, ls
        cdef int kk
        cdef double s, sim
        cdef bint any_same
        rk.assign(n, K_DIFF)
        rs.assign(n, 0.0)
        k = n - 1
        while k > 0:
            kk = self._rel(tids[k], mc[k], t[i + k + 1], &s)
            if kk == K_DIFF:
                q = k
                break
            rk[k] = kk
            rs[k] = s
            k -= 1
        if q == n - 1:
            return 0
        lk.push_back(k0)
        ls.push_back(s0)
        for k in range(1, n - 1):
            kk = self._rel(tids[k], mc[k], t[i + k], &s)
            if kk == K_DIFF:
                break
            lk.push_back(kk)
            ls.push_back(s)
        left = lk.size()
        for j in range(q + 1, left + 1):
            if not self._class(t[i + j]) & C_HAN:
                continue
            at = kbuf.size()
            sim = 1.5 * s0
            any_same = k0 == K_SAME
            kbuf.push_back(k0)
            for k in range(1, n):
                if k < j:
                    kk = lk[k]
                    s = ls[k]
                else:
                    kk = rk[k]
                    s = rs[k]
                kbuf.push_back(kk)
                sim += s
                if kk == K_SAME:
                    any_same = True
            sim /= m.wsum
            if not any_same:
                sim *= 0.8
            hits.push_back(_AHit(-(sim * m.factor), i, 2, j, at, E_INSERTION, n + 1))
        return 0


# segment.Segmenter._cut_block in C++: jieba's word frequencies in a flat table.
cdef uint64_t FNV_OFFSET = 0xCBF29CE484222325ULL


cdef inline uint64_t _fnv(uint64_t h, uint32_t c) noexcept nogil:
    """FNV-1a over code points: a word's hash grows a character at a time, as the cut extends a word."""
    return (h ^ c) * 0x100000001B3ULL


ctypedef struct _Word:
    uint64_t h  # _fnv of its code points (0 stored as 1); 0: an empty slot
    uint32_t start, length  # its code points are cps[start:start + length]
    long long freq


cdef class WordFreq:
    """A {word: frequency} dict (jieba's FREQ: words and, at 0, their prefixes) as one
    open-addressing table of code-point strings, looked up without making str objects."""

    cdef vector[uint32_t] cps
    cdef vector[_Word] slots
    cdef uint64_t mask
    cdef int shift

    def __init__(self, dict freq):
        cdef size_t bits = 4, slot
        cdef _Word w, empty
        cdef Py_UCS4 ch
        cdef str word
        while (<size_t>1 << bits) < 2 * len(freq) + 2:
            bits += 1
        self.shift = 64 - bits
        self.mask = (<uint64_t>1 << bits) - 1
        empty.h, empty.start, empty.length, empty.freq = 0, 0, 0, 0
        self.slots.assign(<size_t>1 << bits, empty)
        for word, f in freq.items():
            w.h = FNV_OFFSET
            w.start = self.cps.size()
            for ch in word:
                w.h = _fnv(w.h, ch)
                self.cps.push_back(ch)
            w.length = self.cps.size() - w.start
            w.h = w.h or 1
            w.freq = f
            slot = _hash(w.h) >> self.shift
            while self.slots[slot].h != 0:
                slot = (slot + 1) & self.mask
            self.slots[slot] = w

    cdef bint find(self, const uint32_t* s, uint32_t n, uint64_t h, long long* freq) noexcept:
        """Whether s[:n] (its _fnv hash h) is a key; its frequency in freq."""
        cdef size_t slot
        cdef _Word* w
        h = h or 1
        slot = _hash(h) >> self.shift
        while self.slots[slot].h != 0:
            w = &self.slots[slot]
            if w.h == h and w.length == n and memcmp(&self.cps[w.start], s, n * sizeof(uint32_t)) == 0:
                freq[0] = w.freq
                return True
            slot = (slot + 1) & self.mask
        return False


cdef class DagCut:
    """segment.Segmenter._cut_block (jieba's cut of one block, HMM off) with the
    frequencies of `extra` (the words the marks added or changed) over those of `base`
    (jieba's dictionary, shared by every Segmenter): the same word graph, route, ties and
    floating-point sums (libm's log, as math.log), so the same words
    (tests/test_matcher_segment.py)."""

    cdef WordFreq base, extra
    cdef double logtotal

    def __init__(self, WordFreq base, WordFreq extra, double logtotal):
        self.base = base
        self.extra = extra
        self.logtotal = logtotal

    cdef inline bint _get(self, const uint32_t* s, uint32_t n, uint64_t h, long long* freq) noexcept:
        return self.extra.find(s, n, h, freq) or self.base.find(s, n, h, freq)

    def cut_block(self, str s, list out) -> None:
        """Append the words of s to out."""
        cdef vector[uint32_t] t
        cdef vector[double] score
        cdef vector[Py_ssize_t] end
        cdef Py_UCS4 ch
        cdef Py_ssize_t n, idx, i, best_x, x, y, run
        cdef double best, sc
        cdef long long f
        cdef uint64_t h
        cdef uint32_t c
        for ch in s:
            t.push_back(ch)
        n = t.size()
        score.assign(n + 1, 0.0)
        end.assign(n + 1, 0)
        idx = n - 1
        while idx >= 0:
            best = 0.0
            best_x = -1
            i = idx
            h = _fnv(FNV_OFFSET, t[idx])
            while i < n and self._get(&t[idx], i - idx + 1, h, &f):
                if f:
                    sc = log(<double>f) - self.logtotal + score[i + 1]
                    if best_x < 0 or sc >= best:
                        best, best_x = sc, i
                i += 1
                if i < n:
                    h = _fnv(h, t[i])
            if best_x < 0:  # no word starts here: the character alone
                if not self._get(&t[idx], 1, _fnv(FNV_OFFSET, t[idx]), &f) or not f:
                    f = 1
                best, best_x = log(<double>f) - self.logtotal + score[idx + 1], idx
            score[idx] = best
            end[idx] = best_x
            idx -= 1
        x = 0
        run = -1  # where a run of single ASCII letters and digits began
        while x < n:
            y = end[x] + 1
            c = t[x]
            if y - x == 1 and (0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39):
                if run < 0:
                    run = x
            else:
                if run >= 0:
                    out.append(s[run:x])
                    run = -1
                out.append(s[x:y])
            x = y
        if run >= 0:
            out.append(s[run:n])
