//! Secrets at rest: robot URLs, DingTalk secrets and webhook secrets are stored encrypted
//! (`v1:…`), the worker still sends with the right key and signature, the start-up upgrade
//! encrypts plaintext rows, rotation re-encrypts them all, and a missing or wrong key stops the
//! start with a message that says what to do.

use channeldesk::db::schema::{bot_channels as bc, data_upgrades as du, webhooks as wh};
use channeldesk::db::{Db, DbUrl};
use channeldesk::notify::secrets;
use channeldesk::secrets::SecretKey;
use diesel::prelude::*;
use serde_json::json;

use crate::both;
use crate::delivery::{channel, drain, worker, TestClock};
use crate::fake_robot::FakeRobot;
use crate::helpers::TestApp;

const DING_SECRET: &str = "SECc0ffee-signing-secret";
const HOOK_SECRET: &str = "whsec-0123456789abcdef";

/// A signed DingTalk robot and a webhook, both for `partner.*`: `(channel id, webhook id)`.
async fn targets(app: &TestApp, robot: &FakeRobot) -> (String, String) {
    robot.expect_dingtalk(Some(DING_SECRET), None);
    robot.expect_webhook_secret(HOOK_SECRET);
    let body = json!({"platform": "dingtalk", "name": "钉钉群", "webhook_url": robot.dingtalk_url("dt-token-1"), "secret": DING_SECRET});
    let ch = channel(app, body, json!(["partner.*"])).await;
    let hook = json!({"name": "crm", "url": robot.hook_url(), "secret": HOOK_SECRET, "event_types": ["partner.*"]});
    let res = app.post("/api/v1/webhooks", hook).send().await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    (ch, res.id())
}

/// The stored credential columns: `(channel url, channel secret, webhook secret)`.
fn stored(app: &TestApp, ch: &str, hook: &str) -> (String, Option<String>, String) {
    app.with_conn(|c| {
        let (url, secret) = bc::table.find(ch).select((bc::webhook_url, bc::secret)).first(c).unwrap();
        (url, secret, wh::table.find(hook).select(wh::secret).first(c).unwrap())
    })
}

/// Sends one partner event and checks the robot got it signed with its secret on its token, and
/// the webhook with its signature.
async fn sends_correctly(app: &TestApp, robot: &FakeRobot, name: &str) {
    let before = robot.received().len();
    app.partner(name).await;
    drain(&worker(app, &TestClock::new())).await;
    robot.assert_all_valid();
    let got = robot.received();
    assert_eq!(got.len(), before + 2, "robot and webhook: {got:?}");
    assert!(robot.received_by("dt-token-1").last().unwrap().text().contains(name));
    assert!(got.iter().any(|r| r.path == "/hook" && r.raw.contains(name)));
}

both!(secrets_are_stored_encrypted_and_sending_still_works, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let (ch, hook) = targets(&app, &robot).await;
    let (url, secret, hook_secret) = stored(&app, &ch, &hook);
    for (value, plain) in [(&url, "dt-token-1"), (secret.as_ref().unwrap(), DING_SECRET), (&hook_secret, HOOK_SECRET)] {
        assert!(value.starts_with("v1:") && !value.contains(plain), "stored as {value}");
    }
    let shown = app.get(&format!("/api/v1/bot-channels/{ch}")).send().await;
    assert_eq!(shown.body["webhook_url"], format!("{}/robot/send?access_token=****", robot.base));
    assert_eq!(shown.body["secret_set"], true);
    assert!(!shown.text.contains(DING_SECRET) && !shown.text.contains("v1:"), "{}", shown.text);
    sends_correctly(&app, &robot, "加密伙伴").await;
    // A change that leaves the credentials alone keeps them working.
    app.patch(&format!("/api/v1/bot-channels/{ch}"), json!({"name": "钉钉群2"})).send().await;
    app.patch(&format!("/api/v1/webhooks/{hook}"), json!({"name": "crm2"})).send().await;
    sends_correctly(&app, &robot, "改名之后").await;
    let test = app.post(&format!("/api/v1/bot-channels/{ch}/test"), json!({})).send().await;
    assert_eq!(test.body["ok"], true, "{}", test.text);
    robot.assert_all_valid();
});

both!(the_upgrade_step_encrypts_plaintext_rows, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let (ch, hook) = targets(&app, &robot).await;
    // As a version before encryption at rest left them.
    let plain_url = robot.dingtalk_url("dt-token-1");
    app.with_conn(|c| {
        diesel::update(bc::table.find(&ch))
            .set((bc::webhook_url.eq(&plain_url), bc::secret.eq(DING_SECRET)))
            .execute(c)?;
        diesel::update(wh::table.find(&hook)).set(wh::secret.eq(HOOK_SECRET)).execute(c)?;
        diesel::delete(du::table.find("sealed_secrets_v1")).execute(c)
    })
    .unwrap();
    let mut config = app.config.clone();
    channeldesk::app::migrate(&app.db, &mut config).expect("start-up");
    let (url, secret, hook_secret) = stored(&app, &ch, &hook);
    assert!(url.starts_with("v1:") && !url.contains("dt-token-1"), "{url}");
    assert!(secret.unwrap().starts_with("v1:") && hook_secret.starts_with("v1:"));
    let changed: i64 = app.with_conn(|c| du::table.find("sealed_secrets_v1").select(du::changed).first(c).unwrap());
    assert_eq!(changed, 3);
    sends_correctly(&app, &robot, "升级之后").await;
});

