"""What the native tests share, one module per kind of thing (tests/conftest.py holds the fixtures).

``sandbox``: the Sandbox environment of the store tests. ``cli``: shimgen's command line (in this
process, or as a process of its own) and pip. ``wheels``: wheels built for tests, and RECORD's
checks. ``environments``: site-packages, snapshots, what doctor finds; pip's and uv's uninstall.
``foreign``: launchers other tools make (distlib's, uv's). ``faults``: crashes at each filesystem step.
"""
