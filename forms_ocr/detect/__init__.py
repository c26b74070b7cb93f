"""Finding fields on a deskewed page: comb boxes, rectangles and underlines."""
