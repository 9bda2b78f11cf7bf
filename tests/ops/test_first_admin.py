"""A new deployment has no demo staff: the operator creates the first admin from the command
line, who then signs in and manages staff through the API."""
from __future__ import annotations

import uuid


def test_the_first_admin_is_created_from_the_command_line_and_can_sign_in(app, committed_client):
    email = f"First.Admin-{uuid.uuid4().hex[:6]}@bacninh.gov.vn"
    password = "a-long-operator-password-7"
    runner = app.test_cli_runner()
    out = runner.invoke(args=["staff", "create-admin", email, "--name", "Nguyễn Văn Quản Trị"],
                        env={"ADMIN_PASSWORD": password})
    assert out.exit_code == 0, out.output
    r = committed_client.post("/api/v1/auth/login",
                              json={"email": email.lower(), "password": password})
    assert r.status_code == 200, r.json
    token = {"Authorization": f"Bearer {r.json['access_token']}"}
    staff = committed_client.get("/api/v1/admin/staff", headers=token)
    assert staff.status_code == 200, staff.json
    again = runner.invoke(args=["staff", "create-admin", email], env={"ADMIN_PASSWORD": password})
    assert again.exit_code != 0 and "already has an account" in again.output


def test_a_short_or_demo_password_is_refused(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["staff", "create-admin", "x@bacninh.gov.vn"],
                          env={"ADMIN_PASSWORD": "short"})
    assert short.exit_code != 0 and "12 to 200" in short.output
    bad = runner.invoke(args=["staff", "create-admin", "not-an-email"],
                        env={"ADMIN_PASSWORD": "long-enough-password-1"})
    assert bad.exit_code != 0 and "email" in bad.output
