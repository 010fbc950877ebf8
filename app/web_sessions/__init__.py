"""Browser sessions kept on the server: a row per session, an opaque id in the cookie.

See docs/adr/0019-server-side-sessions.md. `interface` plugs the rows into Flask
(`flask.session` stays a dict); `services` ends, lists and sweeps them.
"""
