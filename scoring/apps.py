from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self):
        # Services send tasks by name; registering them here lets the embedded default (eager,
        # no broker) resolve a name to the local task in the web process too.
        from . import tasks  # noqa: F401
        from projects.services.quota import register_storage_counter

        from .services.exports import export_bytes
        register_storage_counter(export_bytes)   # exports count towards the user's quota
