"""The ``toon`` command line. Only this package prints or exits."""
