from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self):
        # Services send tasks by name; registering them here lets the embedded default (eager,
        # no broker) resolve a name to the local task in the web process too.
        from . import tasks  # noqa: F401
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from .api_tokens import revoke_on_password_change
        pre_save.connect(revoke_on_password_change, sender=get_user_model(),
                         dispatch_uid="revoke-token-on-password-change")
