//! The command line: invalid configuration ends the process with one clear line.

use std::process::Output;

use bidline_tests::{TestDatabase, bidline_binary};

fn bidline(args: &[&str]) -> Output {
    std::process::Command::new(bidline_binary())
        .args(args)
        .env_remove("BIDLINE_HTTP_ADDR")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run bidline")
}

/// Asserts a failed run that printed exactly one line on stderr, and returns it.
fn single_error_line(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure, got {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines[0].to_owned()
}

#[test]
fn a_nonsense_http_address_is_one_line_naming_the_setting() {
    let output = bidline(&["serve", "--http", "nonsense"]);
    let line = single_error_line(&output);
    assert!(line.contains("--http") && line.contains("nonsense"), "{line}");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_address_from_the_environment_is_checked_too() {
    let output = std::process::Command::new(bidline_binary())
        .env("BIDLINE_HTTP_ADDR", "localhost")
        .output()
        .expect("run bidline");
    let line = single_error_line(&output);
    assert!(line.contains("--http") && line.contains("localhost"), "{line}");
}

#[test]
fn an_unknown_log_format_is_refused() {
    let line = single_error_line(&bidline(&["--log-format", "xml"]));
    assert!(line.contains("--log-format") && line.contains("xml"), "{line}");
}

#[test]
fn an_unsupported_database_is_named_and_its_password_is_not_printed() {
    let output = bidline(&["serve", "--database-url", "mysql://root:hunter2@127.0.0.1/bidline"]);
    let line = single_error_line(&output);
    assert!(line.contains("--database-url") && line.contains("mysql"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unreachable_database_is_one_line_without_the_password() {
    let output =
        bidline(&["serve", "--database-url", "postgres://app:hunter2@127.0.0.1:1/bidline"]);
    let line = single_error_line(&output);
    assert!(line.contains("cannot connect to the postgres database"), "{line}");
    assert!(line.contains("app:***@127.0.0.1:1"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_port_in_use_is_one_line_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let database = TestDatabase::sqlite();
    let line = single_error_line(&bidline(&["--http", &addr, "--database-url", database.url()]));
    assert!(line.contains(&addr) && line.contains("--http"), "{line}");
}

#[test]
fn sip_on_every_address_needs_an_address_to_advertise_and_leaves_no_database() {
    let database = TestDatabase::sqlite();
    let line = single_error_line(&bidline(&[
        "serve",
        "--http",
        "127.0.0.1:0",
        "--sip",
        "0.0.0.0:0",
        "--database-url",
        database.url(),
    ]));
    assert!(line.contains("0.0.0.0:0") && line.contains("--sip-advertise"), "{line}");
    let path = database.url().trim_start_matches("sqlite://");
    assert!(!std::path::Path::new(path).exists(), "nothing created before the refusal");

    let line = single_error_line(&bidline(&["serve", "--sip-advertise", "[::]:5060"]));
    assert!(
        line.contains("--sip-advertise") && line.contains("no address a peer can reach"),
        "{line}"
    );
}

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let database = TestDatabase::sqlite();
    let output = bidline(&["migrate", "--database-url", database.url()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let path = database.url().trim_start_matches("sqlite://");
    assert!(std::path::Path::new(path).is_file(), "{path} was not created");

    // Running it again finds nothing to do and succeeds.
    let again = bidline(&["migrate", "--database-url", database.url()]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

#[tokio::test]
async fn demo_seed_writes_history_for_an_organization_and_refuses_an_unknown_one() {
    for database in TestDatabase::all().await {
        let run = |args: &[&str]| {
            std::process::Command::new(bidline_binary())
                .args(args)
                .args(["--database-url", database.url()])
                .env("BIDLINE_OWNER_PASSWORD", "Qz8-long-pass-Wx4")
                .env("RUST_LOG", "warn")
                .env_remove("DATABASE_URL")
                .output()
                .expect("run bidline")
        };
        let created =
            run(&["org", "create", "--name", "Demo", "--owner-email", "demo@seed.example"]);
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
        let org = created["org_id"].as_str().unwrap();

        let seeded = run(&["demo", "seed", "--org-id", org, "--calls", "500", "--days", "7"]);
        assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&seeded.stdout).unwrap();
        assert_eq!(printed, serde_json::json!({"org_id": org, "calls": 500}));
        assert_eq!(database.count("SELECT COUNT(*) FROM calls").await, 500);
        assert_eq!(database.count("SELECT COUNT(*) FROM campaigns").await, 4);

        let unknown = "0190f5a0-0000-7000-8000-000000000000";
        let refused = run(&["demo", "seed", "--org-id", unknown, "--calls", "5", "--days", "1"]);
        let line = single_error_line(&refused);
        assert!(line.contains("no organization has the id"), "{line}");
        assert_eq!(refused.status.code(), Some(2));
    }
}
