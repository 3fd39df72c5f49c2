"""Data disputes (数据异议): raise, correct (new import or manual value), reject, close, and let
the lock through (docs/disputes.md; the state machine is dispute_flow.py).

Service rules as in services.py: the actor is passed in, guards first (dispute_flow.check with
the parties from policy.dispute_parties), a compare-and-set on the status so one of two people
acting at once wins, an explicit audit event on the scorecard, notifications; flush, never commit.
"""
from sqlalchemy import select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from kpiapp import audit, policy
from kpiapp.appraisal import dispute_flow, notifications
from kpiapp.appraisal.dispute_flow import ACTIVE_STATES, DisputeFacts, DisputeStep
from kpiapp.appraisal.dispute_flow import DisputeState as DS
from kpiapp.appraisal.services import (
    ConflictError, ForbiddenError, NotFoundError, ValidationError, acting, set_actual, set_manual_actual,
)
from kpiapp.appraisal.workflow import TransitionError
from kpiapp.extensions import db
from kpiapp.models import (
    Dispute, DisputeStore, ImportKind, ImportRecord, ImportStatus, Scorecard, StoreOwner, User,
)
from kpiapp.models.base import utcnow
from kpiapp.models.disputes import Resolution
from kpiapp.tracking import services as tracking

PAGE_SIZE = 50


# ---- what may be done -------------------------------------------------------------------

def facts_for_item(item, dispute=None):
    """The DisputeFacts of `item` (and of its dispute, when there is one)."""
    active = dispute is not None and dispute.status in ACTIVE_STATES
    if dispute is None:
        active = db.session.scalar(select(Dispute.id).where(
            Dispute.scorecard_item_id == item.id, Dispute.status.in_(ACTIVE_STATES))) is not None
    return _facts(item, active, overridden=dispute is not None and dispute.lock_override_at is not None)


def _facts(item, disputed, overridden=False):
    return DisputeFacts(data_backed=not item.is_manual and bool(item.metric_key), item_disputed=disputed,
                        locked=item.scorecard.is_locked, overridden=overridden)


def _own(user, scorecard, dispute):
    return user.id == scorecard.person_id or (dispute is not None and dispute.raised_by_id == user.id)


def permitted(user, item, dispute=None, facts=None):
    """The dispute steps `user` may take now on `dispute` (None: raising one on `item`)."""
    card = item.scorecard
    state, parties = dispute.status if dispute else None, policy.dispute_parties(user, card, dispute)
    return dispute_flow.permitted(state, parties, own=_own(user, card, dispute),
                                  facts=facts or facts_for_item(item, dispute))


def _check(item, dispute, step, actor, text):
    card = item.scorecard
    state, parties = dispute.status if dispute else None, policy.dispute_parties(actor, card, dispute)
    try:
        return dispute_flow.check(state, step, parties, own=_own(actor, card, dispute), text=text,
                                  facts=facts_for_item(item, dispute))
    except TransitionError as error:
        cls = ForbiddenError if error.code in ("forbidden", "own_dispute") else ValidationError
        field = "text" if error.code == "reason_required" else None
        raise cls(error.code, error.message, field=field) from None


def _record(step, dispute, actor, before=None, after=None):
    audit.record(db.session, f"dispute.{step}", "scorecard", dispute.scorecard_id,
                 before={"dispute_id": dispute.id, **(before or {})}, after=audit.to_jsonable(after or {}),
                 actor=audit.actor_for(actor))


# ---- the steps --------------------------------------------------------------------------

def raise_dispute(item, actor, comment):
    """Flag a data-backed item's actual with a comment; HR and the owners of the item's
    stores are told, and the scorecard cannot be locked while it is open."""
    _check(item, None, DisputeStep.RAISE, actor, comment)
    stores = scope_store_ids(item)
    dispute = Dispute(scorecard_item_id=item.id, scorecard_id=item.scorecard_id, raised_by_id=actor.id,
                      comment=comment.strip(), disputed_value=item.actual, status=DS.OPEN,
                      stores=[DisputeStore(store_id=s) for s in sorted(stores)])
    db.session.add(dispute)
    try:
        with acting(actor):
            db.session.flush()
    except IntegrityError:  # someone raised one on the same item at the same moment
        db.session.rollback()
        raise ValidationError("already_disputed", "This number already has an open dispute.") from None
    _record("raise", dispute, actor, after={"item_id": item.id, "status": DS.OPEN, "comment": dispute.comment,
                                            "value": item.actual})
    told = [u for u in handlers_of(stores) if u.id != actor.id]
    notifications.notify(told, item.scorecard, "dispute.raised", "dispute.raised", link=f"/disputes/{dispute.id}",
                         actor=actor.name, item=item.name, comment=dispute.comment)
    return dispute


