"""The rooms of the code stay apart (ADR 23): read from the source, no app needed.

Where a rule has a list of places known to break it, a new breach fails the build,
and so does a listed one that is gone, so that the list only ever gets shorter.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Channel code that still commits, audits, notifies or enqueues by itself
#: (module, function): why it is not an action yet.
KNOWN_CHANNEL_WORK = {
    ("app/identity/slack.py", "_remember"): "a refused click is remembered against replay",
}

#: Calls that belong to actions: committing, auditing, notifying, enqueueing.
ACTION_WORK = frozenset(
    {
        "commit",
        "after_commit",
        "enqueue",
        "enqueue_keys",
        "enqueue_jobs",
        "email_user",
        "notify_operators",
        "announce_pending_person",
        "record_event",
        "record",
    }
)

#: Where pages live: one room.
PAGE_ROOMS = frozenset({"app.pages"})


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from app import audit_log` names a module of the package.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _room(module: str) -> str:
    """app.<package> (or app.<module> for a top-level module), workers, roles."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "app" and len(parts) > 1 else parts[0]


def _sources(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def _room_graph() -> dict[str, set[str]]:
    existing = {_module_name(p) for p in _sources("app", "workers")}
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _sources("app", "workers"):
        source = _room(_module_name(path))
        for name in _imported(ast.parse(path.read_text())):
            if name not in existing and name.rsplit(".", 1)[0] not in existing:
                continue  # not ours (or a name imported from a module)
            target = _room(name if name in existing else name.rsplit(".", 1)[0])
            # The factory (app/__init__.py) registers every room: it is the top.
            if target not in (source, "app"):
                graph[source].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected rooms (Tarjan), those of more than one room."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(room: str) -> None:
        index[room] = low[room] = len(index)
        stack.append(room)
        for other in graph.get(room, ()):
            if other not in index:
                visit(other)
                low[room] = min(low[room], low[other])
            elif other in stack:
                low[room] = min(low[room], index[other])
        if low[room] == index[room]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == room:
                    break
            if len(component) > 1:
                found.append(component)

    for room in sorted(set(graph) | {r for targets in graph.values() for r in targets}):
        if room not in index:
            visit(room)
    return found


def test_no_import_cycle_between_rooms():
    """A room that needs to tell one above it something sends a signal (ADR 26)."""
    cycles = [sorted(cycle) for cycle in _cycles(_room_graph())]
    assert cycles == [], f"rooms importing each other: {cycles}"


def test_the_actor_the_permissions_and_the_unit_of_work_import_no_domain():
    """Every room may import these; the resolvers (app/authz/api.py, pages.py) read accounts
    and sessions, so only channels import those."""
    allowed = {"app.errors", "app.extensions", "app.database", "app.authz"}
    for module in ("app/authz/actor.py", "app/authz/permissions.py", "app/unit_of_work.py"):
        names = {_room(n) for n in _imported(ast.parse((ROOT / module).read_text()))}
        ours = {n for n in names if n.startswith("app.")}
        assert ours <= allowed, f"{module} imports {sorted(ours - allowed)}"


def test_the_app_never_imports_the_worker_processes():
    for path in _sources("app"):
        names = _imported(ast.parse(path.read_text()))
        assert not [n for n in names if n.split(".")[0] == "workers"], path


def test_roles_imports_nothing_from_app():
    for path in _sources("roles"):
        names = _imported(ast.parse(path.read_text()))
        assert not [n for n in names if n.split(".")[0] == "app"], path


def _channel_modules() -> list[Path]:
    patterns = ("routes.py", "*_routes.py")
    found = {p for pattern in patterns for p in (ROOT / "app").rglob(pattern)}
    found |= set((ROOT / "app" / "pages").glob("*.py"))  # every page
    found |= {ROOT / "app" / "identity" / "slack.py"}
    found |= set((ROOT / "ops").glob("*.py"))  # the operator commands
    return sorted(found)


def _action_work_in(path: Path) -> set[tuple[str, str]]:
    found = set()
    relative = str(path.relative_to(ROOT))
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            called = node.func
            name = getattr(called, "attr", None) or getattr(called, "id", None)
            if name in ACTION_WORK:
                found.add((relative, function.name))
    return found


def test_channels_leave_commits_audits_notices_and_tasks_to_actions():
    found = set().union(*(_action_work_in(p) for p in _channel_modules()))
    new = found - set(KNOWN_CHANNEL_WORK)
    assert not new, f"channel code doing an action's work (make it an action): {sorted(new)}"
    gone = set(KNOWN_CHANNEL_WORK) - found
    assert not gone, f"no longer doing an action's work: take off the list: {sorted(gone)}"


def test_pages_live_in_the_page_rooms(app):
    from app.web.blueprints import is_page_blueprint

    pages = 0
    for rule in app.url_map.iter_rules():
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        if blueprint is not None and is_page_blueprint(blueprint):
            pages += 1
            module = app.view_functions[rule.endpoint].__module__
            assert _room(module) in PAGE_ROOMS, (rule.rule, module)
    assert pages > 40  # the rule saw the pages


def test_every_template_takes_its_csrf_input_from_the_one_macros_file():
    templates = ROOT / "app" / "web" / "templates"
    by_hand = [
        str(path.relative_to(templates))
        for path in sorted(templates.rglob("*.html"))
        if path.name != "macros.html" and "csrf_token()" in path.read_text()
    ]
    assert not by_hand, f"write {{{{ csrf() }}}} from macros.html instead: {by_hand}"
