"""Extract: the landing folder and the reference files, read as they are (the I/O)."""
