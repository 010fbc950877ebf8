"""What the storage backend announces to the rooms that decide about its objects.

Storage sits below transfer: transfer imports it, never the other way. The local
backend's signed part URL asks, by this signal, whether a part may still arrive;
a receiver refuses by raising a `DomainError` (ADR 26). `create_app` connects them.
"""

from blinker import Namespace

_signals = Namespace()

#: Sent with the upload's id before the local backend stores a part of it.
part_arriving = _signals.signal("part-arriving")
