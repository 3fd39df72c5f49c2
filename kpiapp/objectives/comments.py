"""Comments with @mentions on scorecards, KPI items, key results, tasks and disputes
(docs/objectives.md, "Comments and mentions").

A comment is visible to whoever may see its target (policy.can_view_comment_target). `@`
followed by a person's e-mail local part or name mentions them; each mentioned person who may
see the target gets one in-app notification (key `comment.mention`): nobody else, never the
author. Flush, never commit.
"""
from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from kpiapp import audit, policy
from kpiapp.extensions import db
from kpiapp.notifications.services import notify
from kpiapp.models import (
    Comment, CommentMention, CommentTarget, Dispute, KeyResult, Role, Scorecard, ScorecardItem, Task,
    User,
)

BODY_MAX = 5000
MENTION_MAX = 20
# what may follow "@": the first word is looked up (name start or e-mail local part)
MENTION_START = re.compile(r"(?<![\w.])@([\w][\w.\-]*)", re.UNICODE)
MODELS = {
    CommentTarget.scorecard: Scorecard,
    CommentTarget.item: ScorecardItem,
    CommentTarget.key_result: KeyResult,
    CommentTarget.task: Task,
    CommentTarget.dispute: Dispute,
}


class CommentError(Exception):
    """A refused comment; `code` stable for the UI and tests, `field` the input it is about."""

    def __init__(self, code, message, field=None, status=422):
        super().__init__(message)
        self.code, self.field, self.message, self.status = code, field, message, status


def target_kind(kind) -> CommentTarget:
    try:
        return CommentTarget(kind)
    except ValueError:
        raise CommentError("unknown_target", "Unknown comment target.", status=404) from None


def load_target(kind, target_id, user):
    """The target object if `user` may see it; CommentError 404 otherwise (existence not revealed)."""
    kind = target_kind(kind)
    try:
        target = db.session.get(MODELS[kind], int(target_id))
    except (TypeError, ValueError):
        target = None
    if target is None or not policy.can_view_comment_target(user, kind, target):
        raise CommentError("not_found", "Not found.", status=404)
    return target


def scorecard_of(kind, target):
    """The scorecard a target belongs to (the notification's link), or None."""
    if kind == CommentTarget.scorecard:
        return target.id
    if kind in (CommentTarget.item, CommentTarget.dispute):
        return target.scorecard_id
    return None


def target_label(kind, target):
    """A short name of the target for the notification ("GMV", a task's title)."""
    if kind == CommentTarget.scorecard:
        return f"{target.person.name} · {target.cycle.name}"
    if kind == CommentTarget.item:
        return target.name
    if kind in (CommentTarget.key_result, CommentTarget.task):
        return target.title
    return target.item.name


# ---- mentions --------------------------------------------------------------------------------

def mention_candidates(words):
    """Active staff whose name starts with, or whose e-mail local part is, one of `words`."""
    if not words:
        return []
    clauses = []
    for word in words:
        lowered = word.lower()
        clauses.append(func.lower(User.email).like(f"{escape_like(lowered)}@%", escape="\\"))
        clauses.append(func.lower(User.name).like(f"{escape_like(lowered)}%", escape="\\"))
    query = select(User).where(User.active.is_(True), User.role != Role.client, or_(*clauses))
    return list(db.session.execute(query.limit(200)).scalars())


def escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def match_at(text, people):
    """The person named right after an "@" (`text` starts after it): the e-mail local part, or
    the longest name the text starts with (names may hold spaces or be Chinese)."""
    lowered = text.lower()
    best, best_len = None, 0
    for person in people:
        local = person.email.split("@", 1)[0].lower()
        for name in (local, person.name.lower()):
            follows = lowered[len(name):len(name) + 1]
            fits = lowered.startswith(name) and not (follows.isalnum() or follows == "_")
            if fits and len(name) > best_len:
                best, best_len = person, len(name)
    return best


def mentioned_people(body):
    """The people `body` mentions, in order of first mention, without repeats."""
    starts = list(MENTION_START.finditer(body))[:MENTION_MAX]
    people = mention_candidates({m.group(1).rstrip(".-") for m in starts})
    found = []
    for start in starts:
        person = match_at(body[start.start() + 1:], people)
        if person is not None and person not in found:
            found.append(person)
    return found


# ---- writes --------------------------------------------------------------------------------------

def add_comment(kind, target_id, body, actor) -> Comment:
    """A comment by `actor` on a target they may see; each mentioned person who may see the target
    (never the author) gets one notification `comment.mention`."""
    kind = target_kind(kind)
    target = load_target(kind, target_id, actor)
    text = (body or "").strip()
    if not text:
        raise CommentError("body_required", "Write a comment.", "body")
    if len(text) > BODY_MAX:
        raise CommentError("body_too_long", f"At most {BODY_MAX} characters.", "body")
    told = [p for p in mentioned_people(text)
            if p.id != actor.id and policy.can_view_comment_target(p, kind, target)]
    comment = Comment(target_kind=kind, target_id=target.id, body=text, author_id=actor.id,
                      mentions=[CommentMention(person_id=p.id) for p in told])
    db.session.add(comment)
    db.session.flush()
    audit.record(db.session, "comment.add", kind.value, target.id,
                 after={"comment_id": comment.id, "mentions": [p.id for p in told]}, actor=audit.actor_for(actor))
    notify_mentions(told, kind, target, comment, actor)
    return comment


def notify_mentions(people, kind, target, comment, actor):
    params = {"actor": actor.name, "target": target_label(kind, target), "kind": kind.value,
              "target_id": target.id, "comment_id": comment.id}
    if kind == CommentTarget.item:  # which page shows it, known without a query when the inbox links it
        params["data_backed"] = bool(target.metric_key and not target.is_manual)
    scorecard_id = scorecard_of(kind, target)
    scorecard = db.session.get(Scorecard, scorecard_id) if scorecard_id else None
    notify(people, "comment.mention", "comment.mention", link=target_link(kind, target, comment, params),
           scorecard=scorecard, **params)


def target_link(kind, target, comment, params):
    """The app path the mention links to (the page showing the target's comments)."""
    if kind == CommentTarget.item:
        if not params.get("data_backed"):
            return f"/scorecards/{target.scorecard_id}#item-{target.id}"
        path = f"/provenance/items/{target.id}"
    else:
        path = {CommentTarget.task: "/tasks/{}", CommentTarget.scorecard: "/scorecards/{}",
                CommentTarget.key_result: "/key-results/{}", CommentTarget.dispute: "/disputes/{}"}[kind].format(target.id)
    return f"{path}#comment-{comment.id}"


# ---- reading -------------------------------------------------------------------------------------

def comments_for(kind, target_id, user) -> list[Comment]:
    """The comments on a target, oldest first; [] when `user` may not see the target."""
    kind = target_kind(kind)
    try:
        load_target(kind, target_id, user)
    except CommentError:
        return []
    query = (select(Comment).where(Comment.target_kind == kind, Comment.target_id == int(target_id))
             .order_by(Comment.created_at, Comment.id)
             .options(selectinload(Comment.author), selectinload(Comment.mentions).selectinload(CommentMention.person)))
    return list(db.session.execute(query).scalars())
