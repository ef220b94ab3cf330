//! A webhook receiver on 127.0.0.1, written on raw TCP so it can misbehave as real ones
//! do: answer with an error status, say nothing until the sender gives up, or answer
//! bytes that are not HTTP. Requests are answered in arrival order by a script; once it
//! runs out, every request gets 200. Every request is recorded.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Status(u16),
    /// Answers 200 after a pause.
    SlowOk(Duration),
    /// Reads the request and answers nothing for a minute.
    Stall,
    /// Answers bytes that are not HTTP and closes.
    Garbage,
}

#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status answered; `None` when it stalled or answered garbage.
    pub answered: Option<u16>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn delivered(&self) -> bool {
        self.answered.is_some_and(|status| (200..300).contains(&status))
    }
}

pub struct Receiver {
    addr: SocketAddr,
    script: Arc<Mutex<Vec<Behaviour>>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: Arc<Mutex<(usize, usize)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on a free port and answers the first requests as `script` says.
    pub async fn start(script: Vec<Behaviour>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a receiver");
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(script.into_iter().rev().collect::<Vec<_>>()));
        let received = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new((0, 0)));
        let (s, r, f) = (script.clone(), received.clone(), in_flight.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let f = f.clone();
                let (s, r) = (s.clone(), r.clone());
                tokio::spawn(async move {
                    serve(stream, s, r, f).await;
                });
            }
        });
        Receiver { addr, script, received, in_flight, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers the next requests as `script` says, then 200 again.
    pub fn then(&self, script: Vec<Behaviour>) {
        *self.script.lock().unwrap() = script.into_iter().rev().collect();
    }

    /// The most requests it was answering at once.
    pub fn peak_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests answered 2xx, each delivery id once (the first time), in order.
    pub fn delivered_once(&self) -> Vec<Received> {
        let mut seen = std::collections::HashSet::new();
        self.received()
            .into_iter()
            .filter(|r| r.delivered())
            .filter(|r| seen.insert(r.header("bidline-delivery").unwrap_or_default().to_owned()))
            .collect()
    }

    /// Waits until `count` deliveries have been accepted (at most `timeout`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let started = std::time::Instant::now();
        loop {
            let delivered = self.delivered_once();
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                started.elapsed() < timeout,
                "{} of {count} deliveries after {timeout:?}: {:#?}",
                delivered.len(),
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: tokio::net::TcpStream,
    script: Arc<Mutex<Vec<Behaviour>>>,
    received: Arc<Mutex<Vec<Received>>>,
    in_flight: Arc<Mutex<(usize, usize)>>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let behaviour = script.lock().unwrap().pop().unwrap_or(Behaviour::Status(200));
    let answered = match behaviour {
        Behaviour::Status(status) => Some(status),
        Behaviour::SlowOk(_) => Some(200),
        _ => None,
    };
    {
        let mut counts = in_flight.lock().unwrap();
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
    }
    received.lock().unwrap().push(Received {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    let reply = |status: u16| {
        format!(
            "HTTP/1.1 {status} Whatever\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        )
    };
    match behaviour {
        Behaviour::Status(status) => {
            let _ = stream.write_all(reply(status).as_bytes()).await;
        }
        Behaviour::SlowOk(pause) => {
            tokio::time::sleep(pause).await;
            let _ = stream.write_all(reply(200).as_bytes()).await;
        }
        Behaviour::Stall => tokio::time::sleep(Duration::from_secs(60)).await,
        Behaviour::Garbage => {
            let _ = stream.write_all(b"\x00\x01 this is not HTTP \xff\r\n\r\n").await;
        }
    }
    let _ = stream.shutdown().await;
    in_flight.lock().unwrap().0 -= 1;
}