def correct_by_import(dispute, actor, import_id, note, today=None):
    """Corrected by a new import: the item is recomputed from the facts now in the database (the
    import pipeline's own path), and the import must be one of its inputs (or FX rates)."""
    item = dispute.item
    _check(item, dispute, DisputeStep.CORRECT, actor, note)
    record = db.session.get(ImportRecord, import_id) if import_id else None
    if record is None or record.status != ImportStatus.committed:
        raise ValidationError("import_not_committed", "Name a committed import.", field="import_id")
    today = today or tracking.utc_today()
    value, as_of, provenance = tracking.compute_item(item, item.scorecard.cycle, today)
    if record.kind != ImportKind.fx and record.id not in provenance["import_ids"]:
        raise ValidationError("import_not_used", "This import is not among the number's inputs.",
                              field="import_id")
    with acting(actor):
        set_actual(item, value, as_of, provenance)
    return _corrected(dispute, actor, note, resolution=Resolution.IMPORT, corrected_import_id=record.id)


def correct_by_value(dispute, actor, value, reason):
    """Corrected by hand: the value and its reason go through services.set_manual_actual."""
    item = dispute.item
    _check(item, dispute, DisputeStep.CORRECT, actor, reason)
    set_manual_actual(item, value, reason, actor, dispute_id=dispute.id)
    return _corrected(dispute, actor, reason, resolution=Resolution.MANUAL, manual_value=item.actual)


def _corrected(dispute, actor, note, **values):
    _move(dispute, DisputeStep.CORRECT, DS.OPEN, DS.CORRECTED, actor, resolution_note=note.strip(),
          corrected_value=dispute.item.actual, handled_by_id=actor.id, handled_at=utcnow(), **values)
    _tell_raiser(dispute, "dispute.corrected")
    return dispute


def reject_dispute(dispute, actor, reason):
    """The number stands: rejected with a reason the raiser reads."""
    _check(dispute.item, dispute, DisputeStep.REJECT, actor, reason)
    _move(dispute, DisputeStep.REJECT, DS.OPEN, DS.REJECTED, actor, resolution_note=reason.strip(),
          handled_by_id=actor.id, handled_at=utcnow())
    _tell_raiser(dispute, "dispute.rejected", reason=reason.strip())
    return dispute


def close_dispute(dispute, actor, note=None):
    """A corrected dispute is closed by its raiser or a handler."""
    _check(dispute.item, dispute, DisputeStep.CLOSE, actor, note)
    _move(dispute, DisputeStep.CLOSE, DS.CORRECTED, DS.CLOSED, actor, closed_by_id=actor.id,
          closed_at=utcnow(), close_note=(note or "").strip() or None)
    _tell_raiser(dispute, "dispute.closed")
    return dispute


def override_lock(dispute, actor, reason):
    """HR lets the scorecard be locked although this dispute is still open; the dispute stays."""
    _check(dispute.item, dispute, DisputeStep.OVERRIDE_LOCK, actor, reason)
    _move(dispute, DisputeStep.OVERRIDE_LOCK, dispute.status, dispute.status, actor,
          lock_override_reason=reason.strip(), lock_override_by_id=actor.id, lock_override_at=utcnow())
    _tell_raiser(dispute, "dispute.lock_allowed", reason=reason.strip())
    return dispute


def override_lock_for(scorecard, actor, reason):
    """Let the lock through for every active, not yet overridden dispute of `scorecard`."""
    blocking = [d for d in active_disputes(scorecard) if d.lock_override_at is None]
    if not blocking:
        raise ValidationError("no_open_dispute", "No open dispute blocks this scorecard.")
    return [override_lock(d, actor, reason) for d in blocking]


