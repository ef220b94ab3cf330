//! The documented example, run as its users run it: `static_b2bua` with a sipp carrier and
//! buyer, as an open edge and as an inbound trunk that admits only some networks.

mod support;

use std::process::Stdio;
use std::sync::LazyLock;
use std::time::Duration;

use support::{RawPeer, Scenario, Sipp, Transport, free_port, raw_invite, scenario};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the example (built by cargo beside the test binaries) and waits until it listens.
async fn static_b2bua(args: &[&str]) -> (Child, u16) {
    let examples =
        std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("examples");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(examples.join("static_b2bua"))
        .args(["--listen", &listen])
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cargo builds the examples before the tests");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first =
        tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap();
    assert!(first.is_some_and(|line| line.contains("listening")));
    (child, port)
}

#[tokio::test]
async fn static_b2bua_connects_a_call_over_udp_and_tcp() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let buyer = free_port();
        let suffix = if transport == Transport::Tcp { ";transport=tcp" } else { "" };
        let to = format!("sip:buyer@127.0.0.1:{buyer}{suffix}");
        let (_edge, port) = static_b2bua(&["--to", &to]).await;
        let uas = Sipp::uas(Scenario::Builtin("uas"), buyer, transport, 2);
        let edge = format!("127.0.0.1:{port}").parse().unwrap();
        Sipp::uac(Scenario::Builtin("uac"), edge, transport, 2).passes().await;
        uas.passes().await;
    }
}

static INVITE: LazyLock<String> = LazyLock::new(|| raw_invite("example-1"));

#[tokio::test]
async fn as_an_inbound_trunk_it_admits_only_its_networks() {
    let buyer = free_port();
    let to = format!("sip:buyer@127.0.0.1:{buyer}");
    let (_closed, closed_port) = static_b2bua(&["--to", &to, "--allow", "192.0.2.0/24"]).await;
    let carrier = RawPeer::new(format!("127.0.0.1:{closed_port}").parse().unwrap()).await;
    carrier.send(&INVITE).await;
    assert_eq!(carrier.response().await.status, 403);

    let (_open, open_port) = static_b2bua(&["--to", &to, "--allow", "127.0.0.0/8"]).await;
    let uas = Sipp::uas(Scenario::Builtin("uas"), buyer, Transport::Udp, 1);
    let edge = format!("127.0.0.1:{open_port}").parse().unwrap();
    Sipp::uac(Scenario::Builtin("uac"), edge, Transport::Udp, 1).passes().await;
    uas.passes().await;
}

#[tokio::test]
async fn with_digest_a_caller_outside_the_networks_must_authenticate() {
    let buyer = free_port();
    let to = format!("sip:buyer@127.0.0.1:{buyer}");
    let (_edge, port) =
        static_b2bua(&["--to", &to, "--allow", "192.0.2.0/24", "--digest", "carrier:s3cret"]).await;
    let edge = format!("127.0.0.1:{port}").parse().unwrap();
    let uas = Sipp::uas(Scenario::Builtin("uas"), buyer, Transport::Udp, 1);
    Sipp::uac_with_credentials(scenario("uac_auth.xml", vec![]), edge, "carrier", "s3cret")
        .passes()
        .await;
    uas.passes().await;
}
