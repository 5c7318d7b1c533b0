"""Small pure-Python reference implementations of Model 1 and the HMM, written straight from the
formulas (dictionaries, explicit enumeration of every state sequence), to check the kernels."""
from __future__ import annotations

import itertools
import math
from collections import defaultdict

FLOOR = 1e-7
MAX_JUMP = 100


def t_prob(t, e, f):
    return max(t.get((e, f), 0.0), FLOOR)


def model1_iteration(pairs, t):
    """One EM iteration of Model 1; ``pairs`` are (src ids, tgt ids), ``t`` maps (e, f) -> p.
    Returns (new t, total log-likelihood)."""
    counts = defaultdict(float)
    loglik = 0.0
    for src, tgt in pairs:
        es = [0] + list(src)
        for f in tgt:
            ps = [t_prob(t, e, f) for e in es]
            total = sum(ps)
            for e, p in zip(es, ps):
                counts[(e, f)] += p / total
            loglik += math.log(total / len(es))
    return normalise(counts), loglik


def normalise(counts):
    totals = defaultdict(float)
    for (e, _), c in counts.items():
        totals[e] += c
    return {(e, f): c / totals[e] for (e, f), c in counts.items()}


def hmm_parameters(src, src_class, jump, start, smooth):
    """Jump matrix R[p][i] and start distribution S[i] (0-based positions) of one sentence."""
    l = len(src)

    def bucket(d):
        return max(-MAX_JUMP, min(MAX_JUMP, d)) + MAX_JUMP

    R = []
    for p in range(l):
        row = [jump[src_class[src[p]]][bucket(i - p)] for i in range(l)]
        z = sum(row)
        R.append([(1 - smooth) * v / z + smooth / l for v in row])
    s = [start[min(i, MAX_JUMP)] for i in range(l)]
    z = sum(s)
    S = [(1 - smooth) * v / z + smooth / l for v in s]
    return R, S


def hmm_paths(src, tgt, t, src_class, jump, start, p_null, smooth):
    """Every state sequence of the HMM with its probability. States: ("real", i), ("twin", p)
    (NULL remembering position p) and ("start",) (NULL before any real position)."""
    l = len(src)
    R, S = hmm_parameters(src, src_class, jump, start, smooth)
    states = [("real", i) for i in range(l)] + [("twin", p) for p in range(l)] + [("start",)]

    def emit(state, f):
        return t_prob(t, src[state[1]] if state[0] == "real" else 0, f)

    def first(state):
        if state[0] == "real":
            return (1 - p_null) * S[state[1]]
        return p_null if state[0] == "start" else 0.0

    def trans(prev, state):
        if prev[0] == "start":
            if state[0] == "real":
                return (1 - p_null) * S[state[1]]
            return p_null if state[0] == "start" else 0.0
        memory = prev[1]
        if state[0] == "real":
            return (1 - p_null) * R[memory][state[1]]
        return p_null if state == ("twin", memory) else 0.0

    for seq in itertools.product(states, repeat=len(tgt)):
        p = first(seq[0]) * emit(seq[0], tgt[0])
        for j in range(1, len(tgt)):
            p *= trans(seq[j - 1], seq[j]) * emit(seq[j], tgt[j])
        if p > 0:
            yield seq, p


def alignment_of(seq):
    """a_j: 0 for NULL states, else the 1-based source position."""
    return [s[1] + 1 if s[0] == "real" else 0 for s in seq]


