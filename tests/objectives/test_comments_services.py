"""Comments and @mentions (docs/objectives.md, "Comments and mentions"): visible to whoever may
see the target; a mention notifies the person named (if they may see the target), nobody else,
never the author."""
import pytest

from kpiapp.appraisal import notifications
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, CommentTarget, Notification
from kpiapp.objectives import comments, tasks
from tests.factories import UserFactory
from tests.objectives.helpers_tasks import make_crew

pytestmark = pytest.mark.rollback


@pytest.fixture
def crew(app):
    crew = make_crew()
    crew.manager.name, crew.manager.email = "Li Wei", "li.wei@example.com"
    crew.worker.name, crew.worker.email = "王芳", "wang.fang@example.com"
    db.session.commit()
    return crew


def notified(person):
    return db.session.query(Notification).filter_by(user_id=person.id, key="comment.mention").all()


def everyone_notified():
    return {n.user_id for n in db.session.query(Notification).filter_by(key="comment.mention")}


def test_mentions_by_name_with_a_space_chinese_name_and_email_local_part(crew):
    task = tasks.create_task({"title": "Restock", "assignee_id": crew.worker.id}, crew.manager)
    comment = comments.add_comment(CommentTarget.task, task.id, "@王芳 please check, cc @Li Wei and @hr-none",
                                   crew.manager)
    # the author (Li Wei) is never told; 王芳 is
    assert {m.person_id for m in comment.mentions} == {crew.worker.id}
    assert everyone_notified() == {crew.worker.id}
    note = notified(crew.worker)[0]
    assert notifications.text(note, "en") == "Li Wei mentioned you in a comment on Restock."
    second = comments.add_comment("task", task.id, "thanks @li.wei, done", crew.worker)
    assert [m.person_id for m in second.mentions] == [crew.manager.id]
    assert everyone_notified() == {crew.worker.id, crew.manager.id}


def test_a_mention_of_someone_who_may_not_see_the_target_notifies_nobody(crew):
    task = tasks.create_task({"title": "Private"}, crew.worker)
    crew.peer.name = "Peer Person"
    db.session.commit()
    comment = comments.add_comment("task", task.id, "@Peer Person @zhou.outsider look", crew.worker)
    assert comment.mentions == [] and everyone_notified() == set()


def test_one_notification_per_person_even_when_named_twice(crew):
    comments.add_comment("key_result", crew.kr.id, "@Li Wei and again @li.wei", crew.worker)
    assert len(notified(crew.manager)) == 1
    assert notified(crew.manager)[0].params["kind"] == "key_result"


def test_comments_visible_to_whoever_sees_the_target(crew):
    comments.add_comment("key_result", crew.kr.id, "On track", crew.worker)
    assert [c.body for c in comments.comments_for("key_result", crew.kr.id, crew.manager)] == ["On track"]
    assert comments.comments_for("key_result", crew.kr.id, crew.peer) == []  # a private person objective
    with pytest.raises(comments.CommentError) as refused:
        comments.add_comment("key_result", crew.kr.id, "let me in", crew.outsider)
    assert (refused.value.code, refused.value.status) == ("not_found", 404)


def test_scorecard_and_item_comments_link_to_the_scorecard(crew):
    card = crew.team.card(crew.worker)
    item = card.items[0]
    comments.add_comment("item", item.id, "@王芳 source?", crew.manager)
    assert notified(crew.worker)[0].scorecard_id == card.id
    comments.add_comment("scorecard", card.id, "Good quarter", crew.team.hr)
    assert [c.body for c in comments.comments_for("scorecard", card.id, crew.worker)] == ["Good quarter"]
    assert comments.comments_for("scorecard", card.id, crew.peer) == []


def test_refusals_and_audit(crew):
    with pytest.raises(comments.CommentError) as refused:
        comments.add_comment("key_result", crew.kr.id, "   ", crew.worker)
    assert (refused.value.code, refused.value.field) == ("body_required", "body")
    with pytest.raises(comments.CommentError):
        comments.add_comment("key_result", crew.kr.id, "x" * 5001, crew.worker)
    with pytest.raises(comments.CommentError) as refused:
        comments.add_comment("nonsense", 1, "hi", crew.worker)
    assert refused.value.status == 404
    client = UserFactory(role="client")
    with pytest.raises(comments.CommentError):
        comments.add_comment("key_result", crew.kr.id, "hi", client)
    comment = comments.add_comment("key_result", crew.kr.id, "hello @Li Wei", crew.worker)
    event = db.session.query(AuditEvent).filter_by(action="comment.add").one()
    assert (event.entity, event.entity_id) == ("key_result", str(crew.kr.id))
    assert str(comment.id) in event.after_json
