"""gunicorn settings for Diptych (``gunicorn -c deploy/gunicorn.conf.py diptych.wsgi``).

Every value can be overridden from the environment (systemd EnvironmentFile, see
deploy/diptych.env.example). Threads (gthread) keep a slow client from holding a whole process;
each thread holds one PostgreSQL connection (CONN_MAX_AGE), so workers x threads must stay
below PostgreSQL's max_connections minus what the Celery workers use.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))  # no page runs long: the engine is in Celery
graceful_timeout = 30
keepalive = 5
backlog = int(os.environ.get("GUNICORN_BACKLOG", 2048))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))  # recycle: bounds slow leaks
max_requests_jitter = 200
limit_request_line = 8190
# Uploads stream to disk by Django; the proxy (nginx) bounds the body size (client_max_body_size).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "diptych-web"
# Behind a TLS proxy on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
