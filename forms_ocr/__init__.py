"""Reading scanned pages into fields and normalized crops (OpenCV, numpy, Pillow, pypdfium2).

A plain library: no Django, no torch.
"""

from forms_ocr.segment import BoxResult, FieldResult, PageResult, segment_file, segment_page

__all__ = ["BoxResult", "FieldResult", "PageResult", "segment_file", "segment_page"]
