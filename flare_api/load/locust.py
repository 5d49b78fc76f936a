"""A locust ``User`` that drives a FLARE admin server through :class:`flare_api.Session`.

Every Session method a task calls is timed and reported to locust as a request of type ``FLARE``
named after the method, so locust's statistics, failure lists and master/worker mode work as usual.
A failed call is reported as a failure and its exception then re-raised, so the task stops there (locust
logs it and moves on to the next task) instead of carrying on with a ``None`` result.
Our client is plain ``socket``/``ssl``, which gevent's monkey-patching makes cooperative.

    class Admin(FlareUser):
        startup_kit = "certs/admin@nvidia.com"
        username = "admin@nvidia.com"

        @task
        def status(self):
            self.client.get_system_info()
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from locust import User
from locust.env import Environment

from ..session import Session, new_secure_session

__all__ = ["FlareLoadClient", "FlareUser"]

REQUEST_TYPE = "FLARE"


class FlareLoadClient:
    """Wraps a Session: calling one of its methods fires locust's ``request`` event with the timing."""

    def __init__(self, session: Session, environment: Environment) -> None:
        self.session = session
        self._environment = environment

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.session, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        return self._timed(name, attribute)

    def _timed(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            exception: Optional[Exception] = None
            result = None
            try:
                result = method(*args, **kwargs)
            except Exception as exc:  # every failure is locust's to count, not only FlareError
                exception = exc
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            self._environment.events.request.fire(
                request_type=REQUEST_TYPE,
                name=name,
                response_time=elapsed_ms,
                response_length=0,
                response=result,
                context={"user": self.session.username},
                exception=exception,
            )
            if exception is not None:
                raise exception
            return result

        return call


class FlareUser(User):
    """An abstract locust user logged in to FLARE; subclasses set ``startup_kit`` and ``username``."""

    abstract = True
    #: The admin startup kit folder (the one holding ``startup/`` and ``local/``).
    startup_kit: str = ""
    username: str = "admin@nvidia.com"
    #: Seconds to wait for the login.
    login_timeout: float = 10.0
    #: Seconds each request may take.
    request_timeout: float = 10.0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        if not self.startup_kit:
            raise ValueError(f"{type(self).__name__}.startup_kit is not set: point it at an admin startup kit folder")
        session = new_secure_session(
            self.username, self.startup_kit, timeout=self.login_timeout, request_timeout=self.request_timeout
        )
        self.client = FlareLoadClient(session, environment)

    def on_stop(self) -> None:
        self.client.session.close()
