"""What the catalog announces to the rooms that hold things of its entries.

The catalog sits below work packages and transfers: they import it, never the other
way. When an entry they depend on goes, the catalog sends a signal inside the
deleting transaction and each room removes its own rows (ADR 26). `create_app`
connects the receivers, so every process built from it (web, workers, CLI) has them.
"""

from blinker import Namespace

_signals = Namespace()

#: Sent with the box's id, under the box's row lock, before the box row is deleted.
upload_box_deleting = _signals.signal("upload-box-deleting")
