"""The review-draft rows themselves: find the author's draft, end it (docs/appraisal.md, "Drafts").

Apart from drafts.py so that the review services end the author's draft when the review is
saved, through any face (a page, the API), without importing the module that asks the
services who may edit. Flushes, never commits."""

from sqlalchemy import select

from kpiapp import audit
from kpiapp.extensions import db
from kpiapp.models import ReviewDraft


def find(card, author, stage):
    """The author's draft of `stage` on this scorecard, or None."""
    query = select(ReviewDraft).where(ReviewDraft.scorecard_id == card.id, ReviewDraft.user_id == author.id,
                                      ReviewDraft.stage == str(stage))
    return db.session.execute(query).scalars().first()


def end(card, author, stage, how):
    """Delete the author's draft of `stage` (if any): `how` is "saved" or "discarded"."""
    draft = find(card, author, stage)
    if draft is not None:
        record(f"draft.{how}", draft, author)
        db.session.delete(draft)
        db.session.flush()


def record(action, draft, author):
    audit.record(db.session, action, "scorecard", draft.scorecard_id, after={"stage": draft.stage},
                 actor=audit.actor_for(author))
