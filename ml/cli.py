"""Command line: ``python -m ml {data fetch, train digits, evaluate, export, baselines}``.

Each command parses its flags, calls one library function and prints where the output went.
Heavy modules (torch, scikit-learn) are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from ml.errors import MLError


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the MNIST IDX files (default: $HDR_DATA_DIR)",
    )


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from ml.data.fetch import mnist_fetch

    paths = mnist_fetch(args.dest, mirrors=args.mirror or None, force=args.force)
    for path in paths:
        print(path)
    return 0


def _cmd_data_fonts(args: argparse.Namespace) -> int:
    """Say which fonts of the negatives are missing; with ``--install``, install them by apt."""
    import os
    import shutil
    import subprocess

    from ml.negatives.fonts import FONT_PACKAGES, fonts_missing

    missing = fonts_missing()
    if not missing:
        print("every font the negatives draw with is installed")
        return 0
    install = ["apt-get", "install", "-y", "--no-install-recommends", *FONT_PACKAGES.split()]
    if not args.install:
        print(f"missing fonts: {', '.join(missing)}")
        print(f"install them with: {' '.join(install)} (or python -m ml data fonts --install)")
        return 1
    if shutil.which("apt-get") is None:
        raise MLError(f"apt-get is not available; install the fonts of: {FONT_PACKAGES}")
    # sudo resets the environment, so the frontend goes through env on its command line.
    prefix = ["env", "DEBIAN_FRONTEND=noninteractive"]
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise MLError(f"installing fonts needs root: run {' '.join(install)} as root")
        prefix = ["sudo", *prefix]
    for command in (["apt-get", "update", "-qq"], install):
        done = subprocess.run([*prefix, *command], check=False)
        if done.returncode != 0:
            raise MLError(f"{' '.join(command)} failed with exit code {done.returncode}")
    still = fonts_missing(rescan=True)
    if still:
        raise MLError(f"fonts still missing after the install: {', '.join(still)}")
    print("installed every font the negatives draw with")
    return 0


def _fonts_require(args: argparse.Namespace) -> None:
    """Refuse a run that would draw negatives without all their fonts, unless allowed.

    Without them the negatives lose their letters, handwriting and other-script numerals, and
    a model would be trained or measured on less than its card says (a warning scrolls away).
    """
    from ml.negatives.fonts import FONT_PACKAGES, fonts_missing

    missing = fonts_missing()
    if missing and not args.allow_missing_fonts:
        raise MLError(
            f"fonts the negatives draw with are not installed ({', '.join(missing)}); install "
            f"them (python -m ml data fonts --install, or apt-get install {FONT_PACKAGES}) or "
            "pass --allow-missing-fonts"
        )


def _add_allow_missing_fonts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-missing-fonts",
        action="store_true",
        help="draw negatives without the fonts that are not installed (their glyphs left out)",
    )


def _cmd_train_digits(args: argparse.Namespace) -> int:
    from ml.augment import AugmentConfig
    from ml.training import TrainConfig, train_digits

    if args.negatives > 0 and not args.dry_run:
        _fonts_require(args)

    augment = (
        AugmentConfig(blur_prob=args.blur)
        if not args.no_augment
        else AugmentConfig(
            rotation_deg=0,
            scale_range=0,
            shear_deg=0,
            translate_px=0,
            elastic_prob=0,
            thickness_prob=0,
        )
    )
    config = TrainConfig(
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        architecture=args.arch,
        model_args=json.loads(args.model_args),
        epochs=args.epochs,
        batch_size=args.batch_size,
        cuda_batch_size=args.cuda_batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        label_smoothing=args.label_smoothing,
        validation_size=args.validation_size,
        seed=args.seed,
        early_stopping_patience=args.patience,
        augment=augment,
        train_limit=args.train_limit,
        device=args.device,
        amp=not args.no_amp,
        num_threads=args.threads,
        dry_run=args.dry_run,
        negatives_fraction=args.negatives,
        negatives_mode=args.negatives_mode,
        oe_weight=args.oe_weight,
        validation_negatives=args.validation_negatives,
        renormalized_share=args.renormalized,
        negatives_lookalike_threshold=args.drop_lookalikes,
        init_checkpoint=args.init_checkpoint,
        ema_decay=args.ema,
        distill_from=tuple(args.distill_from or ()),
        distill_weight=args.distill_weight,
        distill_temperature=args.distill_temperature,
    )
    result = train_digits(config)
    print(
        json.dumps(
            {
                "best_checkpoint": str(result.best_checkpoint),
                "best_epoch": result.best_epoch,
                "best_validation_accuracy": result.best_validation_accuracy,
                "best_validation_loss": result.best_validation_loss,
                "epochs_run": result.epochs_run,
                "seconds": result.seconds,
            },
            indent=1,
        )
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ml.evaluation.report import evaluate_checkpoint
    from ml.negatives.lookalike import LookalikeFilter

    if args.negatives > 0:
        _fonts_require(args)
    summary = evaluate_checkpoint(
        args.checkpoint,
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        target_error=args.target_error,
        target_negatives=args.target_negatives,
        validation_size=args.validation_size,
        seed=args.seed,
        negatives=args.negatives,
        lookalikes=LookalikeFilter(threshold=args.drop_lookalikes)
        if args.drop_lookalikes
        else None,
        choose_on_rescanned=args.choose_on_rescanned,
        drop_label_errors=not args.keep_label_errors,
    )
    print(json.dumps(summary, indent=1))
    return 0


def _cmd_review_floor(args: argparse.Namespace) -> int:
    from ml.evaluation.review_floor import review_floor

    summary = review_floor(
        args.models,
        data_dir=args.data_dir,
        target_error=args.target_error,
        validation_size=args.validation_size,
        seed=args.seed,
    )
    print(json.dumps(summary, indent=1))
    return 0


def _cmd_baselines(args: argparse.Namespace) -> int:
    from ml.evaluation.baselines import baselines_run

    summary = baselines_run(
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        train_limit=args.train_limit,
        seed=args.seed,
        which=args.which,
    )
    print(json.dumps(summary, indent=1))
    return 0


def _cmd_quantize(args: argparse.Namespace) -> int:
    from ml.data.mnist import mnist_load, split_train_validation
    from ml.export.quantize import digits_quantize_int8

    _, validation = split_train_validation(
        mnist_load(args.data_dir, "train"), validation_size=5000, seed=0
    )
    test = mnist_load(args.data_dir, "test")
    card = digits_quantize_int8(
        args.model,
        args.output,
        calibration=validation.images,
        test_images=test.images,
        test_labels=test.labels,
    )
    print(json.dumps(card["quantization"], indent=1))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ml.export import model_export

    card = model_export(
        args.checkpoint,
        args.output,
        report_dir=args.report_dir,
        version=args.version,
        training_command=args.training_command,
    )
    print(json.dumps(card, indent=1))
    return 0


def _cmd_train_strings(args: argparse.Namespace) -> int:
    from ml.strings.train import StringTrainConfig, train_strings

    config = StringTrainConfig(
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        model_args=json.loads(args.model_args),
        steps=args.steps,
        time_budget_s=args.time_budget,
        batch_size=args.batch_size,
        lr=args.lr,
        cheque_fraction=args.cheque_fraction,
        eval_every=args.eval_every,
        seed=args.seed,
        num_threads=args.threads,
        loader_workers=args.loader_workers,
        early_stopping_patience=args.patience,
        init_checkpoint=args.init_checkpoint,
        warmup_steps=args.warmup_steps,
        stream_seed=args.stream_seed,
        dry_run=args.dry_run,
    )
    print(train_strings(config))
    return 0


def _cmd_strings_export(args: argparse.Namespace) -> int:
    from ml.strings.export import string_model_export

    card = string_model_export(
        args.checkpoint,
        args.output,
        data_dir=args.data_dir,
        version=args.version,
        training_command=args.training_command,
    )
    print(json.dumps(card["test_metrics"], indent=1))
    return 0


def _cmd_strings_reject_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ml.strings.reject_eval import string_reject_evaluate

    section = string_reject_evaluate(
        args.digit_model, args.string_model, data_dir=args.data_dir, count=args.count
    )
    if args.write_card:
        # The rule belongs to the digit model's reject class: it goes into that model's card.
        card_path = Path(args.digit_model).with_suffix(".json")
        card = json.loads(card_path.read_text())
        card["string_reject"] = section
        card_path.write_text(json.dumps(card, indent=1))
    print(json.dumps(section, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m ml``."""
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="data sets").add_subparsers(
        dest="action", required=True
    )
    fetch = data.add_parser("fetch", help="download the four MNIST files with sha256 checks")
    fetch.add_argument("--dest", required=True, help="folder to write the .gz files into")
    fetch.add_argument("--mirror", action="append", help="base URL to try (repeatable)")
    fetch.add_argument("--force", action="store_true", help="download even if present")
    fetch.set_defaults(func=_cmd_data_fetch)
    fonts = data.add_parser(
        "fonts", help="which fonts of the generated negatives are missing (exit 1 if any)"
    )
    fonts.add_argument(
        "--install", action="store_true", help="install them with apt-get (root or sudo)"
    )
    fonts.set_defaults(func=_cmd_data_fonts)

    train = commands.add_parser("train", help="train a model").add_subparsers(
        dest="task", required=True
    )
    digits = train.add_parser("digits", help="train the digit classifier on MNIST")
    _add_data_dir(digits)
    digits.add_argument("--output-dir", default="var/runs/digits")
    digits.add_argument("--arch", default="digit_cnn", help="registered model name")
    digits.add_argument("--model-args", default="{}", help="JSON, e.g. '{\"width\": 32}'")
    digits.add_argument("--epochs", type=int, default=24)
    digits.add_argument("--batch-size", type=int, default=128)
    digits.add_argument("--cuda-batch-size", type=int, default=512)
    digits.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    digits.add_argument("--lr", type=float, default=3e-3, help="peak LR at --batch-size")
    digits.add_argument("--weight-decay", type=float, default=1e-2)
    digits.add_argument("--schedule", choices=["onecycle", "plateau"], default="onecycle")
    digits.add_argument("--label-smoothing", type=float, default=0.0)
    digits.add_argument("--validation-size", type=int, default=5000)
    digits.add_argument("--seed", type=int, default=0)
    digits.add_argument("--patience", type=int, default=6, help="early-stopping patience")
    digits.add_argument("--no-augment", action="store_true")
    digits.add_argument("--train-limit", type=int, default=None, help="use only N train digits")
    digits.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    digits.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    digits.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    digits.add_argument("--dry-run", action="store_true", help="one epoch of two batches")
    digits.add_argument(
        "--negatives",
        type=float,
        default=0.0,
        help="share of each batch that is generated negatives (0: digits only)",
    )
    digits.add_argument(
        "--negatives-mode", choices=["reject_class", "outlier_exposure"], default="reject_class"
    )
    digits.add_argument("--oe-weight", type=float, default=0.5, help="outlier-exposure weight")
    digits.add_argument("--validation-negatives", type=int, default=3000)
    digits.add_argument(
        "--renormalized",
        type=float,
        default=0.0,
        help="share of train digits shown re-scanned through the production normalization",
    )
    digits.add_argument(
        "--blur",
        type=float,
        default=0.0,
        help="share of each batch (digits and negatives) blurred by sigma 0.2-1 px",
    )
    digits.add_argument(
        "--drop-lookalikes",
        type=float,
        default=0.0,
        metavar="P",
        help="drop negatives that digits-cnn-v1 reads as a digit with probability >= P "
        "(ml.negatives.lookalike; 0: keep all)",
    )
    digits.add_argument("--init-checkpoint", default=None, help="start from these weights")
    digits.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="validate and save a moving average of the weights with this decay per step, "
        "e.g. 0.999 (0: off)",
    )
    digits.add_argument(
        "--distill-from",
        action="append",
        metavar="MODEL",
        help="learn digits also from this digit model's softened readings (.onnx or "
        "checkpoint; a reject class is dropped), e.g. ml/weights/digits/digits-cnn-v1.onnx; "
        "repeat it for an ensemble of teachers",
    )
    digits.add_argument(
        "--distill-weight",
        type=float,
        default=0.5,
        help="share of the digits' loss taken from the teacher (0..1)",
    )
    digits.add_argument(
        "--distill-temperature", type=float, default=3.0, help="softmax temperature of both"
    )
    _add_allow_missing_fonts(digits)
    digits.set_defaults(func=_cmd_train_digits)

    strings_train = train.add_parser("strings", help="train the CTC digit-string model")
    _add_data_dir(strings_train)
    strings_train.add_argument("--output-dir", default="var/runs/strings")
    strings_train.add_argument("--model-args", default="{}", help="JSON, e.g. '{\"width\": 16}'")
    strings_train.add_argument("--steps", type=int, default=6000)
    strings_train.add_argument("--time-budget", type=float, default=None, help="seconds")
    strings_train.add_argument("--batch-size", type=int, default=48)
    strings_train.add_argument("--lr", type=float, default=2e-3)
    strings_train.add_argument("--cheque-fraction", type=float, default=0.5)
    strings_train.add_argument("--eval-every", type=int, default=250)
    strings_train.add_argument("--seed", type=int, default=0)
    strings_train.add_argument("--threads", type=int, default=None)
    strings_train.add_argument(
        "--init-checkpoint", default=None, help="continue from this checkpoint's weights"
    )
    strings_train.add_argument("--warmup-steps", type=int, default=200)
    strings_train.add_argument(
        "--stream-seed",
        type=int,
        default=None,
        help="seed of the training strings (default: --seed, which also fixes the split)",
    )
    strings_train.add_argument(
        "--patience", type=int, default=8, help="evaluations without improvement before stopping"
    )
    strings_train.add_argument(
        "--loader-workers",
        type=int,
        default=1,
        help="processes generating batches during training (0: in the training loop)",
    )
    strings_train.add_argument("--dry-run", action="store_true", help="three steps")
    strings_train.set_defaults(func=_cmd_train_strings)

    evaluate = commands.add_parser("evaluate", help="write an evaluation report folder")
    evaluate.add_argument("checkpoint", help="checkpoint (.pt) written by training, or .onnx")
    _add_data_dir(evaluate)
    evaluate.add_argument("--output-dir", required=True)
    evaluate.add_argument("--target-error", type=float, default=0.0005)
    evaluate.add_argument(
        "--target-negatives",
        type=float,
        default=0.005,
        help="share of validation negatives the chosen rule may accept (the test target is 1%%)",
    )
    evaluate.add_argument("--validation-size", type=int, default=5000)
    evaluate.add_argument("--seed", type=int, default=0, help="validation split seed")
    evaluate.add_argument(
        "--negatives",
        type=int,
        default=6000,
        help="validation and test negatives to generate for the reject signal (0: none)",
    )
    evaluate.add_argument(
        "--drop-lookalikes",
        type=float,
        default=0.0,
        metavar="P",
        help="drop held-out negatives that digits-cnn-v1 reads as a digit with probability "
        ">= P (the report also gives the test negatives accepted before the drop)",
    )
    evaluate.add_argument(
        "--choose-on-rescanned",
        action="store_true",
        help="fit the temperature and choose the thresholds on validation digits both raw and "
        "re-scanned through the production normalization",
    )
    evaluate.add_argument(
        "--keep-label-errors",
        action="store_true",
        help="keep the MNIST training digits listed as mislabelled (ml.data.label_errors) in "
        "the validation digits that choose the temperature and thresholds",
    )
    _add_allow_missing_fonts(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    floor = commands.add_parser(
        "review-floor",
        help="the review share each model, and all of them as an ensemble, needs at the error "
        "target (validation-chosen rule and the test set's own floor)",
    )
    floor.add_argument("models", nargs="+", help="digit models (.onnx or checkpoints)")
    _add_data_dir(floor)
    floor.add_argument("--target-error", type=float, default=0.0005)
    floor.add_argument("--validation-size", type=int, default=5000)
    floor.add_argument("--seed", type=int, default=0, help="validation split seed")
    floor.set_defaults(func=_cmd_review_floor)

    baselines = commands.add_parser("baselines", help="k-NN and SVM baselines (scikit-learn)")
    _add_data_dir(baselines)
    baselines.add_argument("--output-dir", required=True)
    baselines.add_argument("--train-limit", type=int, default=None)
    baselines.add_argument("--seed", type=int, default=0)
    baselines.add_argument("--which", nargs="+", default=["knn", "svm"], choices=["knn", "svm"])
    baselines.set_defaults(func=_cmd_baselines)

    export = commands.add_parser("export", help="export a checkpoint to ONNX with its model card")
    export.add_argument("checkpoint")
    export.add_argument("--output", required=True, help="path of the .onnx file")
    export.add_argument("--report-dir", help="evaluation report folder (metrics for the card)")
    export.add_argument("--version", required=True, help="model version, e.g. digits-cnn-v1")
    export.add_argument("--training-command", default=None)
    export.set_defaults(func=_cmd_export)

    quantize = commands.add_parser(
        "quantize", help="INT8 copy of a digit .onnx (static, calibrated on validation digits)"
    )
    quantize.add_argument("model", help="the fp32 .onnx file (its card beside it)")
    quantize.add_argument("--output", required=True, help="path of the INT8 .onnx file")
    _add_data_dir(quantize)
    quantize.set_defaults(func=_cmd_quantize)

    strings = commands.add_parser("strings", help="digit-string model").add_subparsers(
        dest="action", required=True
    )
    strings_export = strings.add_parser("export", help="ONNX, parity, test metrics, model card")
    strings_export.add_argument("checkpoint")
    strings_export.add_argument("--output", required=True, help="path of the .onnx file")
    strings_export.add_argument("--version", required=True, help="e.g. strings-crnn-v1")
    strings_export.add_argument("--training-command", default=None)
    _add_data_dir(strings_export)
    strings_export.set_defaults(func=_cmd_strings_export)
    reject_eval = strings.add_parser(
        "reject-eval", help="choose and measure the string reject rule on generated strips"
    )
    reject_eval.add_argument("--digit-model", required=True, help="11-class digit .onnx")
    reject_eval.add_argument("--string-model", required=True, help="string .onnx")
    reject_eval.add_argument("--count", type=int, default=1000, help="strips of each kind")
    reject_eval.add_argument(
        "--write-card", action="store_true", help="store the rule in the digit model's card"
    )
    _add_data_dir(reject_eval)
    reject_eval.set_defaults(func=_cmd_strings_reject_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except (MLError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
