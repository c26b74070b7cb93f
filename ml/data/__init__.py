"""Digit data: IDX files, labelled PNG folders, the validation split, downloads."""

from ml.data.folder import digit_set_load_folder
from ml.data.idx import IdxArray, idx_read, idx_write
from ml.data.mnist import (
    DATA_DIR_ENV,
    DigitSet,
    data_dir_resolve,
    digit_set_load_idx,
    mnist_load,
    split_train_validation,
)

__all__ = [
    "DATA_DIR_ENV",
    "DigitSet",
    "IdxArray",
    "data_dir_resolve",
    "digit_set_load_folder",
    "digit_set_load_idx",
    "idx_read",
    "idx_write",
    "mnist_load",
    "split_train_validation",
]
