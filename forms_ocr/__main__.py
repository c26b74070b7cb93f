"""Command line: `python -m forms_ocr segment FILE --json` and `python -m forms_ocr synth ...`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from forms_ocr.errors import FormsOcrError


def _segment(args: argparse.Namespace) -> int:
    import cv2

    from forms_ocr.reading import pages_read
    from forms_ocr.segment import segment_page

    pages = pages_read(args.file, pdf_dpi=args.dpi)
    results = [segment_page(page.image, index=page.index) for page in pages]
    if args.debug:
        folder = Path(args.debug)
        folder.mkdir(parents=True, exist_ok=True)
        for page, result in zip(pages, results, strict=True):
            overlay = cv2.cvtColor(page.image, cv2.COLOR_GRAY2BGR)
            for field in result.fields:
                x, y, w, h = field.bbox
                colour = (0, 160, 0) if field.kind == "digits" else (200, 80, 0)
                cv2.rectangle(overlay, (x, y), (x + w, y + h), colour, 3)
                for box in field.boxes:
                    bx, by, bw, bh = box.bbox
                    cv2.rectangle(
                        overlay,
                        (bx, by),
                        (bx + bw, by + bh),
                        (0, 0, 255) if box.empty else colour,
                        1,
                    )
            cv2.imwrite(str(folder / f"page-{result.index:03d}-fields.png"), overlay)
    document = {"pages": [result.to_json() for result in results]}
    if args.json:
        print(json.dumps(document))
    else:
        for result in results:
            print(f"page {result.index}: skew {result.skew_deg} deg, {len(result.fields)} fields")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from forms_ocr.synth import digits_load, synth_write

    folder = args.digits or os.environ.get("HDR_DATA_DIR")
    if not folder:
        print("error: give --digits IDX_DIR or set HDR_DATA_DIR", file=sys.stderr)
        return 2
    written = synth_write(
        args.kind, n=args.n, seed=args.seed, digits=digits_load(folder), out=args.out
    )
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m forms_ocr", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    segment = commands.add_parser("segment", help="find the fields of a scanned file")
    segment.add_argument("file")
    segment.add_argument("--json", action="store_true", help="print the result as JSON")
    segment.add_argument("--debug", metavar="DIR", help="write overlay images of the fields")
    segment.add_argument("--dpi", type=int, default=300, help="PDF rendering resolution")
    segment.set_defaults(func=_segment)
    synth = commands.add_parser("synth", help="generate synthetic scans with ground truth")
    synth.add_argument("--kind", choices=["form", "cheque"], default="form")
    synth.add_argument("--n", type=int, default=10)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--digits", help="folder of MNIST IDX files (default: $HDR_DATA_DIR)")
    synth.add_argument("--out", required=True)
    synth.set_defaults(func=_synth)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (FormsOcrError, FileNotFoundError) as exc:
        print(f"error: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
