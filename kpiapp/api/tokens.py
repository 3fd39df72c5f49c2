"""The account page where a person creates and revokes their API tokens."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from kpiapp.extensions import db
from kpiapp.models.api_tokens import ApiToken, hash_token, new_secret
from kpiapp.models.base import utcnow
from kpiapp.policy import STAFF, allow

bp = Blueprint("api_tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(_l("What is this token for?"), validators=[DataRequired(), Length(max=80)])


def my_tokens():
    query = select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    return db.session.execute(query).scalars().all()


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@allow(STAFF)
def index():
    form, secret = TokenForm(), None
    if form.validate_on_submit():
        secret = new_secret()  # shown once on this response, stored only as a hash
        db.session.add(
            ApiToken(
                user_id=current_user.id,
                name=form.name.data.strip(),
                token_hash=hash_token(secret),
                hint=secret[:8],
            )
        )
        db.session.commit()
        form = TokenForm(formdata=None)
    return render_template("inbox/api_tokens.html", form=form, secret=secret, tokens=my_tokens())


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@allow(STAFF)
def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for(".index"))
