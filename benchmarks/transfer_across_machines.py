"""Does the start-up transfer's median carry over to another profile? Measured, not assumed.

    python benchmarks/transfer_across_machines.py ../shared/corpus \
        --from benchmarks/results/accuracy-20261207-22-programs.json \
        --to benchmarks/results/accuracy-20261208T033046Z.json \
        --profile benchmarks/results/accuracy-20261208T023015Z.profile.json

Measures the start-up transfer and execution spread on the ``--from`` run against the
shipped reference profile (as ``accuracy.py --write-transfer`` does), leaving each program
out in turn, and judges the ``--to`` run, predicted from ``--profile`` (another
calibration, another machine), with it twice: as the advisor applies a transfer measured
against another profile (its spread only: ``StartupTransfer.for_mode``), and with its
medians applied as well. Prints the accuracy benchmark's figures for both.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import accuracy

from wasm_advisor import Advisor
from wasm_advisor.model._startup_transfer import StartupTransfer


def _measurements(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    found: dict[str, Any] = document.get("measurements", document)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--from", dest="source", type=Path, required=True,
                        help="the run the transfer is measured on (against the reference)")
    parser.add_argument("--to", dest="target", type=Path, required=True,
                        help="the run judged")
    parser.add_argument("--profile", type=Path, required=True,
                        help="the profile the judged run is predicted from")
    args = parser.parse_args()
    listing = json.loads((args.corpus / "corpus.json").read_text())
    options = argparse.Namespace(corpus=args.corpus, no_pace=False)
    reference, here = Advisor(), Advisor(str(args.profile))
    print(f"transfer measured on {args.source.name} against {reference.profile.provenance}")
    print(f"judged: {args.target.name}, predicted from {here.profile.provenance}")
    with contextlib.redirect_stdout(io.StringIO()):
        ratios = accuracy.startup_ratios(reference, listing, _measurements(args.source),
                                         options)
    target = _measurements(args.target)
    for medians in (False, True):
        def transfer_for(name: str, medians: bool = medians) -> StartupTransfer:
            transfer = accuracy.transfer_without(ratios, name, reference.profile.id)
            return replace(transfer, profile_id=here.profile.id) if medians else transfer

        tally = accuracy.held_out_tally(here, listing, target, options, transfer_for)
        print("\n" + ("with the medians applied to the judged profile:" if medians else
                      "as the advisor applies it to another profile (its spread only):"))
        accuracy.print_shares(tally)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
