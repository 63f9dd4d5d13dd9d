"""What runs inside the sandbox: image definitions and the in-box worker (standard library only).

Shipped as package data so that an installed rlvr can build its image (``rlvr sandbox build``) without a checkout:
``sandboxes/python/`` holds the Dockerfile, the offline build script and ``worker.py``, which the image copies in.
"""
