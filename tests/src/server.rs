//! The real `bidline` binary, started on an ephemeral port with a private database.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::oneshot,
};

use crate::{Api, TestDatabase};

/// How long the server may take to say it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The repository's root folder. Taken from the `CARGO_MANIFEST_DIR` that cargo and
/// nextest set when they run a test, not the one of the build: a target folder shared
/// by several checkouts can hand this binary to another checkout.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().expect("tests/ is in the workspace").to_path_buf()
}

/// The `bidline` binary built beside this test (`target/<profile>/bidline`), or
/// `BIDLINE_BIN`.
pub fn bidline_binary() -> PathBuf {
    let path = std::env::var_os("BIDLINE_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let test_exe = std::env::current_exe().expect("the test's own path");
        // target/<profile>/deps/<test> → target/<profile>/bidline
        test_exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in target/<profile>/deps")
            .join("bidline")
    });
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo xtask build` (scripts/test does)",
        path.display()
    );
    path
}

/// Runs `bidline ARGS` with `DATABASE_URL` set.
pub fn bidline_command(database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bidline_binary())
        .current_dir(workspace_root())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run bidline")
}

/// The secret key test servers seal secrets with.
pub const TEST_SECRET_KEY: &str =
    "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

/// What `bidline org create` printed.
#[derive(Clone, Debug)]
pub struct NewOrg {
    pub org_id: String,
    pub user_id: String,
    pub api_key: String,
}

impl NewOrg {
    /// The owner's password in organizations made by [`Server::create_org`].
    pub const PASSWORD: &str = "correct horse battery staple";
}

#[derive(Default)]
pub struct ServerOptions {
    /// Defaults to a new SQLite database.
    pub database: Option<TestDatabase>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// `serve` unless given (`demo` runs the server with the demo's traffic).
    pub command: Option<&'static str>,
}

pub struct Server {
    child: Child,
    addr: SocketAddr,
    sip_addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    /// What it printed on stdout, line by line.
    stdout: Arc<Mutex<Vec<String>>>,
    database: TestDatabase,
    /// The node's own call records spool (nodes of one host must not share one).
    _spool: tempfile::TempDir,
}

impl Server {
    /// Starts `bidline serve` on SQLite.
    pub async fn start() -> Self {
        Self::start_with(ServerOptions::default()).await
    }

    pub async fn start_with(options: ServerOptions) -> Self {
        let database = options.database.unwrap_or_else(TestDatabase::sqlite);
        let spool = tempfile::tempdir().expect("a spool folder");
        let mut command = Command::new(bidline_binary());
        // As an operator runs it: from the repository root, where the default site root
        // (`site`) is, with the database in `DATABASE_URL`.
        command
            .current_dir(workspace_root())
            .arg(options.command.unwrap_or("serve"))
            .args(["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--log-format", "json"])
            .arg("--records-spool")
            .arg(spool.path())
            .args(&options.args)
            .env_remove("BIDLINE_HTTP_ADDR")
            .env_remove("BIDLINE_SIP_ADDR")
            .env_remove("BIDLINE_SITE_ROOT")
            .env("DATABASE_URL", database.url())
            .env("RUST_LOG", "info")
            // One key for every node, as an operator with several nodes sets it.
            .env("BIDLINE_SECRET_KEY", TEST_SECRET_KEY)
            .env("BIDLINE_ALLOW_PRIVATE_TARGETS", "true")
            .envs(options.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Leptos can read its options from LEPTOS_* variables; Bidline must not need them.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LEPTOS_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("start bidline");

        let log = Arc::new(Mutex::new(Vec::new()));
        let (listening_tx, listening_rx) = oneshot::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(collect_log(BufReader::new(stderr), log.clone(), listening_tx));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let printed = child.stdout.take().expect("piped stdout");
        tokio::spawn(collect_lines(BufReader::new(printed), stdout.clone()));

        let (addr, sip_addr) = match tokio::time::timeout(START_TIMEOUT, listening_rx).await {
            Ok(Ok(addrs)) => addrs,
            _ => panic!("bidline did not start listening:\n{}", log.lock().unwrap().join("\n")),
        };
        Self { child, addr, sip_addr, log, stdout, database, _spool: spool }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the SIP edge listens (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// Every line the server has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Every line the server has printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Kills the process (SIGKILL: no shutdown of any kind) and waits until it is gone.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill bidline");
    }

    /// Waits for the process to exit by itself, up to `timeout`.
    pub async fn wait(&mut self, timeout: Duration) -> ExitStatus {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => status.expect("wait for bidline"),
            Err(_) => panic!("bidline did not exit within {timeout:?}:\n{}", self.log().join("\n")),
        }
    }

    /// Runs a `bidline` command (`org create …`) on this server's database, and answers
    /// the JSON object it printed.
    pub fn command(&self, args: &[&str]) -> serde_json::Value {
        let output = bidline_command(self.database.url(), args);
        assert!(
            output.status.success(),
            "bidline {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("bidline printed JSON")
    }

    /// A new organization with its owner (`bidline org create`), and an [`Api`] that
    /// speaks as its admin key.
    pub fn create_org(&self, name: &str, owner_email: &str) -> (NewOrg, Api) {
        let created = self.command(&[
            "org",
            "create",
            "--name",
            name,
            "--owner-email",
            owner_email,
            "--owner-password",
            NewOrg::PASSWORD,
        ]);
        let org = NewOrg {
            org_id: created["org_id"].as_str().expect("org_id").to_owned(),
            user_id: created["user_id"].as_str().expect("user_id").to_owned(),
            api_key: created["api_key"].as_str().expect("api_key").to_owned(),
        };
        let api = Api::new(self.url(""), &org.api_key);
        (org, api)
    }

    /// SIGTERM, then the exit status. The database stays until the server is dropped.
    pub async fn stop(&mut self) -> ExitStatus {
        self.terminate();
        self.wait(Duration::from_secs(20)).await
    }
}

async fn collect_log(
    stderr: BufReader<tokio::process::ChildStderr>,
    log: Arc<Mutex<Vec<String>>>,
    listening: oneshot::Sender<(SocketAddr, SocketAddr)>,
) {
    let mut listening = Some(listening);
    let mut lines = stderr.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(addr) = listening_addr(&line)
            && let Some(tx) = listening.take()
        {
            let _ = tx.send(addr);
        }
        log.lock().unwrap().push(line);
    }
}

async fn collect_lines(
    stdout: BufReader<tokio::process::ChildStdout>,
    lines: Arc<Mutex<Vec<String>>>,
) {
    let mut reader = stdout.lines();
    while let Ok(Some(line)) = reader.next_line().await {
        lines.lock().unwrap().push(line);
    }
}

/// The HTTP and SIP addresses of the "listening" line.
fn listening_addr(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    if event["message"] != "listening" {
        return None;
    }
    Some((event["http_addr"].as_str()?.parse().ok()?, event["sip_addr"].as_str()?.parse().ok()?))
}
