"""Eager tasks in the bot's process run on threads of their own, never in the caller's."""

import threading

from celery import shared_task

import config.celery as celery_config

ran_on: list[str] = []
release = threading.Event()
done = threading.Event()


@shared_task
def note_thread_task() -> None:
    ran_on.append(threading.current_thread().name)
    release.wait(10)
    done.set()


def test_an_eager_task_runs_in_the_callers_thread_by_default(eager_celery):
    ran_on.clear()
    release.set()

    note_thread_task.delay()

    assert ran_on == [threading.current_thread().name]


def test_an_offloaded_eager_task_does_not_hold_up_its_caller(eager_celery, monkeypatch):
    # given a process that offloads its eager tasks (as the bot does)
    monkeypatch.setattr(celery_config, "_offload", None)
    celery_config.offload_eager_tasks(1)
    ran_on.clear()
    release.clear()
    done.clear()

    # when a task is queued, and it cannot finish yet
    note_thread_task.delay()

    # then the caller goes on at once; the task runs on an offload thread
    assert not done.is_set()
    release.set()
    assert done.wait(10)
    assert ran_on and ran_on[0].startswith("eager-task")


@shared_task(offload_when_eager=True)
def note_thread_offloaded_task() -> None:
    ran_on.append(threading.current_thread().name)
    done.set()


def test_a_task_that_must_not_block_never_runs_in_its_callers_thread(eager_celery, monkeypatch):
    # given a process that does not offload its eager tasks (a web request on the defaults)
    monkeypatch.setattr(celery_config, "_offload", None)
    ran_on.clear()
    done.clear()

    # when a task marked offload_when_eager (a webhook's HTTP call) is queued
    note_thread_offloaded_task.delay()

    # then it runs on a background thread, not the caller's
    assert done.wait(10)
    assert ran_on and ran_on[0].startswith("eager-background")
