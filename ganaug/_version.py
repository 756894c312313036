__version__ = "0.1.0"
# Version of the on-disk model format written by ``save``; bump on incompatible change.
FORMAT_VERSION = 1
