from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from clustering_engine.spec import ALGORITHMS, EXTENSION_FORMATS, METHODS, REDUCERS

from .models import Role
from .services.datasets import grouping_columns
from .services.run_config import (DEFAULT_OPTIONS, OPTION_BOUNDS, joint_model_notice,
                                  model_choices)


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    name_for_coders = forms.CharField(
        max_length=200, required=False, label="Name shown to coders",
        help_text='coders never see the name or description above; empty: "Study <number>"')


class DatasetUploadForm(forms.Form):
    name = forms.CharField(max_length=200)
    table = forms.FileField(help_text=f"pairs table ({', '.join(EXTENSION_FORMATS)}) with id, text, image")
    images_zip = forms.FileField(required=False, help_text="a zip of the images the table names")


class ServerFolderForm(forms.Form):
    name = forms.CharField(max_length=200)
    folder = forms.CharField(max_length=1000, help_text="a folder under an allowed data root")
    table_name = forms.CharField(max_length=255, initial="pairs.csv")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CODER)
    create_with_password = forms.CharField(
        required=False, widget=forms.PasswordInput,
        help_text="if the user does not exist yet, create it with this password")

    def clean(self):
        data = super().clean()
        username, password = data.get("username"), data.get("create_with_password")
        if password:
            # The validators every password meets (AUTH_PASSWORD_VALIDATORS), whether or not the
            # account exists, so the answer does not tell which usernames do.
            try:
                validate_password(password, get_user_model()(username=username or ""))
            except ValidationError as exc:
                self.add_error("create_with_password", exc)
        elif username and not get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError("to add a new account, give it a password")
        return data


def _choices(values):
    return [(v, v) for v in values]


class RunForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=None)
    text_model = forms.ChoiceField()
    image_model = forms.ChoiceField()
    joint_model = forms.ChoiceField(help_text="the pretrained multimodal model (CLIP) the joint "
                                              "method needs; rcca: none (the offline space "
                                              "learned from the pairs runs as the cca method)")
    methods = forms.MultipleChoiceField(choices=_choices(METHODS),
                                        widget=forms.CheckboxSelectMultiple,
                                        initial=DEFAULT_OPTIONS["methods"])
    ks = forms.CharField(initial=", ".join(map(str, DEFAULT_OPTIONS["ks"])), label="K grid")
    algorithms = forms.MultipleChoiceField(choices=_choices(ALGORITHMS),
                                           widget=forms.CheckboxSelectMultiple,
                                           initial=DEFAULT_OPTIONS["algorithms"])
    reduction = forms.ChoiceField(choices=_choices(REDUCERS), initial=DEFAULT_OPTIONS["reduction"])
    n_components = forms.IntegerField(min_value=2, initial=DEFAULT_OPTIONS["n_components"],
                                      label="dimensions after reduction")
    seed = forms.IntegerField(
        min_value=0, max_value=OPTION_BOUNDS["seed"], required=False,
        help_text="empty: a fresh secret seed for this run (kept in its manifest, shown to PIs "
                  "only); give one only to repeat a run")
    truth_column = forms.ChoiceField(
        required=False, label="Known groupings",
        help_text="a column of the data set (e.g. a news event) that every solution is scored "
                  "against (AMI, ARI, homogeneity, completeness); never used to cluster")

    def __init__(self, *args, datasets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = datasets
        self.columns = {d.pk: grouping_columns(d) for d in datasets}
        names = sorted({c for cols in self.columns.values() for c in cols})
        self.fields["truth_column"].choices = [("", "none")] + _choices(names)
        self.joint_notice = joint_model_notice()
        for modality in ("text", "image", "joint"):
            field = self.fields[f"{modality}_model"]
            field.choices = _choices(model_choices()[modality])
            field.initial = model_choices()[modality][0]  # offline default preselected

    def clean(self):
        data = super().clean()
        dataset, column = data.get("dataset"), data.get("truth_column")
        if dataset is not None and column and column not in self.columns.get(dataset.pk, []):
            self.add_error("truth_column", f"the data set {dataset.name!r} has no column "
                                           f"{column!r}")
        return data

    def options(self) -> dict:
        data = self.cleaned_data
        return {k: data[k] or None if k == "truth_column" else data[k]
                for k in ("text_model", "image_model", "joint_model", "methods", "ks",
                          "algorithms", "reduction", "n_components", "seed", "truth_column")}
