//! `heartbeat cert watch` on a tree in the team's bucket layout, made here with the team's v1 recipe (openssl
//! x509 -req, no extensions): some expired, some on an alert day, some revoked, one from another CA, one
//! ignored with an until date that has passed — exactly the expected rows, exit code and one Slack message.
//! No private key is opened: each key beside a certificate is a FIFO, which would block whoever opened it.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::common::receiver::{Receiver, Reply};
use crate::common::*;

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        status.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// Makes a CA (key and certificate) named `name` in `dir`.
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &format!("{name}.key"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-days",
            "3650",
            "-subj",
            &format!("/CN={name}"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// Issues `<tree>/<env>/<client>/client.pem`, valid for `days` from now, with this serial, by the named CA.
fn issue(work: &Path, tree: &Path, env: &str, client: &str, days: u32, serial: u32, by: &str) {
    let folder = tree.join(env).join(client);
    std::fs::create_dir_all(&folder).unwrap();
    let csr = work.join(format!("{client}.csr"));
    openssl(
        work,
        &[
            "req",
            "-new",
            "-key",
            "client.key",
            "-subj",
            &format!("/CN={client}"),
            "-out",
            csr.to_str().unwrap(),
        ],
    );
    let out = folder.join("client.pem");
    openssl(
        work,
        &[
            "x509",
            "-req",
            "-in",
            csr.to_str().unwrap(),
            "-CA",
            &format!("{by}.pem"),
            "-CAkey",
            &format!("{by}.key"),
            "-set_serial",
            &serial.to_string(),
            "-days",
            &days.to_string(),
            "-sha256",
            "-out",
            out.to_str().unwrap(),
        ],
    );
    // The key beside it, as a bucket might hold one: a FIFO, so opening it would hang the run.
    let key = std::ffi::CString::new(folder.join("client.key").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(key.as_ptr(), 0o600) }, 0);
}

/// The UTC date `days` from today.
fn date_in(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let output = Command::new("date")
        .args(["-u", "-d", &format!("@{}", now + days * 86_400), "+%F"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn a_tree_of_forty_gives_exactly_the_expected_rows_exit_code_and_one_message() {
    let work = tempfile::tempdir().unwrap();
    let (work, tree) = (work.path(), work.path().join("certs"));
    ca(work, "ca");
    ca(work, "other-ca");
    openssl(
        work,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "client.key",
        ],
    );
    // Judged ten days from now: 5 days of validity is expired, 24 is an alert day (14 left), 25 is inside the
    // window (15 left), 100 is fine.
    let mut serial = 100;
    let mut next = || {
        serial += 1;
        serial
    };
    for i in 0..3 {
        issue(work, &tree, "dev", &format!("expired-{i}"), 5, next(), "ca");
    }
    for i in 0..5 {
        issue(
            work,
            &tree,
            "preprod",
            &format!("alert-{i}"),
            24,
            next(),
            "ca",
        );
    }
    for i in 0..5 {
        issue(
            work,
            &tree,
            "prod",
            &format!("window-{i}"),
            25,
            next(),
            "ca",
        );
    }
    for i in 0..20 {
        issue(
            work,
            &tree,
            "prod",
            &format!("fine-{i:02}"),
            100,
            next(),
            "ca",
        );
    }
    // 513 is 0x0201: the application writes it 02:01 (a serial whose top bit is set would keep a leading 00).
    for (i, serial) in [(0, 513), (1, 514), (2, 515)] {
        issue(work, &tree, "dev", &format!("revoked-{i}"), 5, serial, "ca");
    }
    issue(work, &tree, "dev", "stranger", 100, next(), "other-ca");
    issue(work, &tree, "dev", "sleach5", 24, next(), "ca");
    issue(work, &tree, "dev", "leaver", 5, next(), "ca");
    std::fs::write(
        work.join("authorisation.yaml"),
        "authorisation:\n  certificate-revocation-list:\n    - 02:01\n    - 02:02 # HIA-1\n    - 02:03\n  consumers: {}\n",
    )
    .unwrap();
    std::fs::write(
        work.join("ignore.toml"),
        format!(
            "[[ignore]]\nclient = \"dev/sleach5\"\nreason = \"left the team\"\nuntil = \"{}\"\n\n[[ignore]]\nclient = \"dev/leaver\"\nreason = \"access ends with the contract\"\nuntil = \"{}\"\n",
            date_in(1),
            date_in(400)
        ),
    )
    .unwrap();
    let slack = Receiver::start(Arc::new(|_, _| Reply::Answer(200, Vec::new(), "ok".into())));
    let junit = work.join("junit.xml");
    let output = heartbeat()
        .args(["cert", "watch"])
        .arg(&tree)
        .args([
            "--ca",
            "ca.pem",
            "--config",
            "authorisation.yaml",
            "--ignore",
            "ignore.toml",
            "--at",
            &date_in(10),
        ])
        .args([
            "--format",
            "json",
            "--notify",
            "slack",
            "--name",
            "dev certificates",
            "--junit",
        ])
        .arg(&junit)
        .current_dir(work)
        .env("SLACK_WEBHOOK_URL", slack.url("/hook"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows: Vec<(String, String, i64)> = result["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                format!(
                    "{}/{}",
                    c["env"].as_str().unwrap(),
                    c["client"].as_str().unwrap()
                ),
                c["state"].as_str().unwrap().to_string(),
                c["days_left"].as_i64().unwrap(),
            )
        })
        .collect();
    let expect = |state: &str| {
        rows.iter()
            .filter(|(_, s, _)| s == state)
            .map(|(n, _, d)| (n.as_str(), *d))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows.len(), 40, "{rows:?}");
    assert_eq!(
        expect("expired"),
        [
            ("dev/expired-0", -5),
            ("dev/expired-1", -5),
            ("dev/expired-2", -5)
        ]
    );
    assert_eq!(expect("not from the CA"), [("dev/stranger", 90)]);
    let alert = expect("alert");
    assert_eq!(
        alert.len(),
        6,
        "five on their alert day and the one whose ignore ended: {alert:?}"
    );
    assert!(alert.iter().all(|(_, d)| *d == 14));
    assert!(alert.contains(&("dev/sleach5", 14)));
    assert_eq!(expect("expiring").len(), 5);
    assert_eq!(
        expect("revoked"),
        [
            ("dev/revoked-0", -5),
            ("dev/revoked-1", -5),
            ("dev/revoked-2", -5)
        ]
    );
    assert_eq!(expect("ignored"), [("dev/leaver", -5)]);
    assert_eq!(expect("ok").len(), 21, "twenty clients and the CA");
    // Sorted by urgency: the expired first.
    assert_eq!(rows[0].1, "expired");
    let ended = &result["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client"] == "sleach5")
        .unwrap()["note"];
    assert!(
        ended.as_str().unwrap().contains("the ignore ended on"),
        "{ended}"
    );
    // One message: the ten that need action, and nothing about the revoked, the ignored or the fine.
    let posts = slack.requests();
    assert_eq!(posts.len(), 1);
    let message = posts[0].json();
    let text = message["blocks"].to_string();
    assert_eq!(text.matches("• ").count(), 10, "{text}");
    assert!(
        text.contains("dev/expired-0 (CN expired-0): EXPIRED on")
            && text.contains("dev/stranger (CN stranger): is not issued by the CA")
    );
    assert!(
        !text.contains("revoked-") && !text.contains("leaver") && !text.contains("fine-"),
        "{text}"
    );
    assert_eq!(
        message["text"],
        "heartbeat dev certificates: 10 certificates need action"
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 40);
    assert_eq!(junit.matches("<failure").count(), 10);
    assert_eq!(junit.matches("<skipped").count(), 4);
}

#[test]
fn nothing_due_is_exit_0_and_silent_and_the_window_alone_is_exit_1() {
    let work = tempfile::tempdir().unwrap();
    let (work, tree) = (work.path(), work.path().join("certs"));
    ca(work, "ca");
    openssl(
        work,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "client.key",
        ],
    );
    issue(work, &tree, "dev", "fine", 100, 1, "ca");
    let slack = Receiver::start(Arc::new(|_, _| Reply::Answer(200, Vec::new(), "ok".into())));
    let run = |at: &str| {
        heartbeat()
            .args(["cert", "watch"])
            .arg(&tree)
            .args(["--notify", "slack", "--at", at])
            .env("SLACK_WEBHOOK_URL", slack.url("/hook"))
            .output()
            .unwrap()
    };
    let fine = run(&date_in(0));
    assert_eq!(
        fine.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    let table = String::from_utf8_lossy(&fine.stdout);
    assert!(
        table.starts_with("client  env  CN    serial  not after   days left  state\n"),
        "{table}"
    );
    assert!(table.contains("fine    dev  fine  01"), "{table}");
    // 78 days left: inside a 90-day window, not an alert day: exit 1, no message.
    let window = heartbeat()
        .args(["cert", "watch"])
        .arg(&tree)
        .args(["--alert-days", "90,30", "--at", &date_in(22)])
        .output()
        .unwrap();
    assert_eq!(window.status.code(), Some(1));
    assert!(slack.requests().is_empty());
    // Expired, to a webhook: the JSON result, as --format json prints it.
    let hook = Receiver::start(Arc::new(|_, _| Reply::Answer(200, Vec::new(), "ok".into())));
    let expired = heartbeat()
        .args(["cert", "watch"])
        .arg(&tree)
        .args(["--notify", "webhook", "--at", &date_in(200)])
        .env("HEARTBEAT_WEBHOOK_URL", hook.url("/hook"))
        .output()
        .unwrap();
    assert_eq!(expired.status.code(), Some(6));
    let posted = hook.requests()[0].json();
    assert_eq!(posted["exit_code"], 6);
    assert_eq!(posted["certificates"][0]["state"], "expired");
}

#[test]
fn bad_inputs_are_named_with_exit_2_and_nothing_is_sent() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("bad.toml"), "[[ignore]]\nclient = \"x\"\n").unwrap();
    std::fs::write(work.path().join("ca.pem"), "not a certificate").unwrap();
    let output = heartbeat()
        .args([
            "cert",
            "watch",
            "missing-dir",
            "--ignore",
            "bad.toml",
            "--ca",
            "ca.pem",
            "--at",
            "someday",
            "--notify",
            "slack",
        ])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for problem in [
        "missing-dir: does not exist",
        "--ignore bad.toml",
        "--ca ca.pem",
        "--at",
        "SLACK_WEBHOOK_URL",
    ] {
        assert!(stderr.contains(problem), "{problem}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_named_as_a_certificate_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("client.pem");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let output = heartbeat()
        .args(["cert", "watch"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "an unreadable certificate needs action"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("unreadable"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("is not a regular file"));
}
