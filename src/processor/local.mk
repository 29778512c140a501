# processor module
