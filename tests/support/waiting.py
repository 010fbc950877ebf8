"""Waiting for what workers and servers do in the background."""

import time


def wait_for(condition, timeout: float = 60.0, interval: float = 0.05):
    """The first truthy result of `condition()`, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time")