both!(rotation_re_encrypts_everything_and_the_service_still_sends, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    let (ch, hook) = targets(&app, &robot).await;
    let before = stored(&app, &ch, &hook);
    let new_key = SecretKey::generate();
    let done = secrets::rotate_key(&app.db, &app.config.notify, &app.config.database_url, true, Some(new_key.clone()))
        .unwrap();
    assert_eq!(done.count, 3);
    assert!(done.key_file.is_none(), "a key from the environment is the operator's to change");
    let after = stored(&app, &ch, &hook);
    assert!(after.0 != before.0 && after.1 != before.1 && after.2 != before.2);
    // The old key opens nothing any more: the old process sends nothing rather than garbage …
    app.partner("旧密钥").await;
    let err = worker(&app, &TestClock::new()).run_once().await.unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
    assert!(robot.received().is_empty());
    // … and the service with the new key sends everything, also what waited.
    let app = app.with_config(|c| c.notify.secret_key = Some(new_key)).await;
    drain(&worker(&app, &TestClock::new())).await;
    robot.assert_all_valid();
    assert_eq!(robot.received().len(), 2);
    sends_correctly(&app, &robot, "新密钥").await;
    assert_eq!(app.get(&format!("/api/v1/bot-channels/{ch}")).send().await.status.as_u16(), 200);
});

both!(a_missing_or_wrong_key_stops_the_start_with_a_clear_error, |app: TestApp| async move {
    let robot = FakeRobot::start().await;
    targets(&app, &robot).await;
    let mut wrong = app.config.clone();
    wrong.notify.secret_key = Some(SecretKey::generate());
    let err = channeldesk::app::migrate(&app.db, &mut wrong).unwrap_err();
    assert!(err.contains("does not open the stored secrets"), "{err}");
    let mut none = app.config.clone();
    none.notify.secret_key = None;
    let err = channeldesk::app::migrate(&app.db, &mut none).unwrap_err();
    assert!(err.contains("CHANNELDESK_SECRET_KEY"), "{err}");
});

/// A fresh SQLite database with no key configured: `(dir, url, config)`.
fn bare_sqlite() -> (tempfile::TempDir, DbUrl, channeldesk::config::Config) {
    let dir = tempfile::tempdir().unwrap();
    let url = DbUrl::Sqlite(dir.path().join("desk.db").to_string_lossy().into_owned());
    let mut config = channeldesk::config::Config::for_tests(url.clone());
    config.notify.secret_key = None;
    (dir, url, config)
}

#[test]
fn sqlite_without_a_key_generates_one_into_a_private_file_beside_the_database() {
    let (dir, url, mut config) = bare_sqlite();
    let db = Db::connect(&url, 2).unwrap();
    channeldesk::app::migrate(&db, &mut config).unwrap();
    let file = dir.path().join("desk.secret-key");
    let key = secrets::read_key_file(&file).expect("generated");
    assert_eq!(config.notify.secret_key.as_ref(), Some(&key));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The next start reads the same key.
    let mut again = config.clone();
    again.notify.secret_key = None;
    channeldesk::app::migrate(&db, &mut again).unwrap();
    assert_eq!(again.notify.secret_key, Some(key));
}

#[test]
fn the_rotate_command_replaces_the_key_file_and_re_encrypts() {
    let (dir, url, mut config) = bare_sqlite();
    let db = Db::connect(&url, 2).unwrap();
    channeldesk::app::migrate(&db, &mut config).unwrap();
    let old = config.notify.secret_key.clone().unwrap();
    let settings = channeldesk::notify::webhooks::model::WebhookSettings {
        name: "crm".into(),
        url: "https://hooks.example.com/in".into(),
        secret: HOOK_SECRET.into(),
        event_types: vec!["*".into()],
        enabled: true,
    };
    let actor = channeldesk::access::Actor::system("tests");
    let hook = db
        .write_blocking(|c| channeldesk::notify::webhooks::store::create(c, &actor, &settings, &old.sealer()))
        .unwrap();
    let DbUrl::Sqlite(path) = &url else { unreachable!() };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_channeldesk"))
        .args(["secret-key", "rotate"])
        .env_clear()
        .env("DATABASE_URL", format!("sqlite://{path}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("re-encrypted 1 stored secrets") && stdout.contains("desk.secret-key"), "{stdout}");
    let new = secrets::read_key_file(&dir.path().join("desk.secret-key")).unwrap();
    assert_ne!(new, old);
    assert!(!stdout.contains(&new.to_base64()), "a key in a file is not printed");
    let stored: String = db.write_blocking(|c| Ok(wh::table.find(&hook.id).select(wh::secret).first(c)?)).unwrap();
    let column = secrets::SecretColumn::WebhookSecret;
    assert_eq!(column.open(&new.sealer(), &hook.id, &stored).unwrap(), HOOK_SECRET);
    assert!(column.open(&old.sealer(), &hook.id, &stored).is_err());
    assert!(!dir.path().join("desk.secret-key.new").exists());
}

both!(without_a_secret_key_robots_answer_503_saying_what_to_set, |app: crate::helpers::TestApp| async move {
    let app = app.with_config(|c| c.notify.secret_key = None).await;
    let body = json!({"platform": "wecom", "name": "群", "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"});
    let res = app.post("/api/v1/bot-channels", body).send().await;
    res.problem(503, "secret_key_missing");
    assert!(res.body["detail"].as_str().unwrap().contains("CHANNELDESK_SECRET_KEY"), "{}", res.text);
    app.get("/api/v1/bot-channels").send().await.problem(503, "secret_key_missing");
    let hook = json!({"name": "crm", "url": "https://hooks.example.com/cd", "secret": "s3cret-s3cret-s3cret", "event_types": ["partner.*"]});
    app.post("/api/v1/webhooks", hook).send().await.problem(503, "secret_key_missing");
});
