"""/api/v1 comments on key results, scorecards and KPI items (tasks have theirs in tasks.py):
read and written through the same service (kpiapp/objectives/comments.py) and the same policy
as the screens (policy.can_view_comment_target); a target the caller may not see is a 404."""

from flask import jsonify
from flask_login import current_user

from kpiapp.api import task_schemas
from kpiapp.api.routes import bp
from kpiapp.api.tasks import body_through, comment_json
from kpiapp.extensions import db
from kpiapp.models import CommentTarget
from kpiapp.objectives import comments
from kpiapp.policy import STAFF, allow


def listed(kind, target_id):
    target = comments.load_target(kind, target_id, current_user)
    return jsonify(comments=[comment_json(c) for c in comments.comments_for(kind, target.id, current_user)])


def added(kind, target_id):
    target = comments.load_target(kind, target_id, current_user)
    body = body_through(task_schemas.TaskCommentBody)["body"]
    comment = comments.add_comment(kind, target.id, body, current_user)
    db.session.commit()
    return jsonify(comment_json(comment)), 201


@bp.route("/key-results/<int:kr_id>/comments")
@allow(STAFF)
def key_result_comments(kr_id):
    """---
    get:
      summary: The comments on a key result, oldest first
      operationId: listKeyResultComments
      responses:
        200: {description: OK, content: {application/json: {schema: TaskCommentList}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return listed(CommentTarget.key_result, kr_id)


@bp.route("/key-results/<int:kr_id>/comments", methods=["POST"])
@allow(STAFF)
def add_key_result_comment(kr_id):
    """---
    post:
      summary: Comment on a key result; each @mentioned person who may see it is notified
      operationId: addKeyResultComment
      requestBody:
        required: true
        content: {application/json: {schema: TaskCommentBody}}
      responses:
        201: {description: Created, content: {application/json: {schema: TaskComment}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    return added(CommentTarget.key_result, kr_id)


@bp.route("/scorecards/<int:scorecard_id>/comments")
@allow(STAFF)
def scorecard_comments(scorecard_id):
    """---
    get:
      summary: The comments on a scorecard, oldest first
      operationId: listScorecardComments
      responses:
        200: {description: OK, content: {application/json: {schema: TaskCommentList}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return listed(CommentTarget.scorecard, scorecard_id)


@bp.route("/scorecards/<int:scorecard_id>/comments", methods=["POST"])
@allow(STAFF)
def add_scorecard_comment(scorecard_id):
    """---
    post:
      summary: Comment on a scorecard; each @mentioned person who may see it is notified
      operationId: addScorecardComment
      requestBody:
        required: true
        content: {application/json: {schema: TaskCommentBody}}
      responses:
        201: {description: Created, content: {application/json: {schema: TaskComment}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    return added(CommentTarget.scorecard, scorecard_id)


@bp.route("/scorecards/<int:scorecard_id>/items/<int:item_id>/comments")
@allow(STAFF)
def item_comments(scorecard_id, item_id):
    """---
    get:
      summary: The comments on one KPI item of a scorecard, oldest first
      operationId: listScorecardItemComments
      responses:
        200: {description: OK, content: {application/json: {schema: TaskCommentList}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    return listed(CommentTarget.item, item_of(scorecard_id, item_id))


@bp.route("/scorecards/<int:scorecard_id>/items/<int:item_id>/comments", methods=["POST"])
@allow(STAFF)
def add_item_comment(scorecard_id, item_id):
    """---
    post:
      summary: Comment on one KPI item of a scorecard; each @mentioned person who may see it is notified
      operationId: addScorecardItemComment
      requestBody:
        required: true
        content: {application/json: {schema: TaskCommentBody}}
      responses:
        201: {description: Created, content: {application/json: {schema: TaskComment}}}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: Refused
    """
    return added(CommentTarget.item, item_of(scorecard_id, item_id))


def item_of(scorecard_id, item_id):
    """The item id when it belongs to that scorecard (visibility is checked by load_target)."""
    item = comments.load_target(CommentTarget.item, item_id, current_user)
    if item.scorecard_id != scorecard_id:
        raise comments.CommentError("not_found", "Not found.", status=404)
    return item.id
