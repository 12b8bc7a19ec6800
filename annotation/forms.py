from django import forms

from projects.models import Solution
from projects.services.run_queries import chosen_solution_ids

from .intrusion_models import DEFAULT_ITEMS_PER_TASK, IntrusionKind
from .models import Pass, Theme, ValidationRound
from .services.codebook import category_heads

TASK_TYPES = [("consistency", "Consistency coding only"),
              ("both", "Consistency coding and intrusion tasks"),
              ("intrusion", "Intrusion tasks only")]


class SolutionChoiceField(forms.ModelMultipleChoiceField):
    """Each solution with its cluster count and whether marginal gain chose its K."""
    chosen: frozenset = frozenset()   # (run id, solution id) at a chosen K

    def label_from_instance(self, obj):
        k = f"K = {obj.k}, " if obj.k else ""
        chosen = " — chosen K (marginal gain)" if (obj.run_id, obj.solution_id) in self.chosen else ""
        return (f"{obj.solution_id} — run {obj.run_id}, {obj.method}, {obj.algorithm}, {k}"
                f"{obj.n_clusters} clusters{chosen}")


class RoundForm(forms.Form):
    name = forms.CharField(max_length=200)
    solutions = SolutionChoiceField(
        queryset=Solution.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one solution.",
                        "invalid_choice": "%(value)s is not a solution of this project you can "
                                          "validate (single-modality building blocks of "
                                          "label-level solutions are not offered)."})
    posts_per_cluster = forms.IntegerField(min_value=1, max_value=1000, initial=10)
    seed = forms.IntegerField(min_value=0, max_value=2 ** 31 - 1, initial=0)
    calibration_clusters = forms.IntegerField(min_value=0, initial=10,
                                              help_text="clusters coded by every coder")
    overlap = forms.ChoiceField(choices=ValidationRound.Overlap.choices,
                                initial=ValidationRound.Overlap.CALIBRATION)
    coders = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple,
                                            required=False)
    # Intrusion tests (services.intrusion): a round holds consistency tasks, intrusion tasks or both.
    task_types = forms.ChoiceField(choices=TASK_TYPES, required=False, initial="consistency",
                                   label="Tasks")
    intrusion_kinds = forms.MultipleChoiceField(
        choices=IntrusionKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        initial=[k.value for k in IntrusionKind], label="Intrusion task kinds")
    intrusion_items = forms.IntegerField(min_value=2, max_value=8, required=False,
                                         initial=DEFAULT_ITEMS_PER_TASK,
                                         label="Items of the cluster per intrusion task (k)")

    def clean(self):
        data = super().clean()
        data["task_types"] = data.get("task_types") or "consistency"
        if data["task_types"] != "consistency" and not data.get("intrusion_kinds"):
            self.add_error("intrusion_kinds", "choose at least one kind of intrusion task")
        data["intrusion_items"] = data.get("intrusion_items") or DEFAULT_ITEMS_PER_TASK
        return data

    def __init__(self, *args, project, coders, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the solutions a PI can validate: the single-modality clusterings that exist only
        # to build label-level solutions (Solution.Kind.MODALITY) are not offered, and a POST
        # naming one fails as a choice outside the queryset.
        self.fields["solutions"].queryset = Solution.objects.filter(
            run__project=project, run__status="succeeded", kind=Solution.Kind.COMBINED,
        ).select_related("run").order_by("run_id", "method", "algorithm", "k")
        runs = {s.run for s in self.fields["solutions"].queryset}
        self.fields["solutions"].chosen = frozenset(
            (run.pk, sid) for run in runs for sid in chosen_solution_ids(run))
        self.fields["coders"].queryset = coders


class ReassignForm(forms.Form):
    cluster = forms.CharField(max_length=16, help_text="the cluster's public id")
    from_coder = forms.ModelChoiceField(queryset=None, required=False,
                                        help_text="empty: add a coder without removing one")
    to_coder = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, coders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_coder"].queryset = coders
        self.fields["to_coder"].queryset = coders


class MergeForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Theme.objects.none(), label="Merge",
                                    to_field_name="public_id")
    target = forms.ModelChoiceField(queryset=Theme.objects.none(), label="into",
                                    to_field_name="public_id")
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, project, modality, **kwargs):
        super().__init__(*args, **kwargs)
        themes = category_heads(project, modality)   # one entry per theme name
        self.fields["source"].queryset = themes
        self.fields["target"].queryset = themes


class DecisionRowForm(forms.Form):
    """One row of the adjudication page: a cluster's common theme (no ``post``) or one post's
    theme, in one pass. Alone, it undoes the row's decision."""
    cluster = forms.CharField(max_length=16)
    pass_name = forms.ChoiceField(choices=Pass.choices)
    post = forms.CharField(max_length=16, required=False)


class DecisionForm(DecisionRowForm):
    """A row's decision: the theme typed in its box, or a coder's theme accepted with that
    coder's button (``accept``: only the button that submitted the form is sent)."""
    theme_name = forms.CharField(max_length=200, required=False)
    accept = forms.CharField(max_length=200, required=False)
    note = forms.CharField(required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        data["theme_name"] = data.get("accept") or data.get("theme_name")
        if not data["theme_name"] and "theme_name" not in self.errors:
            self.add_error("theme_name", "type a theme or accept a coder's theme")
        return data


class ClusterNameForm(forms.Form):
    cluster = forms.CharField(max_length=16)
    name = forms.CharField(max_length=200, required=False)
