"""The "a second factor was set up" notice: dismissing it, and reporting "not you"."""

from flask import flash, redirect, render_template, request, url_for

from app.authz.pages import person_required, web_actor
from app.authz.sessions import current_person
from app.errors import RequestValidationFailed
from app.pages.second_factor import bp
from app.second_factor import actions, notices

NOTE_MAX = 1000


# Signed-in level only: someone who replaced the person's factor has locked them
# out of the second factor, and they must still be able to say so.
@bp.get(notices.REPORT_PATH)
@person_required
def report():
    person = current_person()
    return render_template(
        "second_factor/report.html", change=notices.recent_change(person.id), note_max=NOTE_MAX
    )


@bp.post(notices.REPORT_PATH)
@person_required
def send_report():
    person = current_person()
    note = " ".join(request.form.get("note", "").split())
    if len(note) > NOTE_MAX:
        raise RequestValidationFailed(
            f"Say it in at most {NOTE_MAX} characters, or leave the note empty.", code="note"
        )
    actions.report_not_me(web_actor(person), person, note)
    flash(
        "Thank you: the administrators were told and will reset your second factor and "
        "check your account. Until then, do not use that second factor.",
        "success",
    )
    return redirect(url_for("portal.home"), 303)


@bp.post("/second-factor/notice/dismiss")
@person_required
def dismiss_notice():
    person = current_person()
    actions.dismiss_notice(web_actor(person), person)
    return redirect(url_for("portal.home"), 303)
