"""Migration 0008 on existing data: a theme several coders coded with is split per coder (codes
and their history follow), ids become opaque, merges are kept, and the scores do not change."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("annotation", "0007_adjudication_record")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_shared_themes_are_split_per_coder_and_merges_kept(validation_round, users, coder2):
    sample = validation_round.samples.filter(is_calibration=True).order_by("order").first()
    post_ids = list(sample.posts.order_by("position").values_list("pk", flat=True))
    coder, pi = users["coder"], users["pi"]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE)
        Theme, PostCode = old.get_model("annotation", "Theme"), old.get_model("annotation",
                                                                               "PostCode")
        CodeHistory = old.get_model("annotation", "CodeHistory")
        ClusterCode = old.get_model("annotation", "ClusterCode")
        project = validation_round.project_id
        shark = Theme.objects.create(project_id=project, modality="text", name="Shark",
                                     created_by_id=coder.pk)
        hoax = Theme.objects.create(project_id=project, modality="text", name="Hoax",
                                    created_by_id=coder2.pk)
        unused = Theme.objects.create(project_id=project, modality="text", name="Idea",
                                      created_by_id=pi.pk)
        for user, theme in ((coder, shark), (coder2, shark), (coder2, hoax)):
            post = post_ids[0] if theme == shark else post_ids[1]
            code = PostCode.objects.create(sampled_post_id=post, cluster_sample_id=sample.pk,
                                           coder_id=user.pk, pass_name="text", theme=theme)
            CodeHistory.objects.create(post_code=code, theme=theme, version=1,
                                       outcome="created", changed_by_id=user.pk)
        ClusterCode.objects.create(cluster_sample_id=sample.pk, coder_id=coder2.pk,
                                   pass_name="text", theme=shark)
        hoax.merged_into = shark
        hoax.save()
        old.get_model("annotation", "ThemeMerge").objects.create(source=hoax, target=shark,
                                                                 merged_by_id=pi.pk)
    finally:
        _migrate(latest)

    from annotation.models import CodeHistory as History, PostCode as Code, Theme as NewTheme
    from annotation.services.codebook import effective_theme_map, unmerge

    themes = list(NewTheme.objects.filter(project_id=project).order_by("pk"))
    assert [(t.name, t.owner_id) for t in themes] == [
        ("Shark", coder.pk), ("Hoax", coder2.pk), ("Idea", pi.pk), ("Shark", coder2.pk)]
    copy = themes[3]
    assert len({t.public_id for t in themes}) == 4 and all(
        t.public_id.startswith("T") for t in themes)
    for code in Code.objects.filter(cluster_sample=sample).select_related("theme"):
        assert code.theme.owner_id == code.coder_id
        assert set(History.objects.filter(post_code=code).values_list("theme", flat=True)) == {
            code.theme_id}
    assert sample.cluster_codes.get().theme == copy
    # the merge and the scores are as before: the copy is one category with the original
    key = effective_theme_map(validation_round.project)
    assert key[copy.pk] == key[themes[0].pk] == key[themes[1].pk] == themes[0].pk
    merge = NewTheme.objects.get(pk=themes[1].pk).merges_out.get()
    assert merge.repointed == [[themes[1].pk, None]]
    unmerge(merge, pi)
    assert effective_theme_map(validation_round.project)[themes[1].pk] == themes[1].pk
