"""Command line: `python -m forms_ocr segment FILE [--template T.json] --json`,
`python -m forms_ocr template REFERENCE --out T.json` and `python -m forms_ocr synth ...`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from forms_ocr.errors import FormsOcrError


def _template_read(path: str) -> tuple:
    """The reference page and fields of a template file (reference relative to the file)."""
    from forms_ocr.errors import TemplateError
    from forms_ocr.reading import pages_read
    from forms_ocr.template import TemplateFieldSpec

    try:
        data = json.loads(Path(path).read_text())
        reference_path = Path(path).parent / data["reference"]
        items = data["fields"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from None
    if not isinstance(items, list):
        raise TemplateError(f"template {path}: fields must be a list")
    fields = [TemplateFieldSpec.from_json(item) for item in items]
    reference = pages_read(reference_path, max_pages=1)[0].image
    return reference, fields


def _overlay_write(folder: Path, image, result) -> None:
    import cv2

    overlay = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    for field in result.fields:
        x, y, w, h = field.bbox
        colour = (0, 160, 0) if field.kind == "digits" else (200, 80, 0)
        cv2.rectangle(overlay, (x, y), (x + w, y + h), colour, 3)
        if field.name:
            cv2.putText(
                overlay, field.name, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX,
                max(0.4, h / 80), colour, 1, cv2.LINE_AA,
            )  # fmt: skip
        for box in field.boxes:
            bx, by, bw, bh = box.bbox
            cv2.rectangle(
                overlay, (bx, by), (bx + bw, by + bh), (0, 0, 255) if box.empty else colour, 1
            )
    cv2.imwrite(str(folder / f"page-{result.index:03d}-fields.png"), overlay)


def _segment(args: argparse.Namespace) -> int:
    from forms_ocr.reading import pages_read
    from forms_ocr.segment import segment_page

    pages = pages_read(args.file, pdf_dpi=args.dpi)
    if args.template:
        from forms_ocr.template import reference_features, segment_page_with_template

        reference, fields = _template_read(args.template)
        features = reference_features(reference)
        results = [
            segment_page_with_template(page.image, features, fields, index=page.index)
            for page in pages
        ]
    else:
        results = [segment_page(page.image, index=page.index) for page in pages]
    if args.debug:
        folder = Path(args.debug)
        folder.mkdir(parents=True, exist_ok=True)
        for page, result in zip(pages, results, strict=True):
            _overlay_write(folder, page.image, result)
    document = {"pages": [result.to_json() for result in results]}
    if args.json:
        print(json.dumps(document))
    else:
        for result in results:
            print(f"page {result.index}: skew {result.skew_deg} deg, {len(result.fields)} fields")
    return 0


def _template(args: argparse.Namespace) -> int:
    from forms_ocr.reading import pages_read
    from forms_ocr.template import template_fields_detect

    reference = pages_read(args.reference, max_pages=1, pdf_dpi=args.dpi)[0].image
    fields = template_fields_detect(reference)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(Path(args.reference).resolve(), out.parent.resolve())
    document = {"reference": relative, "fields": [field.to_json() for field in fields]}
    out.write_text(json.dumps(document, indent=1))
    digits = sum(field.kind == "digits" for field in fields)
    print(f"{out}: {len(fields)} fields ({digits} digits, {len(fields) - digits} string)")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from forms_ocr.synth import digits_load, synth_write
    from forms_ocr.synth.degrade import degradations_parse

    folder = args.digits or os.environ.get("HDR_DATA_DIR")
    if not folder:
        print("error: give --digits IDX_DIR or set HDR_DATA_DIR", file=sys.stderr)
        return 2
    written = synth_write(
        args.kind,
        n=args.n,
        seed=args.seed,
        digits=digits_load(folder),
        out=args.out,
        dpi=args.dpi,
        degradations=degradations_parse(args.degradations),
        hand_seed=args.hand_seed,
        blank=args.blank,
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
    segment.add_argument(
        "--template", metavar="T.json", help="cut the fields of this template (template mode)"
    )
    segment.set_defaults(func=_segment)
    template = commands.add_parser(
        "template", help="write a template file from the fields found on a blank reference"
    )
    template.add_argument("reference", help="the blank reference page (PNG, JPEG, TIFF, PDF)")
    template.add_argument("--out", required=True, metavar="T.json")
    template.add_argument("--dpi", type=int, default=300, help="PDF rendering resolution")
    template.set_defaults(func=_template)
    synth = commands.add_parser("synth", help="generate synthetic scans with ground truth")
    synth.add_argument("--kind", choices=["form", "cheque"], default="form")
    synth.add_argument("--n", type=int, default=10)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--digits", help="folder of MNIST IDX files (default: $HDR_DATA_DIR)")
    synth.add_argument("--out", required=True)
    synth.add_argument("--dpi", type=int, default=300)
    synth.add_argument(
        "--degradations", default="all", help="all, none, or a comma-separated list of names"
    )
    synth.add_argument(
        "--hand-seed",
        type=int,
        help="every page gets the layout of --seed and its own handwriting from this seed",
    )
    synth.add_argument(
        "--blank",
        action="store_true",
        help="leave the handwriting out and change nothing else (a template's reference)",
    )
    synth.set_defaults(func=_synth)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (FormsOcrError, FileNotFoundError, ValueError) as exc:
        print(f"error: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
