"""Walking a schedule of sample sizes with a linear recursion: shared by the replace chain's exact values
(:mod:`theory.numeric._exact`) and every other workflow's (:mod:`theory.numeric._workflow_exact`)."""

from __future__ import annotations


def walk(runs, targets, matrix, multiply, apply, initial):
    """States at each target generation: cross each run of equal ``M`` with binary powers of its ``T``.

    ``matrix(m)`` builds ``T(M)``; ``multiply(P, Q)`` is ``P Q``; ``apply(P, s)`` is ``P s``.
    """
    out = {}
    targets = sorted(set(targets))
    k, pos, s = 0, 0, initial
    while k < len(targets) and targets[k] == 0:
        out[0] = s
        k += 1
    for m, count in runs:
        if k >= len(targets):
            break
        end = pos + count
        powers: list = []

        def advance(s, gap):
            bit = 0
            while (1 << bit) <= gap:
                if bit >= len(powers):
                    powers.append(matrix(m) if not powers else multiply(powers[-1], powers[-1]))
                if gap >> bit & 1:
                    s = apply(powers[bit], s)
                bit += 1
            return s

        while k < len(targets) and targets[k] <= end:
            s, pos = advance(s, targets[k] - pos), targets[k]
            out[pos] = s
            k += 1
        if k < len(targets) and pos < end:
            s, pos = advance(s, end - pos), end
    return out
