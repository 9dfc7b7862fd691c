"""One memo that removes Beam's largest fixed construction cost, with the same answers.

Every ``ParDo`` Beam builds, and every ``DoFnRunner`` that runs one, asks
``userstate.get_dofn_specs(dofn)`` for the DoFn's state and timer specs — several
times each. Each call walks ``dir(dofn)`` and takes ``inspect.signature`` of every
bound method (about 35 on any DoFn): under a millisecond per DoFn, but a third of
a preview's time once a graph has dozens of ParDos.

The answer depends only on the functions of the DoFn's methods (the specs are
their default values), so it is remembered per class and per method the
instance binds itself. A DoFn Beam refuses (duplicate parameters) is refused on
every call, as before: errors are never remembered.

>>> install()
>>> import apache_beam as beam
>>> from apache_beam.transforms import userstate
>>> userstate.get_dofn_specs(beam.Map(len).fn)
(set(), set())
"""

from __future__ import annotations

import types
from collections import OrderedDict
from typing import Any

from apache_beam.transforms import userstate

_ORIGINAL = userstate.get_dofn_specs
_CACHE: OrderedDict[Any, tuple[frozenset[Any], frozenset[Any]]] = OrderedDict()
_LIMIT = 1024


def _key(dofn: Any) -> Any:
    try:
        own = vars(dofn)
    except TypeError:  # no __dict__ (slots): the class alone decides
        own = {}
    # methods bound on the instance (e.g. Map(obj.method) stores `process`) shadow the class's
    bound = tuple(
        sorted((k, v.__func__) for k, v in own.items() if isinstance(v, types.MethodType))
    )
    return type(dofn), bound


def get_dofn_specs(dofn: Any) -> tuple[set[Any], set[Any]]:
    """``userstate.get_dofn_specs``, remembered per DoFn class (and instance-bound methods)."""
    try:
        key = _key(dofn)
        found = _CACHE.get(key)
    except TypeError:  # something unhashable: ask Beam every time
        return _ORIGINAL(dofn)
    if found is None:
        states, timers = _ORIGINAL(dofn)
        found = _CACHE[key] = (frozenset(states), frozenset(timers))
        if len(_CACHE) > _LIMIT:
            _CACHE.popitem(last=False)
    return set(found[0]), set(found[1])


def install() -> None:
    """Route Beam's ``userstate.get_dofn_specs`` through the memo (idempotent)."""
    userstate.get_dofn_specs = get_dofn_specs