def _move(dispute, step, old, new, actor, **values):
    """Compare-and-set the status: of two people acting at once one wins, the other gets a
    ConflictError and nothing of the step is kept; audited as dispute.<step> on the scorecard."""
    guard = Dispute.lock_override_at.is_(None) if step == DisputeStep.OVERRIDE_LOCK else true()
    moved = db.session.execute(update(Dispute).where(Dispute.id == dispute.id, Dispute.status == old, guard)
                               .values(status=new, **values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        scorecard_id = dispute.scorecard_id
        db.session.rollback()
        raise ConflictError(scorecard_id)
    db.session.refresh(dispute)
    _record(step, dispute, actor, before={"status": old},
            after={"status": new, **{k: v for k, v in values.items() if not k.endswith("_at")}})


def _tell_raiser(dispute, key, **params):
    card = dispute.scorecard
    told = {dispute.raised_by_id: dispute.raised_by, card.person_id: card.person}
    notifications.notify(list(told.values()), card, key, key, link=f"/disputes/{dispute.id}", item=dispute.item.name,
                         **params)


# ---- reading ----------------------------------------------------------------------------

def panel(card, user):
    """What the scorecard page shows of disputes, in two queries: every dispute (newest
    first), the active one per item, and on which items `user` may raise one."""
    every = disputes_of(card)
    active = {d.scorecard_item_id: d for d in every if d.status in ACTIVE_STATES}
    parties, own = policy.dispute_parties(user, card), user.id == card.person_id
    can_raise = {item.id: DisputeStep.RAISE in dispute_flow.permitted(
        None, parties, own=own, facts=_facts(item, item.id in active)) for item in card.items}
    return {"all": every, "active": active, "can_raise": can_raise}


def blocking(scorecard_ids):
    """{scorecard id: [active disputes without a lock override]}: what keeps these from the lock."""
    rows = db.session.execute(select(Dispute).where(
        Dispute.scorecard_id.in_(scorecard_ids), Dispute.status.in_(ACTIVE_STATES),
        Dispute.lock_override_at.is_(None)).order_by(Dispute.id)
        .options(selectinload(Dispute.item))).scalars()
    found = {}
    for dispute in rows:
        found.setdefault(dispute.scorecard_id, []).append(dispute)
    return found


def recent_imports(dispute, limit=20):
    """Committed imports a handler may name as the correction: of the item's stores, or FX
    rates, newest first."""
    stores = dispute.store_ids or {0}
    return list(db.session.execute(select(ImportRecord).where(
        ImportRecord.status == ImportStatus.committed,
        (ImportRecord.store_id.in_(stores)) | (ImportRecord.kind == ImportKind.fx))
        .order_by(ImportRecord.id.desc()).limit(limit)).scalars())


def get_dispute(dispute_id):
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFoundError("not_found", f"Dispute {dispute_id} not found.")
    return dispute


def scope_store_ids(item):
    return {int(entry["store_id"]) for entry in item.scope or () if entry.get("store_id") is not None}


def handlers_of(store_ids):
    """HR and the active owners of these stores: who hears of a new dispute."""
    owner_ids = select(StoreOwner.person_id).where(StoreOwner.store_id.in_(store_ids or [0]))
    owners = db.session.execute(select(User).where(User.id.in_(owner_ids), User.active.is_(True))
                                .order_by(User.id)).scalars().all()
    return list({u.id: u for u in [*notifications.hr_users(), *owners]}.values())


def active_disputes(scorecard):
    """The open and corrected disputes of `scorecard`, oldest first."""
    return list(db.session.execute(select(Dispute).where(
        Dispute.scorecard_id == scorecard.id, Dispute.status.in_(ACTIVE_STATES))
        .order_by(Dispute.id)).scalars())


def disputes_of(scorecard):
    """Every dispute of a scorecard, newest first (the scorecard page's list)."""
    return list(db.session.execute(select(Dispute).where(Dispute.scorecard_id == scorecard.id)
                                   .order_by(Dispute.id.desc())).scalars())


def queue(user, before=None, status=None):
    """(disputes in `user`'s queue, the id to page on or None): active ones unless `status`
    says otherwise, newest first, keyset-paged on the id; loads what the page shows."""
    states = [status] if status in {str(s) for s in DS} else list(ACTIVE_STATES)
    query = (select(Dispute).where(policy.handled_disputes_filter(user), Dispute.status.in_(states))
             .order_by(Dispute.id.desc()).limit(PAGE_SIZE + 1)
             .options(selectinload(Dispute.item), selectinload(Dispute.raised_by),
                      selectinload(Dispute.scorecard).selectinload(Scorecard.person),
                      selectinload(Dispute.scorecard).selectinload(Scorecard.cycle)))
    if before is not None:
        query = query.where(Dispute.id < before)
    rows = list(db.session.execute(query).scalars())
    return rows[:PAGE_SIZE], (rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None)
