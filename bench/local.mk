# bench: sources, programs and tests of this folder.
