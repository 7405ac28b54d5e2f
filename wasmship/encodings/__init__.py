"""Content encodings: the encoders a build writes, the decoders verify and check use, and dcz."""
