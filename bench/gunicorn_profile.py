"""gunicorn settings for `bench/profile.py`: each worker profiles every request it serves with cProfile and
writes its statistics when it exits. Used by the benchmark only; the service itself never profiles."""

import cProfile
import os

profiler = cProfile.Profile()


def pre_request(worker, req):
    profiler.enable()


def post_request(worker, req, environ, resp):
    profiler.disable()


def worker_exit(server, worker):
    profiler.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"worker-{worker.pid}.prof"))
