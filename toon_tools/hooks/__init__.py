"""What runs on a commit: the git plumbing (:mod:`.git`), keeping Markdown twins
current (:mod:`.twins`) and the standalone pre-commit hook (:mod:`.standalone`).

Nothing here prints; the CLI reports what these modules return.
"""
