//! The browser suite: the real binary, driven in headless Chromium (Debian `chromium` + `chromium-driver`)
//! through WebDriver, with axe-core run on every page visited. Runs when `MOTCUA_TEST_BROWSER=1` (CI sets it,
//! and `MOTCUA_AXE_JS` to axe-core's `axe.min.js`); says it skipped otherwise. Screenshots of failures go to
//! `MOTCUA_TEST_ARTIFACTS` (default: the temporary directory of the run).

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn enabled() -> bool {
    if std::env::var("MOTCUA_TEST_BROWSER").is_ok_and(|v| v == "1") {
        return true;
    }
    eprintln!(
        "skipped in the browser: set MOTCUA_TEST_BROWSER=1 (needs chromium and chromium-driver)"
    );
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `motcua serve` on a fresh SQLite database with the demo data; returns its URL.
fn start_portal(dir: &std::path::Path) -> (Killed, String) {
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env_remove("MOTCUA_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the portal did not start"
        );
        if let Some(rest) = line.split("đang chạy tại ").nth(1) {
            let url = rest.split_whitespace().next().unwrap().to_string();
            // keep draining stdout so the child never blocks on a full pipe
            std::thread::spawn(move || for _ in out.lines() {});
            return (child, url);
        }
    }
}

fn start_driver() -> (Killed, String) {
    let port = free_port();
    let child = Killed(
        Command::new(
            std::env::var("MOTCUA_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian package chromium-driver)"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, format!("http://127.0.0.1:{port}"))
}

async fn browser(driver: &str, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("MOTCUA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a WebDriver session")
}

/// Run axe-core on the current page; fail with the violations listed.
async fn no_axe_violations(client: &Client, axe: &str, page: &str) {
    client.execute(axe, vec![]).await.unwrap();
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ')')))
                .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    let violations: Vec<String> = serde_json::from_value(result).unwrap();
    assert!(
        violations.is_empty(),
        "accessibility violations on {page}: {violations:#?}"
    );
}

/// Wait until the browser is on `path` (navigation after a click or a form submit).
async fn wait_for_path(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if client.current_url().await.unwrap().path() == path {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the browser never reached {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot_on_failure(client: &Client, name: &str) {
    let dir = std::env::var("MOTCUA_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    if let Ok(png) = client.screenshot().await {
        let path = dir.join(format!("{name}.png"));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(&path, png);
        eprintln!("screenshot of the failure: {}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_finds_a_procedure_without_diacritics_and_logs_in() {
    if !enabled() {
        return;
    }
    let axe = std::fs::read_to_string(
        std::env::var("MOTCUA_AXE_JS").expect("MOTCUA_AXE_JS: path to axe.min.js"),
    )
    .expect("axe-core script");
    let dir = tempfile::tempdir().unwrap();
    let (_portal, url) = start_portal(dir.path());
    let (_driver, driver_url) = start_driver();
    let client = browser(&driver_url, &dir.path().join("profile")).await;
    // the journey runs in its own task so that a failed step still leaves the browser to take a screenshot
    let task = tokio::spawn(journey(client.clone(), url, axe));
    let outcome = tokio::time::timeout(Duration::from_secs(120), task).await;
    if !matches!(outcome, Ok(Ok(()))) {
        screenshot_on_failure(&client, "citizen-journey").await;
    }
    let _ = client.close().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => panic!("the browser journey took more than two minutes"),
    }
}

async fn journey(client: Client, url: String, axe: String) {
    let (client, url, axe) = (&client, url.as_str(), axe.as_str());
    client.goto(url).await.unwrap();
    no_axe_violations(client, axe, "home").await;
    let q = client.find(Locator::Id("q")).await.unwrap();
    q.send_keys("dang ky khai sinh").await.unwrap();
    q.send_keys("\u{E007}").await.unwrap(); // Enter
    let first = client
        .wait()
        .for_element(Locator::Css(".result-title a"))
        .await
        .unwrap();
    assert_eq!(first.text().await.unwrap(), "Đăng ký khai sinh");
    no_axe_violations(client, axe, "search results").await;
    first.click().await.unwrap();
    wait_for_path(client, "/thu-tuc/1.001193").await;
    let h1 = client.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "Đăng ký khai sinh");
    no_axe_violations(client, axe, "procedure page").await;

    client.goto(&format!("{url}/dang-nhap")).await.unwrap();
    no_axe_violations(client, axe, "login").await;
    client
        .find(Locator::Id("ten_dang_nhap"))
        .await
        .unwrap()
        .send_keys("congdan@example.vn")
        .await
        .unwrap();
    client
        .find(Locator::Id("mat_khau"))
        .await
        .unwrap()
        .send_keys("MotCua-2026")
        .await
        .unwrap();
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(client, "/").await;
    let user = client
        .wait()
        .for_element(Locator::Css(".nav .user a"))
        .await
        .unwrap();
    assert_eq!(user.text().await.unwrap(), "Nguyễn Văn An");
    client.goto(&format!("{url}/tai-khoan")).await.unwrap();
    no_axe_violations(client, axe, "account").await;

    // the checker itself must be able to fail: an image without alternative text is a violation
    client
        .execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/favicon.svg\">')", vec![])
        .await
        .unwrap();
    let broken = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document).then(r => done(r.violations.map(v => v.id)));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        broken.to_string().contains("image-alt"),
        "axe-core is not really checking: {broken}"
    );
}
