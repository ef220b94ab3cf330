//! Interoperability with a real softphone: baresip (Debian's package) calls through the
//! edge to a sipp buyer, talks for two seconds and hangs up.

mod support;

use std::process::Stdio;
use std::time::Duration;

use bidline_telephony::b2bua::{Decision, EndCause, EventKind, Side};
use support::{Scenario, Sipp, TestEdge, Transport, buyer, free_port};

/// A baresip configuration: no sound card (a sine wave out, a file in), G.711 only, no
/// registration.
fn configure(dir: &std::path::Path, port: u16) {
    let config = format!(
        "poll_method epoll\n\
sip_listen 127.0.0.1:{port}\n\
audio_player aufile,{heard}\n\
audio_source ausine,440\n\
audio_alert aufile,{heard}\n\
ausrc_srate 48000\nauplay_srate 48000\nausrc_channels 2\nauplay_channels 2\n\
module_path /usr/lib/baresip/modules\n\
module g711.so\nmodule ausine.so\nmodule aufile.so\n\
module_app account.so\nmodule_app menu.so\n",
        heard = dir.join("heard.wav").display()
    );
    std::fs::write(dir.join("config"), config).unwrap();
    std::fs::write(dir.join("accounts"), "<sip:carrier@127.0.0.1>;regint=0;audio_codecs=PCMU\n")
        .unwrap();
}

#[tokio::test]
async fn baresip_calls_through_the_edge_to_a_sipp_buyer() {
    let port = free_port();
    let mut edge = TestEdge::start(Decision::Connect(vec![buyer(
        port,
        Transport::Udp,
        Duration::from_secs(10),
    )]))
    .await;
    let uas = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1);
    let dir = tempfile::tempdir().unwrap();
    configure(dir.path(), free_port());
    let target = format!("/dial sip:+15550100200@{}", edge.addr());
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .args(["-e", &target, "-t", "3"])
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("baresip ends by itself")
    .expect("baresip runs (scripts/setup --test installs it)");
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("Call established"), "baresip did not get through:\n{log}");
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert!(call.contains(&EventKind::Bridged { leg: 0 }), "{call:?}");
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::HungUp(Side::Caller) }));
}
