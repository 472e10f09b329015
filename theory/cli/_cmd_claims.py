"""``collapse-theory claims``: the ledger of published claims about model collapse, each checked now by the
toolkit's exact results (theory.validation)."""

from __future__ import annotations

import json
import sys
import time

NAME = "claims"
USES_JAX = False
HELP = ("the ledger of published claims (Shumailov et al., Suresh et al., Bertrand et al., Gerstgrasser et al., "
        "Dey-Donoho, He-Xu-Cheng, Kazdan et al., Wright-Fisher): each checked now, with its verdict and the numbers "
        "that decide it")
DESCRIPTION = (
    "Runs the check of every published claim in the ledger (theory.validation) and prints one row per claim: id, "
    "source, verdict and the key numbers, with the seconds each check took. Verdicts are computed when the check "
    "runs, from the toolkit's exact results: holds, holds_to_leading_order (with the region in n/M or M where the "
    "claim is within 1%), holds_for_learner (which learner), bound_holds (with its tightness) or wrong (with the "
    "exact value beside the claimed one and the correct statement). --json prints a list of objects with the keys "
    "id, source, statement, verdict, numbers (every deciding number); --markdown prints docs/claims.md. All checks "
    "together take about 15 s of CPU time (about 40 s when the symbolic cache is cold); nothing is simulated."
)


def add_arguments(parser) -> None:
    parser.add_argument("--only", nargs="+", metavar="ID", default=None,
                        help="check only these claims (ids as printed in the first column)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {id, source, statement, verdict, numbers}")
    parser.add_argument("--markdown", action="store_true",
                        help="print the generated page docs/claims.md (collapse-theory claims --markdown > "
                        "docs/claims.md)")
    parser.add_argument("--list", action="store_true", help="print the claim ids and exit (nothing is checked)")


def run(args) -> int:
    from .._errors import ParameterError
    from ..validation import check_claim, claim_ids, get_claim, render_markdown

    if args.json and args.markdown:
        raise ParameterError("markdown", "given without --json (one output format at a time)", True)
    known = claim_ids()
    if args.list:
        print("\n".join(known))
        return 0
    wanted = list(dict.fromkeys(args.only)) if args.only else list(known)
    for claim_id in wanted:
        if claim_id not in known:
            raise ParameterError("only", f"claim ids among {', '.join(known)}", claim_id)
    table = not (args.json or args.markdown)
    results = []
    start = time.perf_counter()
    if table:
        print(f"{'id':26s} {'verdict':24s} {'seconds':>7s}  source")
    for claim_id in wanted:
        result = check_claim(claim_id)
        results.append(result)
        if table:
            claim = get_claim(claim_id)
            print(f"{claim_id:26s} {result.verdict.word:24s} {result.seconds:7.1f}  "
                  f"{claim.source.authors} {claim.source.year}, {claim.source.reference}")
            print(f"    {result.verdict.summary}", flush=True)
    if args.json:
        json.dump([r.to_json() for r in results], sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    elif args.markdown:
        sys.stdout.write(render_markdown(results))
    else:
        print(f"# {len(results)} claims checked in {time.perf_counter() - start:.1f} s")
    return 0
