"""Seeded synthetic ratings logs: one generator behind ``build.py synthetic`` and the built-in demo.

``logs`` holds the spec, ``make_log`` and the ml-25m folder writer;
``movies`` and ``titles`` draw the catalogue; ``sampling`` and ``race`` draw
who rated what, which stars and when.  :mod:`embedder.ratings.demo` is a
small spec of it with its own taste clusters.
"""
