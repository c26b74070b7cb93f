"""`python -m ml` runs end to end on a tiny IDX data folder: dry-run training, then evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml.checkpoint import checkpoint_load
from ml.cli import main
from ml.negatives import fonts

WEIGHTS = Path(__file__).resolve().parents[2] / "ml/weights/digits"


@pytest.mark.slow
def test_dry_run_training_then_evaluation_write_their_outputs(tiny_mnist, tmp_path):
    run = tmp_path / "run"
    train = subprocess.run(
        [sys.executable, "-m", "ml", "train", "digits", "--data-dir", str(tiny_mnist),
         "--output-dir", str(run), "--validation-size", "50", "--dry-run", "--threads", "1",
         "--negatives", "0.2", "--blur", "0.3", "--drop-lookalikes", "0.999",
         "--distill-from", str(WEIGHTS / "digits-cnn-v1.onnx"),
         "--distill-from", str(WEIGHTS / "digits-cnn-v4.onnx")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    result = json.loads(train.stdout[train.stdout.index("{") :])
    assert (run / "log.csv").exists() and (run / "log.json").exists()
    # Both teachers taught, as one ensemble, and the checkpoint says so.
    taught = checkpoint_load(result["best_checkpoint"])[1]["data"]["distillation"]["teachers"]
    assert [t["teacher"] for t in taught] == ["digits-cnn-v1.onnx", "digits-cnn-v4.onnx"]

    report = tmp_path / "report"
    evaluate = subprocess.run(
        [sys.executable, "-m", "ml", "evaluate", result["best_checkpoint"], "--data-dir",
         str(tiny_mnist), "--output-dir", str(report), "--validation-size", "50",
         "--negatives", "48", "--drop-lookalikes", "0.999", "--choose-on-rescanned",
         "--allow-missing-fonts"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert evaluate.returncode == 0, evaluate.stderr
    summary = json.loads((report / "report.json").read_text())
    assert summary["test_size"] == 100
    # Look-alikes leave the held-out negatives; the report says how many and what was before.
    dropped = summary["negatives"]["lookalikes_dropped"]
    assert dropped["test_size_before"] == 48
    assert summary["negatives"]["test_size"] == 48 - sum(dropped["dropped"]["test"].values())
    assert 0 <= dropped["test_accepted_share_before"] <= 1
    assert summary["validation_digits"] == "raw and re-scanned"
    # The test digits are also read blurred, raw and re-scanned, at the chosen rule.
    variants = summary["negatives"]["test_digits_variants"]
    assert set(variants) == {
        "blur_0.7", "blur_1.0", "renormalized_blur_0.7", "renormalized_blur_1.0"
    }  # fmt: skip
    assert all(0 <= v["review_rate"] <= 1 and 0 <= v["accuracy"] <= 1 for v in variants.values())
    assert {"threshold", "reject_threshold", "test_negatives_accepted"} <= set(summary["reject"])
    for name in (
        "confusion.json",
        "confusion.png",
        "misclassified.png",
        "error_reject.json",
        "error_reject.png",
        "score_histograms.json",
        "score_histograms.png",
        "error_reject_mixed.json",
        "error_reject_mixed.png",
        "lookalikes_dropped.png",
    ):
        assert (report / name).stat().st_size > 0


def test_missing_data_folder_is_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "ml", "evaluate", "x.pt", "--data-dir", str(tmp_path / "none"),
         "--output-dir", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert out.returncode == 2
    assert out.stderr.startswith("error:")


def test_runs_with_negatives_refuse_to_start_without_their_fonts(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(fonts, "font_path", lambda name: None)
    train = ["train", "digits", "--data-dir", str(tmp_path / "none"), "--negatives", "0.2",
             "--output-dir", str(tmp_path / "run")]  # fmt: skip
    evaluate = ["evaluate", "x.pt", "--data-dir", str(tmp_path / "none"),
                "--output-dir", str(tmp_path / "report")]  # fmt: skip

    for command in (train, evaluate):
        assert main(command) == 2
        refused = capsys.readouterr().err
        assert "Lohit-Devanagari.ttf" in refused and "apt-get install fonts-dejavu-core" in refused

        # Allowed, the run goes on to its next check: here, the missing data folder.
        assert main([*command, "--allow-missing-fonts"]) == 2
        assert "fonts" not in capsys.readouterr().err


def test_the_fonts_command_names_what_is_missing_and_the_install_command(monkeypatch, capsys):
    monkeypatch.setattr(fonts, "font_path", lambda name: None)

    assert main(["data", "fonts"]) == 1
    said = capsys.readouterr().out
    assert "Lohit-Bengali.ttf" in said and "DancingScript-Regular.otf" in said
    assert "apt-get install -y --no-install-recommends fonts-dejavu-core" in said

    monkeypatch.setattr(fonts, "font_path", lambda name: Path("/usr/share/fonts/any.ttf"))
    assert main(["data", "fonts"]) == 0
    assert "is installed" in capsys.readouterr().out


def test_installing_fonts_without_apt_fails_with_the_packages_to_install(monkeypatch, capsys):
    monkeypatch.setattr(fonts, "font_path", lambda name: None)
    monkeypatch.setattr("shutil.which", lambda name: None)

    assert main(["data", "fonts", "--install"]) == 2
    refused = capsys.readouterr().err
    assert "apt-get is not available" in refused and "fonts-lohit-deva" in refused


@pytest.mark.parametrize("uid, prefix", [(0, []), (1000, ["sudo"])])
def test_installing_fonts_runs_apt_noninteractively_as_root_or_through_sudo(
    monkeypatch, capsys, uid, prefix
):
    ran = []
    monkeypatch.setattr(fonts, "font_path", lambda name: None)
    monkeypatch.setattr("os.geteuid", lambda: uid)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(
        "subprocess.run",
        lambda command, **_: ran.append(command) or subprocess.CompletedProcess(command, 0),
    )

    # The fonts stay missing here, so the command says so after running apt.
    assert main(["data", "fonts", "--install"]) == 2
    assert "still missing" in capsys.readouterr().err
    env = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive"]
    assert ran[0] == [*env, "apt-get", "update", "-qq"]
    assert ran[1][: len(env) + 2] == [*env, "apt-get", "install"]
    assert "fonts-lohit-deva" in ran[1] and "fonts-comic-neue" in ran[1]


def test_the_font_packages_are_listed_once_for_the_code_ci_and_the_image():
    root = Path(__file__).resolve().parents[2]
    listed = fonts.FONT_PACKAGES.split()
    assert listed[0] == "fonts-dejavu-core" and "fonts-lohit-knda" in listed
    assert not any(package.startswith("#") for package in listed)
    # CI and the image read the file instead of keeping lists of their own that could drift.
    for reader in (root / ".ci/run", root / "Dockerfile"):
        text = reader.read_text()
        assert "font-packages.txt" in text
        assert "fonts-lohit-deva" not in text, f"{reader.name} lists font packages itself"
