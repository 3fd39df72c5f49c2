"""notifications store a message key and params, rendered in the reader's language when read

Existing rows: the English text they were stored with is matched against the messages of the
time; a match gets its key and params, a row that matches none keeps its text as the fallback.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03

"""
import re

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = "0010"
branch_labels = None
depends_on = None

# the English messages notifications were stored with before this revision (frozen here)
OLD_TEXTS = {
    "scorecard.draft": "Draft your targets for {cycle}.",
    "scorecard.returned": "Your targets for {cycle} were returned: please revise and resubmit.",
    "scorecard.submitted": "{person} submitted targets for {cycle}: please approve or return them.",
    "scorecard.hr_approval": "{person}'s targets for {cycle} need HR approval.",
    "scorecard.approved": "Your targets for {cycle} are approved.",
    "scorecard.self_review": "Self-review for {cycle} is open.",
    "scorecard.manager_review": "{person}'s scorecard for {cycle} is ready for your review.",
    "scorecard.calibration": "{person}'s scorecard for {cycle} is ready for calibration.",
    "scorecard.locked": "Your result for {cycle} is final: please acknowledge it.",
    "change_requested": "{actor} asks to change targets of {person}: {reason}",
    "change_approved": "Your change request for {cycle} was approved.",
    "change_rejected": "Your change request for {cycle} was rejected.",
    "objection": "{actor} objects to the result for {cycle}: {comment}",
}

notification = sa.table(
    'notification', sa.column('id', sa.Integer), sa.column('scorecard_id', sa.Integer),
    sa.column('message', sa.Text), sa.column('key', sa.String), sa.column('params', sa.JSON))
scorecard = sa.table('scorecard', sa.column('id', sa.Integer), sa.column('cycle_id', sa.Integer),
                     sa.column('person_id', sa.Integer))
cycle = sa.table('appraisal_cycle', sa.column('id', sa.Integer), sa.column('name', sa.String))
person = sa.table('user', sa.column('id', sa.Integer), sa.column('name', sa.String))


def pattern(text):
    """'{person} submitted ...' -> a regex with a named group per placeholder."""
    parts = re.split(r"\{(\w+)\}", text)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts)) + r"\Z",
                      re.DOTALL)


PATTERNS = [(key, pattern(text)) for key, text in OLD_TEXTS.items()]


def key_and_params(message, names):
    """The key whose text gives `message` with this scorecard's cycle and person names."""
    for key, regex in PATTERNS:
        match = regex.match(message or "")
        if match is None:
            continue
        params = {**names, **match.groupdict()}
        if all(params.get(k) == v for k, v in names.items() if k in match.groupdict()):
            return key, params
    return None, None


def upgrade():
    op.add_column('notification', sa.Column('key', sa.String(length=40), nullable=True))
    op.add_column('notification', sa.Column('params', sa.JSON(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(notification.c.id, notification.c.message, cycle.c.name.label('cycle'),
                  person.c.name.label('person'))
        .select_from(notification.outerjoin(scorecard, scorecard.c.id == notification.c.scorecard_id)
                     .outerjoin(cycle, cycle.c.id == scorecard.c.cycle_id)
                     .outerjoin(person, person.c.id == scorecard.c.person_id))
    ).all()
    for row in rows:
        names = {k: v for k, v in (("cycle", row.cycle), ("person", row.person)) if v is not None}
        key, params = key_and_params(row.message, names)
        if key is not None:
            bind.execute(notification.update().where(notification.c.id == row.id).values(key=key, params=params))


def downgrade():
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('params')
        batch.drop_column('key')
