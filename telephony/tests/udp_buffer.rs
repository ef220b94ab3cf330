//! The SIP UDP socket's receive buffer, where datagrams wait while the edge is busy: as
//! large as the operator asked, up to what the kernel allows (`net.core.rmem_max`).

mod support;

use bidline_telephony::b2bua::Decision;
use bidline_telephony::edge::{Config, Edge};
use support::Fixed;

fn kernel_limit() -> usize {
    let text = std::fs::read_to_string("/proc/sys/net/core/rmem_max").unwrap();
    text.trim().parse().unwrap()
}

async fn edge_asking(bytes: Option<usize>) -> Edge {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap());
    config.udp_receive_buffer = bytes;
    let router = Fixed(Decision::Reject { status: 404, reason: "Not Found".into() });
    Edge::start(config, router).await.unwrap().0
}

#[tokio::test]
async fn the_udp_receive_buffer_is_what_was_asked_up_to_the_kernels_limit() {
    let asked = 1 << 20;
    let edge = edge_asking(Some(asked)).await;
    assert_eq!(edge.udp_receive_buffer(), Some(asked.min(kernel_limit())));

    // Asking for more than the kernel allows gets its limit, not an error.
    let edge = edge_asking(Some(kernel_limit() * 4)).await;
    assert_eq!(edge.udp_receive_buffer(), Some(kernel_limit()));
    // Without a size the system's default stands, and nothing is claimed of it.
    assert_eq!(edge_asking(None).await.udp_receive_buffer(), None);
}
