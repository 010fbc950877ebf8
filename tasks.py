"""`invoke --list` shows them all: the developer tasks and the operator commands.

invoke reads this file at the repository's root; the tasks live in devtasks.py
(serve, test, lint, bench, …) and in ops/ (what an operator does on a deployment).
"""

from invoke import Collection

import devtasks
from ops import access, accounts, applications, events

namespace = Collection()
for module in (devtasks, accounts, applications, access, events):
    for name, command in Collection.from_module(module).tasks.items():
        namespace.add_task(command, name=name)
