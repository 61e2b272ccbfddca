"""The TOON language server (``toon lsp``): analysis in plain modules, pygls only in server.py."""
