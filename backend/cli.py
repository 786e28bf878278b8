"""Flask CLI: flask seed-demo, flask create-admin."""
from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from backend.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--history/--no-history", default=True,
                  help="also 60 days of visits and four months of settled redemptions (the browser tests leave "
                       "them out unless a test module asks for them)")
    def seed_demo(history: bool):
        """Jining demo data: a 喵小创 space, a startup street, three 创贷之家 stations, one user per role."""
        from backend import demo

        demo.seed(history=history)
        db.session.commit()
        click.echo("演示数据已就绪 / demo data ready. Demo logins (phone; SMS code printed in the log):")
        for role, phone, name in demo.logins():
            click.echo(f"  {role:<15} {name}  {phone}")

    @app.cli.command("create-admin")
    @click.option("--phone", prompt="手机号 phone", help="the administrator's mobile number")
    @click.option("--name", prompt="姓名 name", help="the administrator's name")
    def create_admin(phone: str, name: str):
        """Create an administrator (or give an existing user the admin role)."""
        from backend.accounts import service
        from backend.accounts.enums import Role
        from backend.core.validators import is_phone

        if not is_phone(phone):
            raise click.BadParameter("请输入正确的 11 位手机号", param_hint="--phone")
        user = service.find_by_phone(phone=phone)
        if user is None:
            user = service.create_user(phone=phone, name=name, roles=(Role.admin,))
            from backend.core import audit

            audit.record(actor=None, action="role.grant", target_type="user", target_id=user.id,
                         after={"role": "admin", "place_id": None})
        else:
            service.grant_role(actor=None, user=user, role=Role.admin)
        db.session.commit()
        click.echo(f"管理员已就绪 / admin ready: user {user.id}")

    programme_group = click.Group("programme", help="The programme's yearly targets (reference data).")
    app.cli.add_command(programme_group)

    @programme_group.command("seed-targets")
    @with_appcontext
    def programme_seed_targets():
        """Add the plans' targets (2025–2026) that are not there yet; edited ones stay as they are."""
        from backend.programme import seed

        added = seed.seed()
        db.session.commit()
        click.echo(f"年度目标已就绪 / targets ready: {added} added")

    loans_group = click.Group("loans", help="创业担保贷款: the rules and partner banks (reference data).")
    app.cli.add_command(loans_group)

    @loans_group.command("seed")
    @with_appcontext
    def loans_seed():
        """Add the province's loan rules and the partner banks that are not there yet."""
        from backend.loans import seed

        added = seed.seed()
        db.session.commit()
        click.echo(f"贷款规则与合作银行已就绪 / loan rules and banks ready: {added} added")

    keys_group = click.Group("keys", help="Server signing keys (Ed25519) for QR codes, kept in the database.")
    app.cli.add_command(keys_group)

    @keys_group.command("rotate")
    @click.option("--if-none", is_flag=True, help="only when there is no active key yet (safe in a start script)")
    @with_appcontext
    def keys_rotate(if_none: bool):
        """Make a new signing key; every server signs with it within SIGNING_KEYS_REFRESH_SECONDS, older
        active keys keep verifying."""
        from backend.core.keys import keyring

        if if_none and keyring().public_listing():
            click.echo("已有签名密钥 / an active signing key exists: nothing made")
            return
        kid = keyring().rotate()
        db.session.commit()
        click.echo(f"新签名密钥已启用 / new signing key active: kid {kid}")

    @keys_group.command("list")
    @with_appcontext
    def keys_list():
        """List key ids and their status."""
        from backend.core.keys import keyring

        for entry in keyring().listing():
            click.echo(f"kid {entry['kid']:>3}  {entry['status']:<8} {entry['created_at']}")

    @keys_group.command("retire")
    @click.argument("kid", type=int)
    @with_appcontext
    def keys_retire(kid: int):
        """Stop trusting a key: codes signed with it are refused (unknown_key), on every server within
        SIGNING_KEYS_REFRESH_SECONDS."""
        from backend.core.keys import keyring

        ring = keyring()
        if kid == ring.signer()[0] and len(ring.public_keys()) == 1:
            raise click.ClickException("不能停用唯一的签名密钥，请先 flask keys rotate / rotate first")
        try:
            ring.retire(kid)
        except KeyError:
            raise click.ClickException(f"没有这个密钥 / no key {kid}") from None
        db.session.commit()
        click.echo(f"密钥 {kid} 已停用 / key {kid} retired")

    @keys_group.command("import")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False))
    @with_appcontext
    def keys_import(directory: str):
        """Import the keys an older checkout kept on disk (<kid>.pem and keyring.json) with their kids."""
        from backend.core.keys import keyring

        imported, skipped = keyring().import_directory(directory)
        db.session.commit()
        click.echo(f"已导入 {imported} 个密钥，跳过 {skipped} 个 / imported {imported}, skipped {skipped} (kid present)")

    @keys_group.command("rewrap")
    @with_appcontext
    def keys_rewrap():
        """Encrypt the private keys again under the first KEY_ENCRYPTION_KEY (after putting a new one first)."""
        from backend.core.keys import keyring

        count = keyring().rewrap()
        db.session.commit()
        click.echo(f"已重新加密 {count} 个私钥 / re-encrypted {count} private keys")

    uploads_group = click.Group("uploads", help="Uploaded files, kept in the database.")
    app.cli.add_command(uploads_group)

    @uploads_group.command("import")
    @click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
    @with_appcontext
    def uploads_import(directory: str | None):
        """Copy an older checkout's upload files (<sha256>.<ext>, default UPLOAD_DIR or instance/uploads)
        into the database for the uploads that have no content there yet."""
        from backend.core import uploads

        folder = directory or app.config.get("UPLOAD_DIR") or os.path.join(app.instance_path, "uploads")
        imported, missing = uploads.import_directory(folder)
        db.session.commit()
        click.echo(f"已导入 {imported} 个文件，仍缺 {missing} 个 / imported {imported}, still missing {missing}")
        if missing:
            raise SystemExit(1)

    @app.cli.command("db-check")
    def db_check():
        """Print which database the app uses."""
        click.echo(db.engine.url.render_as_string(hide_password=True))
        db.session.execute(sa.text("SELECT 1"))

    _register_scheduler(app)

    vouchers_group = click.Group("vouchers", help="创业券 scheduled work: expiry and reminders.")
    app.cli.add_command(vouchers_group)

    @vouchers_group.command("expire")
    @with_appcontext
    def vouchers_expire():
        """Expire vouchers past their date; what was left goes back to the batch (run daily)."""
        from backend.vouchers import expiry

        result = expiry.expire_due()
        db.session.commit()
        click.echo(f"已过期 {result['expired']} 张，退回批次 {result['returned'] / 100:.2f} 元 / "
                   f"expired {result['expired']}, returned {result['returned']} fen")

    @vouchers_group.command("remind")
    @click.option("--days", type=int, default=None, help="remind this many days before expiry (default VOUCHER_REMIND_DAYS)")
    @with_appcontext
    def vouchers_remind(days):
        """Remind holders whose vouchers expire soon (once per voucher; run daily)."""
        from backend.vouchers import expiry

        count = expiry.remind_due(days=days)
        db.session.commit()
        click.echo(f"已提醒 {count} 张 / reminded {count}")

    @vouchers_group.command("check")
    @with_appcontext
    def vouchers_check():
        """Check the ledger: every balance equals the sum of its entries, no batch over its caps."""
        from backend.vouchers import ledger

        _report(ledger.check_invariants(), ok="账目一致 / ledger ok")

    events_group = click.Group("events", help="活动 scheduled work: the day-before reminders.")
    app.cli.add_command(events_group)

    @events_group.command("remind")
    @with_appcontext
    def events_remind():
        """Remind everyone holding a seat in an event that starts tomorrow (once per registration; run daily)."""
        from backend.events import reminders

        counts = reminders.remind()
        click.echo(f"已提醒 {counts['notified']} 人，微信订阅消息 {counts['sent']} 条 / "
                   + ", ".join(f"{key} {value}" for key, value in counts.items()))

    @events_group.command("check")
    @with_appcontext
    def events_check():
        """Check every event: seats taken equals registered people, never above capacity."""
        from backend.events import registrations

        _report(registrations.check_invariants(), ok="名额一致 / seats ok")


