"""The Celery app: reads Django settings under the CELERY_ namespace and finds each app's tasks.

On the embedded defaults tasks run eagerly, in the caller's thread. That is right for a web
request, but the bot must never wait on a task's Discord calls (a conversion's roles, a pool
top-up) while a join decision or a button press waits for the same thread: a process that calls
`offload_eager_tasks()` (the bot does) runs its eager tasks on a thread pool of their own.
"""

import os
from concurrent.futures import Executor, ThreadPoolExecutor

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

_offload: Executor | None = None
_background: Executor | None = None


class OffloadableTask(Task):
    # True for a task that must never run in its caller's thread, not even in a web request on
    # the embedded defaults (a webhook's HTTP call): its eager runs always go to a thread pool.
    offload_when_eager = False

    def apply_async(self, args=None, kwargs=None, task_id=None, producer=None, link=None,
                    link_error=None, shadow=None, **options):  # fmt: skip
        executor = _offload
        if executor is None and self.offload_when_eager:
            executor = _background_pool()
        if executor is None or not self.app.conf.task_always_eager:
            return super().apply_async(
                args, kwargs, task_id, producer, link, link_error, shadow, **options
            )

        def run() -> None:
            from django.db import connections

            try:
                super(OffloadableTask, self).apply_async(args, kwargs, task_id, **options)
            finally:
                connections.close_all()

        executor.submit(run)
        return None


def _background_pool() -> Executor:
    global _background
    if _background is None:
        _background = ThreadPoolExecutor(2, thread_name_prefix="eager-background")
    return _background


def offload_eager_tasks(threads: int = 2) -> Executor:
    """From now on, eager tasks of this process run on `threads` threads of their own."""
    global _offload
    if _offload is None:
        _offload = ThreadPoolExecutor(threads, thread_name_prefix="eager-task")
    return _offload


app = Celery("invitetrail", task_cls=OffloadableTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
