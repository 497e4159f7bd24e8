"""citetool: build and export citations from DOIs and RePEc handles.

The command line (``citetool ...``) is a thin layer over this package; the same
work can be done from Python::

    from citetool import Library
    lib = Library.open("refs.json")
    outcome = lib.add(["10.1080/14751798.2021.1995963"])
    print(lib.export("bibtex").text)

Imports are kept lazy so that commands which need no network start fast.
"""

import time as _time

__version__ = "0.1.0"

# When this process loaded citetool: a source file changed after it may not be
# the code running (formats/entry_cache.py will not cache what this process renders).
IMPORTED_AT = _time.time()

__all__ = ["Library", "__version__"]


def __getattr__(name):  # PEP 562: import the heavy parts only when asked for
    if name == "Library":
        from citetool.library import Library  # start-up: loaded only when needed

        return Library
    raise AttributeError(name)