def _register_scheduler(app: Flask) -> None:
    group = click.Group("scheduler", help="定时任务: the scheduler process and its jobs.")
    app.cli.add_command(group)

    @group.command("run")
    @with_appcontext
    def scheduler_run():
        """Run the scheduler until stopped (SIGTERM/Ctrl-C): each job on its schedule, once across processes."""
        from flask import current_app

        from backend.scheduler import process

        process.serve(current_app._get_current_object())

    @group.command("run-once")
    @click.argument("job")
    @click.option("--retry/--no-retry", default=False, help="retry a failed run after SCHEDULER_RETRY_DELAYS")
    @with_appcontext
    def scheduler_run_once(job: str, retry: bool):
        """Run one job now (recorded in job_run like a scheduled run); a failed run exits non-zero."""
        from backend.scheduler import jobs, runner
        from backend.scheduler.enums import Outcome, RunTrigger

        if jobs.get(job) is None:
            raise click.BadParameter(f"没有这个定时任务 / no job {job!r}; one of: {', '.join(jobs.JOBS)}",
                                     param_hint="JOB")
        entry = runner.run(job, trigger=RunTrigger.cli, delays=None if retry else ())
        counts = ", ".join(f"{key} {value}" for key, value in entry.counts.items())
        click.echo(f"{jobs.get(job).label} / {job}: {entry.outcome.value} (attempt {entry.attempt}) {counts}".rstrip())
        if entry.outcome == Outcome.skipped:
            click.echo(entry.error)
        if entry.outcome == Outcome.failed:
            raise click.ClickException(entry.error)

    @group.command("list")
    @with_appcontext
    def scheduler_list():
        """Each job: its schedule, next run (Beijing time) and last outcome."""
        from backend.core.localtime import LOCAL
        from backend.scheduler import service

        for row in service.overview():
            last = row["last_run"]
            nxt = row["next_run_at"].astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if row["next_run_at"] else "-"
            outcome = f"{last.outcome.value} {last.started_at.astimezone(LOCAL):%m-%d %H:%M}" if last else "never"
            click.echo(f"{row['job']:<18} {row['label']:<12} next {nxt}  last {outcome}  ({row['schedule']})")


def _report(problems: list[str], *, ok: str) -> None:
    """An invariant check's outcome: each problem on its own line and a failing exit, or ``ok``."""
    for line in problems:
        click.echo(line)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    click.echo(ok)
