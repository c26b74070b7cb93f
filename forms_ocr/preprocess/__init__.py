"""Page preprocessing: deskew, ink masks (adaptive binarization), line masks."""
