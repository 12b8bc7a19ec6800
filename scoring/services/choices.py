"""The PI's chosen solutions (with a note)."""
from __future__ import annotations

from ..models import SolutionChoice
from .comparison import round_solutions


class ChoiceError(Exception):
    pass


def set_choice(project, solution_pk: int, user, chosen: bool, note: str = "") -> SolutionChoice | None:
    """Mark (or unmark) a solution of the project's rounds as chosen."""
    solution = next((s for s in round_solutions(project) if s.pk == solution_pk), None)
    if solution is None:
        raise ChoiceError("that solution is not in a validation round of this project")
    if not chosen:
        SolutionChoice.objects.filter(project=project, solution=solution).delete()
        return None
    choice, _ = SolutionChoice.objects.update_or_create(
        project=project, solution=solution, defaults={"note": note.strip(), "chosen_by": user})
    return choice
