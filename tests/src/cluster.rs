//! A PostgreSQL server of one test's own, on a free port in a temporary folder, that the
//! test may stop and start again (a database outage) without touching anyone else's.
//!
//! PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
//! Debian's packages create.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub struct Cluster {
    folder: TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    /// A new cluster, started. Panics with what failed: the tests that need one cannot
    /// run without it.
    pub fn start() -> Cluster {
        let bin = server_binaries().expect(
            "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are needed for outage tests",
        );
        let folder = tempfile::Builder::new().prefix("bidline-pg").tempdir().expect("temp folder");
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(folder.path()));
        }
        let port = bidline_sipp::free_port();
        let cluster = Cluster { folder, bin, port };
        cluster.pg(&[
            "initdb",
            "-D",
            &cluster.data(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "--no-instructions",
        ]);
        cluster.resume();
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server the way an operator's restart does: connections are cut at once.
    pub fn stop(&self) {
        self.pg(&["pg_ctl", "-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts the server (again), returning once it accepts connections.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("server.log");
        self.pg(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &log.display().to_string(),
            "-w",
            "start",
        ]);
    }

    fn data(&self) -> String {
        self.folder.path().join("data").display().to_string()
    }

    /// Runs one of the server's programs, as `postgres` when this is root.
    fn pg(&self, args: &[&str]) {
        let program = self.bin.join(args[0]);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        run(command.args(&args[1..]).current_dir(self.folder.path()));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let stopped = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(program).args(args).output()
        } else {
            Command::new(program).args(args).output()
        };
        if let Err(error) = stopped {
            eprintln!("could not stop a test's PostgreSQL: {error}");
        }
    }
}

/// The folder of the newest PostgreSQL server installed.
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            Path::new(&bin).join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::env::var("USER").is_ok_and(|user| user == "root")
        || Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout == b"0\n")
}

fn run(command: &mut Command) {
    let out = command.output().unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
