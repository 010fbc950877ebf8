"""Operator commands: what an operator does with `invoke` on a running deployment.

Each command parses its options, resolves the operator to an `Actor`, calls the
action (docs/adr/0023) and prints the result; `command.operator_command` turns
the expected failures into one line on stderr and an exit status. The developer
tasks (serve, test, lint, …) live in devtasks.py; tasks.py collects both.
"""
