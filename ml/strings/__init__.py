"""Digit strings: recognition of free-width handwritten numbers by a CTC model.

The pieces: :mod:`ml.strings.generate` composes synthetic strings from real handwritten digits
with separators, marks, backgrounds and scan noise; :mod:`ml.strings.decode` turns CTC logits into
text, per-character confidences and an n-best list (numpy only, shared with :mod:`ml.infer`);
:mod:`ml.strings.model` registers the CRNN; :mod:`ml.strings.train`, :mod:`ml.strings.evaluate`
and :mod:`ml.strings.export` train, measure and export it.

Importing this package does not import torch; only the training, model and export modules do.
"""

BLANK = 10
NUM_CLASSES = 11
# The CNN pools the width by 4: one CTC frame per 4 input columns.
WIDTH_PER_FRAME = 4
STRING_HEIGHT = 32
MIN_WIDTH = 32
MAX_WIDTH = 512
