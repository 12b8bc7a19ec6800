from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self):
        # Services send tasks by name; registering them here lets the embedded default (eager,
        # no broker) resolve a name to the local task in the web process too.
        from . import tasks  # noqa: F401