def hmm_iteration(pairs, t, src_class, jump, start, p_null, smooth):
    """One EM iteration of the HMM by enumeration: (new t, jump counts, start counts, loglik)."""
    tcounts = defaultdict(float)
    jcounts = [[0.0] * (2 * MAX_JUMP + 1) for _ in range(len(jump))]
    scounts = [0.0] * (MAX_JUMP + 1)
    loglik = 0.0
    for src, tgt in pairs:
        paths = list(hmm_paths(src, tgt, t, src_class, jump, start, p_null, smooth))
        z = sum(p for _, p in paths)
        loglik += math.log(z)
        for seq, p in paths:
            w = p / z
            for j, state in enumerate(seq):
                e = src[state[1]] if state[0] == "real" else 0
                tcounts[(e, tgt[j])] += w
                if state[0] != "real":
                    continue
                prev = seq[j - 1] if j > 0 else ("start",)
                if prev[0] == "start":
                    scounts[min(state[1], MAX_JUMP)] += w
                else:
                    memory = prev[1]
                    d = max(-MAX_JUMP, min(MAX_JUMP, state[1] - memory)) + MAX_JUMP
                    jcounts[src_class[src[memory]]][d] += w
    return normalise(tcounts), jcounts, scounts, loglik


def hmm_viterbi(src, tgt, t, src_class, jump, start, p_null, smooth):
    """The most probable state sequence's alignment and its log-probability, by enumeration."""
    best_seq, best_p = max(hmm_paths(src, tgt, t, src_class, jump, start, p_null, smooth), key=lambda x: x[1])
    return alignment_of(best_seq), math.log(best_p)


def model1_posteriors(src, tgt, t):
    """Model 1 link posteriors g[j][i] (i = 0: NULL) of one pair."""
    es = [0] + list(src)
    out = []
    for f in tgt:
        ps = [t_prob(t, e, f) for e in es]
        out.append([p / sum(ps) for p in ps])
    return out


def hmm_posteriors(src, tgt, t, src_class, jump, start, p_null, smooth):
    """HMM link posteriors g[j][i] (i = 0: any NULL state) of one pair, by enumeration."""
    paths = list(hmm_paths(src, tgt, t, src_class, jump, start, p_null, smooth))
    z = sum(p for _, p in paths)
    g = [[0.0] * (len(src) + 1) for _ in tgt]
    for seq, p in paths:
        for j, a in enumerate(alignment_of(seq)):
            g[j][a] += p / z
    return g


def agreement_counts(pairs, fwd_posteriors, rev_posteriors, power):
    """Translation counts of both directions from (fwd posterior x rev posterior)^power of each real
    link, rescaled to each direction's own real-link mass per word; NULL counts are each direction's own."""
    fwd, rev = defaultdict(float), defaultdict(float)
    for (src, tgt), gf, gr in zip(pairs, fwd_posteriors, rev_posteriors):
        l, m = len(src), len(tgt)
        q = [[(gf[j][i + 1] * gr[i][j + 1]) ** power for i in range(l)] for j in range(m)]
        for j in range(m):
            fwd[(0, tgt[j])] += gf[j][0]
            own, joint = sum(gf[j][1:]), sum(q[j])
            for i in range(l):
                fwd[(src[i], tgt[j])] += q[j][i] * own / joint
        for i in range(l):
            rev[(0, src[i])] += gr[i][0]
            own, joint = sum(gr[i][1:]), sum(q[j][i] for j in range(m))
            for j in range(m):
                rev[(tgt[j], src[i])] += q[j][i] * own / joint
    return fwd, rev


def model1_loglik(src, tgt, t):
    """log P(f | e) of one pair under Model 1: sum_j log( sum_{i=0..l} t(f_j|e_i) / (l + 1) )."""
    es = [0] + list(src)
    return sum(math.log(sum(t_prob(t, e, f) for e in es) / len(es)) for f in tgt)


def hmm_loglik(src, tgt, t, src_class, jump, start, p_null, smooth):
    """log P(f | e) of one pair under the HMM: the log of the sum over every state sequence."""
    return math.log(sum(p for _, p in hmm_paths(src, tgt, t, src_class, jump, start, p_null, smooth)))


def t_dict(ttable):
    """A t-table (CSR) as the {(e, f): p} dictionary the references take."""
    out = {}
    for e in range(ttable.n_src):
        ids, probs = ttable.row(e)
        for f, p in zip(ids.tolist(), probs.tolist()):
            out[(e, f)] = p
    return out
