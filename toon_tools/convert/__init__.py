"""Converters between TOON and other formats. :mod:`.registry` defines the
``Converter`` contract and lists the modules that implement it; ``toon convert``
takes every format, suffix and choice from there."""
