"""One botocore Loader for the AWS models moto reads.

moto reads a service's model (to parse a request, to write an answer, to page) through a
new botocore Loader each time (moto.core.utils.create_loader), and a new Loader first lists
every service's folder of botocore's data, about 540, before it loads the one model: ~15 ms
of CPU each time, 17 times in a local stack's start (a quarter of a second), and again in
every test process. The first Loader serves every read: it lists once and keeps the
listing; the models it loads are the ones a new Loader would load (and moto keeps each
model it read already: get_service_model, get_pagination_model).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from local.patches.hooks import Hooks


def one_loader(original: Callable[[], Any], hooks: Hooks, name: str) -> Callable[[], Any]:
    """Replaces moto.core.utils.create_loader: the first Loader it made, at every call."""
    return functools.cache(original)
