//! sipp (Debian's `sip-tester`) as a real SIP peer in black-box tests: a carrier placing
//! calls (UAC) or a buyer answering them (UAS), with built-in scenarios or scenario files
//! whose placeholders the test fills.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn sipp_flag(self) -> &'static str {
        match self {
            Transport::Udp => "u1",
            Transport::Tcp => "t1",
        }
    }
}

/// A port free on 127.0.0.1 for both UDP and TCP.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A sipp scenario: built in, or a file of `tests/scenarios` with placeholders filled.
pub enum Scenario {
    Builtin(&'static str),
    /// A scenario file and the placeholders to fill in it.
    File(PathBuf, Vec<(&'static str, String)>),
}

/// A scenario file of `testing/sipp/scenarios` (each says what it plays) with `fills`
/// for its placeholders.
pub fn scenario(file: &str, fills: Vec<(&'static str, String)>) -> Scenario {
    Scenario::File(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file), fills)
}

/// The number a carrier dials unless its scenario says otherwise.
pub const DIALED: &str = "+15550100200";

pub struct Sipp {
    child: Child,
    dir: tempfile::TempDir,
    name: String,
}

impl Sipp {
    /// A buyer: sipp as UAS on `port`, for `calls` calls.
    pub fn uas(scenario: Scenario, port: u16, transport: Transport, calls: usize) -> Sipp {
        Sipp::spawn(scenario, None, port, transport, calls, &[])
    }

    /// A carrier: sipp as UAC placing `calls` calls to the edge at `edge`.
    pub fn uac(scenario: Scenario, edge: SocketAddr, transport: Transport, calls: usize) -> Sipp {
        Sipp::uac_to(scenario, edge, DIALED, transport, calls)
    }

    /// A carrier placing `calls` calls to `dialed` at the edge at `edge`.
    pub fn uac_to(
        scenario: Scenario,
        edge: SocketAddr,
        dialed: &str,
        transport: Transport,
        calls: usize,
    ) -> Sipp {
        Sipp::spawn(scenario, Some((edge, dialed)), free_port(), transport, calls, &[])
    }

    /// A carrier with digest credentials.
    pub fn uac_with_credentials(
        scenario: Scenario,
        edge: SocketAddr,
        username: &str,
        password: &str,
    ) -> Sipp {
        Sipp::uac_to_with_credentials(scenario, edge, DIALED, username, password)
    }

    /// A carrier with digest credentials (`-au`/`-ap`) placing one call to `dialed`.
    pub fn uac_to_with_credentials(
        scenario: Scenario,
        edge: SocketAddr,
        dialed: &str,
        username: &str,
        password: &str,
    ) -> Sipp {
        let credentials = ["-au", username, "-ap", password];
        Sipp::spawn(scenario, Some((edge, dialed)), free_port(), Transport::Udp, 1, &credentials)
    }

    fn spawn(
        scenario: Scenario,
        remote: Option<(SocketAddr, &str)>,
        port: u16,
        transport: Transport,
        calls: usize,
        extra: &[&str],
    ) -> Sipp {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sipp");
        let name = match &scenario {
            Scenario::Builtin(name) => {
                command.args(["-sn", name]);
                name.to_string()
            }
            Scenario::File(source, fills) => {
                let mut text = std::fs::read_to_string(source)
                    .unwrap_or_else(|e| panic!("read {}: {e}", source.display()));
                for (placeholder, value) in fills {
                    text = text.replace(placeholder, value);
                }
                let file = source.file_name().expect("a scenario file");
                let path = dir.path().join(file);
                std::fs::write(&path, text).unwrap();
                command.arg("-sf").arg(&path);
                file.to_string_lossy().trim_end_matches(".xml").to_string()
            }
        };
        if let Some((remote, dialed)) = remote {
            command.arg(remote.to_string()).args(["-s", dialed, "-r", "10"]);
        }
        command
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", transport.sipp_flag()])
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "40", "-trace_err"])
            .args(extra)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().expect("sipp runs (scripts/setup --test installs it)");
        Sipp { child, dir, name }
    }

    /// Waits for sipp to end and checks every call passed its scenario.
    pub async fn passes(mut self) {
        let status = tokio::time::timeout(Duration::from_secs(45), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("sipp {} did not finish", self.name))
            .unwrap();
        if !status.success() {
            let mut log = String::new();
            for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
                if entry.file_name().to_string_lossy().ends_with("errors.log") {
                    log.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
            panic!("sipp {} failed ({status}):\n{log}", self.name);
        }
    }
}

/// A carrier placing calls at a steady rate (sipp's built-in `uac`: INVITE, ACK, BYE at
/// once), for load and fault tests: what counts is how many calls completed, read from
/// sipp's statistics when it ends, not whether all of them did.
pub struct Load {
    child: Child,
    dir: tempfile::TempDir,
}

/// What a [`Load`] placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub successful: u64,
    pub failed: u64,
}

impl Load {
    /// `calls` calls to `dialed` at `edge`, `rate` a second. A call that hears nothing for
    /// 2 s fails, so a load against a stopped edge ends soon after its last call.
    pub fn start(edge: SocketAddr, dialed: &str, rate: u32, calls: usize) -> Load {
        Load::holding(edge, dialed, rate, calls, Duration::ZERO)
    }

    /// Like [`start`](Load::start), each call held up for `hold` after its ACK before
    /// the caller hangs up.
    pub fn holding(
        edge: SocketAddr,
        dialed: &str,
        rate: u32,
        calls: usize,
        hold: Duration,
    ) -> Load {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("sipp")
            .args(["-sn", "uac"])
            .arg(edge.to_string())
            .args(["-s", dialed, "-r", &rate.to_string(), "-m", &calls.to_string()])
            .args(["-d", &hold.as_millis().to_string()])
            .args(["-i", "127.0.0.1", "-p", &free_port().to_string(), "-t", "u1"])
            .args(["-recv_timeout", "2000", "-buff_size", "4194304", "-nostdin"])
            .args(["-stf", "stats.csv", "-trace_stat", "-fd", "1"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("sipp runs (scripts/setup --test installs it)");
        Load { child, dir }
    }

    /// Waits for every call to be placed and settled, and answers how they went.
    pub async fn finish(mut self) -> Placed {
        tokio::time::timeout(Duration::from_secs(120), self.child.wait())
            .await
            .expect("the sipp load ends")
            .unwrap();
        let stats = std::fs::read_to_string(self.dir.path().join("stats.csv")).unwrap();
        let mut lines = stats.lines();
        let header: Vec<&str> = lines.next().expect("a header").split(';').collect();
        let last: Vec<&str> = lines.last().expect("a line of statistics").split(';').collect();
        let column = |name: &str| -> u64 {
            let at = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name}"));
            last[at].trim().parse().unwrap()
        };
        Placed { successful: column("SuccessfulCall(C)"), failed: column("FailedCall(C)") }
    }
}
