"""Online simulation of storyindex (idf grows, candidates via key-term postings).

decide(ctx) gets a Ctx and returns a story id (existing) or None (new story).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from lib import st


@dataclass
class Art:
    aid: int
    story: int
    day: int | None
    vec: dict  # stored terms (normalised, top 400, idf at add time)
    tf: dict
    keys: list


@dataclass
class Ctx:
    aid: int
    tf: dict
    day: int | None
    vec: dict               # weighed with current stats
    cands: list             # list[Art] (<= MAX_CANDIDATES, same_time-compatible)
    sim: object             # the Sim (for members(), stats)


class Sim:
    def __init__(self, decide, max_members=30, after=None):
        self.decide = decide
        self.after = after
        self.splits = []
        self.stats = st.TermStats()
        self.postings: dict[str, list[int]] = {}
        self.arts: dict[int, Art] = {}
        self.story_members: dict[int, list[int]] = defaultdict(list)
        self.n_stories = 0
        self.max_members = max_members
        self.log = []

    def members(self, story, day=None):
        """The newest max_members articles of a story (bounded), time-compatible."""
        ids = self.story_members[story][-self.max_members:]
        return [self.arts[a] for a in ids if st.same_time(day, self.arts[a].day)]

    def add(self, aid, tf, day):
        self.stats.add(tf)
        keys, stored = st.key_and_stored_terms(tf, self.stats)
        hits = Counter(a for k in keys for a in self.postings.get(k, ())[-st.POSTING_LIMIT:])
        cands = [self.arts[a] for a in sorted(hits, key=lambda a: (-hits[a], -a))
                 if st.same_time(day, self.arts[a].day)][:st.MAX_CANDIDATES]
        vec = st.weigh(tf, self.stats)
        ctx = Ctx(aid, tf, day, vec, cands, self)
        self.last_ctx = ctx
        story = self.decide(ctx)
        if story is None:
            story = self.n_stories
            self.n_stories += 1
        self.arts[aid] = Art(aid, story, day, stored, tf, keys)
        self.story_members[story].append(aid)
        for k in keys:
            self.postings.setdefault(k, []).append(aid)
        if self.after is not None:
            self.after(self, story, aid)
        return story

    def move(self, ids, from_story):
        """Move articles ids of from_story into a new story."""
        new = self.n_stories
        self.n_stories += 1
        ids = set(ids)
        self.story_members[from_story] = [a for a in self.story_members[from_story] if a not in ids]
        for a in sorted(ids):
            self.arts[a].story = new
            self.story_members[new].append(a)
        self.splits.append((from_story, new, sorted(ids)))
        return new

    def final(self, n):
        return [self.arts[a].story for a in range(1, n + 1)]


def run(recs, tfs, decide, prefill=False, **kw):
    sim = Sim(decide, **kw)
    if prefill:  # rebuild: idf of the whole corpus from the start
        for t in tfs:
            sim.stats.add(t)
        sim.stats.add = lambda *a, **k: None
    from lib import day
    for n, r in enumerate(recs):
        sim.add(n + 1, tfs[n], day(r))
    return sim.final(len(recs)), sim


def baseline(threshold=st.THRESHOLD):
    def decide(ctx):
        best, bs = None, 0.0
        for c in sorted(ctx.cands, key=lambda c: c.aid):
            s = st.cosine(ctx.vec, c.vec)
            if s > bs:
                best, bs = c.story, s
        return best if bs >= threshold else None
    return decide


def relabel(sim, groups):
    """groups: list of lists of article ids (a partition of some stories' members).
    Each group keeps the story id most of its members had (largest groups first),
    else gets a new id. Returns number of articles that changed story."""
    taken = set()
    changed = 0
    for g in sorted(groups, key=len, reverse=True):
        votes = Counter(sim.arts[a].story for a in g)
        sid = None
        for s, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
            if s not in taken:
                sid = s
                break
        if sid is None:
            sid = sim.n_stories
            sim.n_stories += 1
        taken.add(sid)
        for a in g:
            old = sim.arts[a].story
            if old != sid:
                changed += 1
                sim.story_members[old].remove(a)
                sim.story_members[sid].append(a)
                sim.arts[a].story = sid
    for s in list(sim.story_members):
        if not sim.story_members[s]:
            del sim.story_members[s]
        else:
            sim.story_members[s].sort()
    return changed
