//! Debian's chromium, headless, driven over WebDriver by `chromedriver`.
//!
//! Each [`Browser`] has its own chromedriver on a free port and its own empty profile,
//! so browser tests run in parallel. Chromium runs with background networking off:
//! this machine has no internet, and chromium's own update and sync calls only fail.

use std::{net::TcpListener, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use tempfile::TempDir;
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Long enough for a debug build's wasm to load and hydrate on a busy 2-core machine.
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Browser {
    client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver (scripts/test does)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");

        let profile = tempfile::tempdir().expect("create a chromium profile folder");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-quic",
                    "--no-first-run",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );

        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = loop {
            let connected = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await;
            match connected {
                Ok(client) => break client,
                Err(error) if tokio::time::Instant::now() > deadline => {
                    panic!("cannot start a chromium session through chromedriver: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self { client, driver, _profile: profile }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits until the app has hydrated it.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
        let hydrated =
            self.client.wait().at_most(WAIT).for_element(Locator::Css("body[data-hydrated]")).await;
        if let Err(error) = hydrated {
            panic!("{url} did not hydrate: {error}\n{}", self.source().await);
        }
    }

    /// Signs in on the login page of the server at `base` and waits for the dashboard.
    pub async fn sign_in(&self, base: &str, email: &str, password: &str) {
        self.open(&format!("{base}/login")).await;
        self.fill("#field-email", email).await;
        self.fill("#field-password", password).await;
        self.click("#login-form button[type=submit]").await;
        self.wait_for_path("/app").await;
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css}: {error}"))
    }

    /// Types `text` into the input matched by `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap_or_else(|error| panic!("clear {css}: {error}"));
        input.send_keys(text).await.unwrap_or_else(|error| panic!("type into {css}: {error}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|error| panic!("click {css}: {error}"));
    }

    /// Chooses the option with `value` in the select matched by `css`, once it is there
    /// (options may arrive after the page).
    pub async fn select(&self, css: &str, value: &str) {
        self.find(&format!("{css} option[value='{value}']")).await;
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|error| panic!("choose {value} in {css}: {error}"));
    }

    /// Waits until the browser's path satisfies `done`, and returns it.
    pub async fn wait_for_path_where(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let url = self.client.current_url().await.expect("the current URL");
            if done(url.path()) {
                return url.path().to_owned();
            }
            assert!(tokio::time::Instant::now() < deadline, "still at {}", url.path());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser is at `path` (and the query, if any).
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let url = self.client.current_url().await.expect("the current URL");
            let here = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            if here == path {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "still at {here}, not {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element's text satisfies `done`, and returns that text.
    pub async fn wait_for_text(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let text = self.find(css).await.text().await.unwrap_or_default();
            if done(&text) {
                return text;
            }
            assert!(tokio::time::Instant::now() < deadline, "{css} still reads {text:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page as the browser has it now, for failure messages.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_else(|error| format!("(no page source: {error})"))
    }

    /// Saves what the window shows as `NAME.png` under `test-output/screenshots` in the
    /// target folder (beside the binaries under test), for people to look at.
    pub async fn screenshot(&self, name: &str) {
        let folder = screenshots_folder();
        std::fs::create_dir_all(&folder).expect("create the screenshots folder");
        let png = self.client.screenshot().await.expect("take a screenshot");
        std::fs::write(folder.join(format!("{name}.png")), png).expect("save the screenshot");
    }

    /// Ends the WebDriver session (chromium exits) before the driver is killed.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// A test that fails before [`Browser::close`] leaves chromium running when only its
    /// driver is killed: the driver leads a process group of its own, and the whole
    /// group goes.
    fn drop(&mut self) {
        if let Some(driver) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{driver}")])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// `<target>/test-output/screenshots`, the target folder being the one holding the
/// running test (`<target>/<profile>/deps/<test>`).
fn screenshots_folder() -> std::path::PathBuf {
    let test_exe = std::env::current_exe().expect("the test's own path");
    let target = test_exe.ancestors().nth(3).expect("test binary in <target>/<profile>/deps");
    target.join("test-output/screenshots")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}
