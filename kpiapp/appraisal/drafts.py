"""Drafts of the self- and manager review: what someone typed and has not saved yet.

A draft is private to its author (every function takes the author and only ever reads or
writes that author's row), is kept only while the author may still make that edit, and is
deleted when the review is saved (by the review services, whichever face saved it) or the
draft discarded. Autosaves come every few seconds while someone types, so the rows are not audited one by one: the audit log gets one event
when a draft is started and one when it ends (saved or discarded), without its text; what
the text becomes is audited when the review itself is saved (docs/appraisal.md, "Drafts").
Flushes, never commits: the face commits once."""

from kpiapp.appraisal import services
from kpiapp.appraisal.draft_rows import end, find, record  # noqa: F401  (end, find: part of this API)
from kpiapp.appraisal.workflow import Edit
from kpiapp.extensions import db
from kpiapp.models import ReviewDraft
from kpiapp.models.base import utcnow

STAGES = (Edit.SELF_REVIEW, Edit.MANAGER_REVIEW)
VALUE_MAX = 10_000  # more than any review input accepts (TEXT_MAX 5000); a paste beyond is cut


def save(card, author, stage, payload):
    """Keep what the author typed into the `stage` form ({input name: text}); returns the draft.

    Refused (ForbiddenError/ValidationError) unless the author may make that edit now."""
    stage = _checked(card, author, stage)
    payload = {str(name): str(value)[:VALUE_MAX] for name, value in payload.items()}
    draft = find(card, author, stage)
    if draft is None:
        draft = ReviewDraft(scorecard_id=card.id, user_id=author.id, stage=str(stage), payload=payload,
                            base_version=card.version_id)
        db.session.add(draft)
        db.session.flush()
        record("draft.started", draft, author)
    elif draft.payload != payload:
        draft.payload, draft.base_version, draft.saved_at = payload, card.version_id, utcnow()
        db.session.flush()
    return draft


def _checked(card, author, stage):
    try:
        stage = Edit(stage)
    except ValueError:
        raise services.NotFoundError("not_found", f"No draft kind {stage!r}.") from None
    if stage not in STAGES:
        raise services.NotFoundError("not_found", f"No draft kind {stage!r}.")
    if card.is_locked or stage not in services.permitted(card, author).edits:
        raise services.ValidationError("not_allowed_in_state", "This review cannot be edited now.")
    return stage
