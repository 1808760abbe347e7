//! The browser suite: the real binary, driven in headless Chromium (Debian `chromium` + `chromium-driver`)
//! through WebDriver, with axe-core run on every page visited. Runs when `MOTCUA_TEST_BROWSER=1` (CI sets it,
//! and `MOTCUA_AXE_JS` to axe-core's `axe.min.js`); says it skipped otherwise. Screenshots of failures go to
//! `MOTCUA_TEST_ARTIFACTS` (default: the temporary directory of the run).

mod common;

use common::{Killed, start_portal};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// One journey's browser: the real portal on a fresh data directory (SQLite, demo data), headless Chromium driven
/// through WebDriver, and axe-core. It dereferences to the WebDriver client for anything the steps below lack.
struct Browser {
    client: Client,
    /// The portal's address.
    url: String,
    axe: String,
    dir: PathBuf,
    /// The journey's name, for the screenshots of the pages it checks.
    name: String,
    /// Pages checked so far (numbers the screenshots in order).
    checked: std::sync::atomic::AtomicUsize,
    /// A phone's screen: every page checked is also checked at 360 px for sideways scrolling.
    phone: bool,
}

/// A phone's screen (CSS pixels), for the journeys run again as on a phone.
const PHONE: (u32, u32) = (390, 844);

impl std::ops::Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Run `journey` in a fresh browser against a fresh portal, within `limit`; a failed step leaves a screenshot
/// named `name` (the journey runs in its own task so that the browser is still there to take it).
async fn in_browser<F, J>(name: &str, limit: Duration, journey: J)
where
    J: FnOnce(Browser) -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    in_browser_sized(name, limit, None, journey).await
}

/// [`in_browser`] on a phone-sized screen.
async fn on_a_phone<F, J>(name: &str, limit: Duration, journey: J)
where
    J: FnOnce(Browser) -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    in_browser_sized(&format!("{name}-phone"), limit, Some(PHONE), journey).await
}

async fn in_browser_sized<F, J>(name: &str, limit: Duration, size: Option<(u32, u32)>, journey: J)
where
    J: FnOnce(Browser) -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
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
    if let Some((w, h)) = size {
        client.set_window_size(w, h).await.unwrap();
    }
    let b = Browser {
        client: client.clone(),
        url,
        axe,
        dir: dir.path().to_path_buf(),
        name: name.to_string(),
        checked: std::sync::atomic::AtomicUsize::new(0),
        phone: size.is_some(),
    };
    let outcome = tokio::time::timeout(limit, tokio::spawn(journey(b))).await;
    if !matches!(outcome, Ok(Ok(()))) {
        screenshot_on_failure(&client, name).await;
    }
    let _ = client.close().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => panic!("the journey {name} took more than {limit:?}"),
    }
}

impl Browser {
    /// Run axe-core on the current page; fail with the violations listed. The page's screenshot is kept with the
    /// test artifacts (`MOTCUA_TEST_ARTIFACTS/screens`), numbered in the journey's order.
    async fn accessible(&self, page: &str) {
        if let Ok(dir) = std::env::var("MOTCUA_TEST_ARTIFACTS") {
            let n = self
                .checked
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            let slug: String = page
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let dir = PathBuf::from(dir).join("screens");
            if let (Ok(()), Ok(png)) = (
                std::fs::create_dir_all(&dir),
                self.client.screenshot().await,
            ) {
                let _ = std::fs::write(dir.join(format!("{}-{n:02}-{slug}.png", self.name)), png);
            }
        }
        self.client.execute(&self.axe, vec![]).await.unwrap();
        let result = self
            .client
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
        // on a phone, the narrowest one too: no sideways scrolling at 360 px
        if self.phone {
            self.client.set_window_size(360, PHONE.1).await.unwrap();
            fits(self, page).await;
            self.client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
        }
    }

    /// Fetch `href` in the browser's session (as "In phiếu" would open it): a PDF, whose text is returned when
    /// Poppler's pdftotext is installed (laid out as printed).
    async fn pdf_text(&self, href: &str) -> Option<String> {
        let answer = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-type'),
                    Array.from(new Uint8Array(await r.arrayBuffer()))]))
                    .catch(e => done([0, String(e), []]));",
                vec![serde_json::json!(href)],
            )
            .await
            .unwrap();
        assert_eq!(answer[0], 200, "{href}: {}", answer[1]);
        assert_eq!(answer[1], "application/pdf", "{href}");
        let bytes: Vec<u8> = serde_json::from_value(answer[2].clone()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{href}");
        let path = self.dir.join("slip.pdf");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new("pdftotext")
            .args(["-layout", path.to_str().unwrap(), "-"])
            .output();
        match out {
            Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
            Err(_) if std::env::var("MOTCUA_TEST_REQUIRE_PDFTOTEXT").is_ok() => {
                panic!("pdftotext (Debian poppler-utils) is required here")
            }
            Err(_) => None,
        }
    }

    /// Wait until the browser is on `path` (navigation after a click or a form submit).
    async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.client.current_url().await.unwrap().path() == path {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the browser never reached {path}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn type_into(&self, id: &str, text: &str) {
        let el = self.client.find(Locator::Id(id)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Click something that loads a new page (a form's button), and wait until the old page is gone: the new one
    /// may have the same address.
    async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while old.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "no new page after clicking {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn value_of(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    async fn login_as(&self, login: &str, password: &str) {
        self.client
            .goto(&format!("{}/dang-nhap", self.url))
            .await
            .unwrap();
        self.type_into("ten_dang_nhap", login).await;
        self.type_into("mat_khau", password).await;
        self.submit("main form button[type=submit]").await;
        // citizens land on the portal, officers on their work
        let landing = if login.starts_with("bientap@") || login.starts_with("truongbantin@") {
            "/bien-tap"
        } else if login.contains("@minhhoa.example.vn") {
            "/can-bo"
        } else {
            "/"
        };
        self.wait_for_path(landing).await;
    }

    /// On a phone the navigation is folded into "Menu": open it (nothing to do on a wider screen).
    async fn open_menu(&self) {
        let toggle = self.client.find(Locator::Id("mo-menu")).await.unwrap();
        if toggle.is_displayed().await.unwrap()
            && toggle.attr("aria-expanded").await.unwrap().as_deref() == Some("false")
        {
            toggle.click().await.unwrap();
        }
    }

    async fn logout(&self) {
        self.open_menu().await;
        self.submit("form[action='/dang-xuat'] button").await;
        self.wait_for_path("/dang-nhap").await;
    }

    /// A file on disk for an upload field.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
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
    in_browser("citizen-journey", Duration::from_secs(120), journey).await;
}

async fn journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    client.goto(url).await.unwrap();
    client.accessible("home").await;
    let q = client.find(Locator::Id("q")).await.unwrap();
    q.send_keys("dang ky khai sinh").await.unwrap();
    q.send_keys("\u{E007}").await.unwrap(); // Enter
    let first = client
        .wait()
        .for_element(Locator::Css(".result-title a"))
        .await
        .unwrap();
    assert_eq!(first.text().await.unwrap(), "Đăng ký khai sinh");
    client.accessible("search results").await;
    first.click().await.unwrap();
    client.wait_for_path("/thu-tuc/1.001193").await;
    let h1 = client.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "Đăng ký khai sinh");
    client.accessible("procedure page").await;

    // the public list of results, and the footer's counters (this visit counted within seconds)
    client
        .goto(&format!("{url}/ket-qua-giai-quyet?thang=13%2F2026"))
        .await
        .unwrap();
    client.accessible("results list with a bad month").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        client
            .goto(&format!("{url}/ket-qua-giai-quyet"))
            .await
            .unwrap();
        let footer = client
            .find(Locator::Css(".visits"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if !footer.contains("hôm nay: 0") {
            assert!(footer.contains("hôm nay: 1"), "{footer}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the counters never moved: {footer}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client.accessible("results list").await;
    client.goto(&format!("{url}/thong-ke")).await.unwrap();
    client
        .find(Locator::Css("figure svg[role=img]"))
        .await
        .unwrap();
    client.accessible("statistics with its chart").await;
    client.goto(&format!("{url}/chi-so-766")).await.unwrap();
    client
        .find(Locator::Css("figure svg[role=img]"))
        .await
        .unwrap();
    let ranking = client
        .find(Locator::Css("main table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ranking.contains("Tổng (100)"), "{ranking}");
    client.accessible("the 766 index with its chart").await;
    // the API's documentation, drawn from its OpenAPI document
    client.goto(&format!("{url}/tai-lieu-api")).await.unwrap();
    let api = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(api.contains("GET /api/v1/procedures/{code}"), "{api}");
    client.accessible("the API documentation").await;
    client.goto(&format!("{url}/dang-nhap")).await.unwrap();
    client.accessible("login").await;
    client.login_as("congdan@example.vn", "MotCua-2026").await;
    client.open_menu().await;
    let user = client
        .wait()
        .for_element(Locator::Css(".nav .user a"))
        .await
        .unwrap();
    assert_eq!(user.text().await.unwrap(), "Nguyễn Văn An");
    client.goto(&format!("{url}/tai-khoan")).await.unwrap();
    client.accessible("account").await;
    // a personal token for an app of theirs: shown once, then it opens their own dossiers in the API
    client.click("a[href='/tai-khoan/ma-truy-cap']").await;
    client.wait_for_path("/tai-khoan/ma-truy-cap").await;
    client.type_into("ten", "Ứng dụng thử").await;
    client.click("button[value='tao']").await;
    let token = client
        .wait()
        .for_element(Locator::Id("ma-moi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(token.starts_with("motcua_pat_"), "{token}");
    client.accessible("a personal token just made").await;
    let answer = client
        .execute_async(
            "const [token, done] = arguments;
             fetch('/api/v1/me/dossiers', { headers: { Authorization: 'Bearer ' + token } })
               .then(r => r.json().then(body => done([r.status, Array.isArray(body)])))
               .catch(e => done([0, String(e)]));",
            vec![serde_json::json!(token)],
        )
        .await
        .unwrap();
    assert_eq!(
        answer,
        serde_json::json!([200, true]),
        "the token reads my dossiers"
    );

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_applies_online_and_the_back_office_takes_it_to_delivery() {
    in_browser("online-submission", Duration::from_secs(180), apply_journey).await;
}

async fn apply_journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    let pdf = b.file(
        "to-khai.pdf",
        b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
    );
    // register
    client.goto(&format!("{url}/dang-ky")).await.unwrap();
    client.accessible("registration").await;
    client.type_into("ho_ten", "Lê Thị Hồng").await;
    client.type_into("so_dinh_danh", "001199012399").await;
    client.type_into("ngay_sinh", "12/03/1995").await;
    client.type_into("dien_thoai", "0987001122").await;
    client.type_into("email", "hong@example.vn").await;
    client.type_into("dia_chi", "Số 5 đường Lê Lợi").await;
    client.type_into("mat_khau", "Hoa Sen Nở 2026").await;
    client
        .type_into("nhap_lai_mat_khau", "Hoa Sen Nở 2026")
        .await;
    client.click("label[for=dong_y]").await;
    client.submit("main form button[type=submit]").await;
    // the same answer whether or not the details had an account: then log in
    client.wait_for_path("/dang-nhap").await;
    let notice = client
        .wait()
        .for_element(Locator::Css("main .notice"))
        .await
        .unwrap();
    assert!(notice.text().await.unwrap().contains("Đã nhận đăng ký"));
    client.accessible("registered").await;
    client.login_as("001199012399", "Hoa Sen Nở 2026").await;

    // find the procedure without diacritics and start online
    client
        .goto(&format!("{url}/thu-tuc?q=khai+sinh"))
        .await
        .unwrap();
    client.click(".result-title a").await;
    client.wait_for_path("/thu-tuc/1.001193").await;
    client.click("a.button[href^='/nop-ho-so/1.001193/']").await;
    client
        .wait()
        .for_element(Locator::Css("main form button"))
        .await
        .unwrap();
    client.accessible("start page").await;
    client.submit("main form button[type=submit]").await;

    // page 1: pre-filled from the account; a mistake first
    client
        .wait()
        .for_element(Locator::Id("nguoi_nop_ho_ten"))
        .await
        .unwrap();
    assert_eq!(client.value_of("nguoi_nop_ho_ten").await, "Lê Thị Hồng");
    client.accessible("form page").await;
    client.click("label[for=nop_thay-2]").await;
    client.submit("button[value=tiep]").await;
    let summary = client
        .wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap();
    assert!(
        summary
            .text()
            .await
            .unwrap()
            .contains("Chọn tỉnh, thành phố")
    );
    client.accessible("form page with errors").await;
    client
        .find(Locator::Id("nguoi_nop_dia_chi-tinh"))
        .await
        .unwrap()
        .select_by_label("Tỉnh Đắk Lắk")
        .await
        .unwrap();
    client
        .type_into("nguoi_nop_dia_chi-xa", "Phường Tân Lập")
        .await;
    client.submit("button[value=tiep]").await;

    // page 2: type, let autosave run, reload: the answers are still there
    client
        .wait()
        .for_element(Locator::Id("ho_ten_tre"))
        .await
        .unwrap();
    client.type_into("ho_ten_tre", "Lê Minh Khang").await;
    let born = days_ago(28);
    client.type_into("ngay_sinh", &born).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = client
            .find(Locator::Id("trang-thai-luu"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if status.starts_with("Đã tự động lưu") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "autosave never reported: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.refresh().await.unwrap();
    client
        .wait()
        .for_element(Locator::Id("ho_ten_tre"))
        .await
        .unwrap();
    assert_eq!(client.value_of("ho_ten_tre").await, "Lê Minh Khang");
    assert_eq!(client.value_of("ngay_sinh").await, born);
    client.click("label[for=gioi_tinh]").await;
    choose_ethnicity(client).await;
    client
        .find(Locator::Id("noi_sinh-tinh"))
        .await
        .unwrap()
        .select_by_label("Thành phố Hà Nội")
        .await
        .unwrap();
    client.type_into("noi_sinh-xa", "Phường Ba Đình").await;
    client.submit("button[value=tiep]").await;

    // page 3: the parents
    client
        .wait()
        .for_element(Locator::Id("ho_ten_me"))
        .await
        .unwrap();
    client.type_into("ho_ten_me", "Lê Thị Hồng").await;
    client.type_into("so_dinh_danh_me", "001199012399").await;
    // the father's questions appear only when they apply
    let father = client.find(Locator::Id("o-ho_ten_cha")).await.unwrap();
    assert!(!father.is_displayed().await.unwrap());
    client.click("label[for=co_thong_tin_cha]").await;
    assert!(father.is_displayed().await.unwrap());
    client.click("label[for=co_thong_tin_cha-2]").await;
    assert!(!father.is_displayed().await.unwrap());
    client.submit("button[value=tiep]").await;

    // attachments: the declaration comes from the e-form just filled in; one PDF for the other required paper
    client
        .wait()
        .for_element(Locator::Id("tep-1"))
        .await
        .unwrap();
    client.accessible("attachments").await;
    let declaration = client
        .find(Locator::Css("#thanh-phan-0 + p"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(declaration.contains("không cần tải lên"), "{declaration}");
    assert!(
        client.find(Locator::Id("tep-0")).await.is_err(),
        "no upload for the declaration"
    );
    for i in 1..2 {
        client
            .find(Locator::Id(&format!("tep-{i}")))
            .await
            .unwrap()
            .send_keys(pdf.to_str().unwrap())
            .await
            .unwrap();
        client
            .submit(&format!("form.upload:has(#tep-{i}) button"))
            .await;
        client
            .wait()
            .for_element(Locator::Css(&format!("#thanh-phan-{i} ~ ul.files a")))
            .await
            .unwrap();
    }
    client.click("a.button[href$='/kiem-tra']").await;

    // check and submit
    client
        .wait()
        .for_element(Locator::Id("cam_doan"))
        .await
        .unwrap();
    client.accessible("check your answers").await;
    let check = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        check.contains("Lê Minh Khang")
            && check.contains("to-khai.pdf")
            && check.contains("Tờ khai điện tử bạn đã khai"),
        "{check}"
    );
    client.click("label[for=cam_doan]").await;
    client.submit("button[data-once]").await;
    let code = client
        .wait()
        .for_element(Locator::Css(".panel .code"))
        .await
        .unwrap();
    let code = code.text().await.unwrap();
    assert!(code.starts_with("000.31.00.H56-"), "{code}");
    client.accessible("confirmation").await;
    client.goto(&format!("{url}/ho-so-cua-toi")).await.unwrap();
    client.accessible("my dossiers").await;
    client.open_menu().await;
    client.click("form[action='/dang-xuat'] button").await;
    client.wait_for_path("/dang-nhap").await;

    // anyone with the code and the phone number can follow it, without logging in
    client.goto(&format!("{url}/tra-cuu-ho-so")).await.unwrap();
    client.type_into("ma", &code).await;
    client.type_into("xac_minh", "0987001122").await;
    client.submit("main form button[type=submit]").await;
    let found = client
        .wait()
        .for_element(Locator::Css("main h2"))
        .await
        .unwrap();
    assert_eq!(found.text().await.unwrap(), format!("Hồ sơ {code}"));
    client.accessible("lookup").await;
    // the back office: the desk receives it, the specialist processes, the head of unit approves, the desk
    // hands the result over
    client
        .login_as("motcua@minhhoa.example.vn", "MotCua-2026")
        .await;
    // the officer lands on their work: the dossier waits for reception
    let waiting = client
        .find(Locator::Css(
            ".tile a[href='/can-bo/tiep-nhan'] .tile-count",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(waiting, "0");
    client.accessible("officer's work").await;
    client.click(".tile a[href='/can-bo/tiep-nhan']").await;
    client.wait_for_path("/can-bo/tiep-nhan").await;
    client.accessible("reception queue").await;
    client
        .click(&format!("a[href='/can-bo/ho-so/{code}']"))
        .await;
    client
        .wait()
        .for_element(Locator::Id("tiep_nhan"))
        .await
        .unwrap();
    client.accessible("officer's dossier").await;
    client.click("#tiep_nhan").await;
    client.wait_for_path("/can-bo/tiep-nhan").await;
    // it says so, with the slip to print
    let banner = client
        .wait()
        .for_element(Locator::Css(".notice[role=status]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        banner.contains(&format!("Đã tiếp nhận hồ sơ {code}, hẹn trả")),
        "{banner}"
    );
    client.accessible("accepted, with its slip").await;
    // "In phiếu 01" opens the receipt and appointment slip, as the circular prints it
    let slip = client
        .find(Locator::Css(".notice[role=status] a[href$='/phieu/01']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    if let Some(text) = client.pdf_text(&slip).await {
        for field in [
            "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            "Lê Thị Hồng",
            "Thời gian trả kết quả:",
            "Giấy chứng sinh",
            "NGƯỜI TIẾP NHẬN HỒ SƠ",
        ] {
            assert!(text.contains(field), "{field} missing from slip 01: {text}");
        }
    }
    client.logout().await;
    // the specialist starts processing (and so holds the first step), enters the result, forwards it to the
    // head of unit, who forwards it to the leader, who approves; the desk hands the result over
    let code = code.as_str();
    let open_dossier = |who: &'static str| async move {
        client.login_as(who, "MotCua-2026").await;
        client.goto(&format!("{url}/can-bo/ho-so")).await.unwrap();
        client.accessible("officer inbox").await;
        // on a phone each dossier of the list is a card
        if client.phone {
            let display = client
                .execute(
                    "return getComputedStyle(document.querySelector('.dossier-cards tbody tr')).display",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(display, "block");
        }
        client
            .click(&format!("a[href='/can-bo/ho-so/{code}']"))
            .await;
    };
    let change_status = |step: &'static str| async move {
        client
            .wait()
            .for_element(Locator::Id(&format!("den-{step}")))
            .await
            .unwrap();
        client.submit(&format!("#den-{step}")).await;
        client.wait_for_path(&format!("/can-bo/ho-so/{code}")).await;
    };
    let forward_to = |name: &'static str| async move {
        client
            .wait()
            .for_element(Locator::Id("chuyen-buoc"))
            .await
            .unwrap();
        client.accessible("a step to forward").await;
        client
            .find(Locator::Id("can_bo_tiep"))
            .await
            .unwrap()
            .select_by_label(name)
            .await
            .unwrap();
        client.submit("#chuyen-buoc button").await;
        client.wait_for_path(&format!("/can-bo/ho-so/{code}")).await;
        // it says so, and to whom
        let banner = client
            .find(Locator::Css(".notice.success[role=status]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            banner.contains("Đã chuyển hồ sơ") && banner.contains(name),
            "{banner}"
        );
    };
    // level 4: the specialist sets a fee (status 6, the clock paused); in the sandbox gateway the citizen's card is
    // declined, then the payment goes through; its notification takes the dossier back to processing with the
    // first step open to the unit, which the specialist takes
    open_dossier("chuyenvien@minhhoa.example.vn").await;
    client
        .wait()
        .for_element(Locator::Id("den-awaiting_financial_obligation"))
        .await
        .unwrap();
    client.type_into("so_tien", "50.000").await;
    client
        .type_into("ly_do_sau", "Lệ phí đăng ký khai sinh theo quy định")
        .await;
    client.submit("#den-awaiting_financial_obligation").await;
    client.wait_for_path(&format!("/can-bo/ho-so/{code}")).await;
    client.logout().await;
    client.login_as("hong@example.vn", "Hoa Sen Nở 2026").await;
    let pay = |outcome: &'static str| async move {
        client.goto(&format!("{url}/ho-so/{code}")).await.unwrap();
        client
            .wait()
            .for_element(Locator::Css("form[action$='/thanh-toan'] button"))
            .await
            .unwrap();
        client.accessible("a fee to pay").await;
        client.submit("form[action$='/thanh-toan'] button").await;
        client.wait_for_path("/cong-thanh-toan-thu-nghiem").await;
        client.accessible("sandbox gateway").await;
        client.click(&format!("label[for={outcome}]")).await;
        client.submit("main form button[type=submit]").await;
        client.wait_for_path("/thanh-toan/ket-qua").await;
        client.accessible("payment outcome").await;
        client
            .find(Locator::Css("main h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(pay("kq-tu-choi").await, "Thanh toán không thành công");
    assert_eq!(pay("kq-thanh-cong").await, "Thanh toán thành công");
    client.logout().await;
    open_dossier("chuyenvien@minhhoa.example.vn").await;
    client
        .wait()
        .for_element(Locator::Css("#nhan-buoc button"))
        .await
        .unwrap();
    client.submit("#nhan-buoc button").await;
    client.wait_for_path(&format!("/can-bo/ho-so/{code}")).await;
    // a result with a wrong date is refused with what was typed kept
    client.type_into("so_ket_qua", "15/GKS-UBND").await;
    client.type_into("nguoi_ky_ket_qua", "Hoàng Văn Em").await;
    client.type_into("ngay_ky_ket_qua", "31/02/2026").await;
    client.submit("#nhap-ket-qua button").await;
    let summary = client
        .wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap();
    assert!(
        summary.text().await.unwrap().contains("ngày ký"),
        "{}",
        summary.text().await.unwrap()
    );
    client.accessible("a refused result").await;
    let kept = client
        .find(Locator::Id("so_ket_qua"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("15/GKS-UBND"));
    client.type_into("ngay_ky_ket_qua", "02/01/2026").await;
    // level 4: the result file is signed by the agency when it is entered
    let result_pdf: &[u8] =
        b"%PDF-1.4\n% Giay khai sinh ban dien tu\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let result_file = b.file("ket-qua.pdf", result_pdf);
    client
        .find(Locator::Id("tep_ket_qua"))
        .await
        .unwrap()
        .send_keys(result_file.to_str().unwrap())
        .await
        .unwrap();
    client.submit("#nhap-ket-qua button").await;
    client.wait_for_path(&format!("/can-bo/ho-so/{code}")).await;
    let signed = client
        .find(Locator::Css("#ket-qua ~ dl"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(signed.contains("Chữ ký số"), "{signed}");
    forward_to("Phạm Thị Dung").await;
    client.logout().await;
    open_dossier("truongphong@minhhoa.example.vn").await;
    forward_to("Hoàng Văn Em").await;
    client.logout().await;
    open_dossier("lanhdao@minhhoa.example.vn").await;
    let sheet = client
        .wait()
        .for_element(Locator::Css("table.steps"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sheet.contains("Lê Văn Cường") && sheet.contains("Phạm Thị Dung"),
        "{sheet}"
    );
    change_status("processed").await;
    let banner = client
        .find(Locator::Css(".notice.success[role=status]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(banner.contains("Đã phê duyệt hồ sơ"), "{banner}");
    client.accessible("approved, with what comes next").await;
    client.logout().await;
    open_dossier("motcua@minhhoa.example.vn").await;
    client
        .wait()
        .for_element(Locator::Id("cach_tra-tai_quay"))
        .await
        .unwrap();
    client.click("label[for=cach_tra-tai_quay]").await;
    change_status("result_delivered").await;
    client.logout().await;

    // the administrator's workflow editor and the desk's register are accessible too
    client
        .login_as("quantri@minhhoa.example.vn", "MotCua-2026")
        .await;
    client
        .goto(&format!("{url}/quan-tri/quy-trinh"))
        .await
        .unwrap();
    client.accessible("workflows").await;
    client
        .goto(&format!("{url}/quan-tri/quy-trinh/1.001193/dung-han"))
        .await
        .unwrap();
    client.type_into("gio_0", "nhiều").await;
    client.submit("main form button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap();
    client.accessible("a refused workflow").await;
    client.logout().await;
    client
        .login_as("motcua@minhhoa.example.vn", "MotCua-2026")
        .await;
    client
        .goto(&format!("{url}/can-bo/so-theo-doi"))
        .await
        .unwrap();
    client.accessible("register").await;
    client.logout().await;

    // the citizen sees the result delivered in "My dossiers", with every step on the timeline
    client.login_as("hong@example.vn", "Hoa Sen Nở 2026").await;
    client.goto(&format!("{url}/ho-so-cua-toi")).await.unwrap();
    let table = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains(code) && table.contains("Đã trả kết quả"),
        "{table}"
    );
    client.goto(&format!("{url}/ho-so/{code}")).await.unwrap();
    let timeline = client
        .find(Locator::Css(".timeline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for status in [
        "Mới đăng ký",
        "Được tiếp nhận",
        "Yêu cầu thực hiện nghĩa vụ tài chính",
        "Đang xử lý",
        "Đã xử lý xong",
        "Đã trả kết quả",
    ] {
        assert!(
            timeline.contains(status),
            "{status} missing from {timeline}"
        );
    }
    client.accessible("dossier with its timeline").await;
    // the applicant rates the handling, once
    client.click("label[for=muc_do-5]").await;
    client
        .type_into("y_kien", "Cán bộ hướng dẫn tận tình")
        .await;
    client.submit("#danh-gia form button").await;
    client.wait_for_path(&format!("/ho-so/{code}")).await;
    let rated = client
        .wait()
        .for_element(Locator::Css("#danh-gia"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(rated.contains("Rất hài lòng"), "{rated}");
    client.accessible("a rated dossier").await;

    // the signed result: its QR code and link lead to the public verification page, which says "Khớp" for the
    // file as issued and "Không khớp" for a changed copy
    let verify = client
        .find(Locator::Css(".seal a[href*='/xac-thuc/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    client.logout().await;
    client.goto(&verify).await.unwrap();
    client.accessible("verification page").await;
    let check = |name: &'static str, bytes: Vec<u8>| {
        let path = b.file(name, &bytes);
        async move {
            client
                .find(Locator::Id("tep"))
                .await
                .unwrap()
                .send_keys(path.to_str().unwrap())
                .await
                .unwrap();
            client.submit("main form button[type=submit]").await;
            let verdict = client
                .wait()
                .for_element(Locator::Css(".verdict h2"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            client.accessible("a checked copy").await;
            verdict
        }
    };
    assert_eq!(check("ban-goc.pdf", result_pdf.to_vec()).await, "Khớp");
    let mut changed = result_pdf.to_vec();
    changed[12] = b'X';
    assert_eq!(check("ban-sua.pdf", changed).await, "Không khớp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_changes_a_fee_and_the_portal_shows_the_new_version() {
    in_browser(
        "editor-changes-a-fee",
        Duration::from_secs(120),
        editor_journey,
    )
    .await;
}

async fn editor_journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    client
        .login_as("bientap@minhhoa.example.vn", "MotCua-2026")
        .await;
    client
        .goto(&format!("{url}/quan-tri/thu-tuc?q=ho+kinh+doanh"))
        .await
        .unwrap();
    client.accessible("procedures to edit").await;
    client.click("a[href='/quan-tri/thu-tuc/1.001612']").await;
    client.wait_for_path("/quan-tri/thu-tuc/1.001612").await;
    client.accessible("a procedure's record").await;
    assert_eq!(client.value_of("th0_phi0_so_tien").await, "100000");

    // a fee nobody can pay is refused, and what was typed stays
    client.type_into("th0_phi0_so_tien", "một trăm").await;
    client
        .submit("form[action='/quan-tri/thu-tuc/1.001612'] button[type=submit]")
        .await;
    let summary = client
        .wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("viết như 1.234.000"), "{summary}");
    assert_eq!(client.value_of("th0_phi0_so_tien").await, "một trăm");
    client.accessible("a refused fee").await;

    client.type_into("th0_phi0_so_tien", "150.000").await;
    client
        .submit("form[action='/quan-tri/thu-tuc/1.001612'] button[type=submit]")
        .await;
    let notice = client
        .wait()
        .for_element(Locator::Css(".notice"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(notice.contains("Đã lưu phiên bản 2"), "{notice}");
    client.accessible("a saved version").await;
    client
        .click("a[href^='/quan-tri/thu-tuc/1.001612/phien-ban']")
        .await;
    client
        .wait_for_path("/quan-tri/thu-tuc/1.001612/phien-ban")
        .await;
    let table = client
        .wait()
        .for_element(Locator::Css("main table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("100000") && table.contains("150000"),
        "{table}"
    );
    client.accessible("two versions side by side").await;

    client
        .goto(&format!("{url}/thu-tuc/1.001612"))
        .await
        .unwrap();
    let page = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("150.000 đ") && !page.contains("100.000 đ"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_merges_two_communes() {
    in_browser(
        "administrator-merges-communes",
        Duration::from_secs(120),
        merger_journey,
    )
    .await;
}

async fn merger_journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    client
        .login_as("quantri@minhhoa.example.vn", "MotCua-2026")
        .await;
    // a system registered to call the API for a ward: its key shown once
    client
        .goto(&format!("{url}/quan-tri/ket-noi-api"))
        .await
        .unwrap();
    client.accessible("the systems that call the API").await;
    client
        .type_into("ten", "Hệ thống thông tin của Sở Tư pháp")
        .await;
    client.type_into("co_quan", "000.31.00.H56").await;
    client.click("#pv-1").await;
    client
        .click("form[action='/quan-tri/ket-noi-api'] button[type='submit']")
        .await;
    let key = client
        .wait()
        .for_element(Locator::Id("khoa-moi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(key.starts_with("motcua_") && key.len() == 71, "{key}");
    client
        .accessible("a system just registered, with its key")
        .await;
    client
        .goto(&format!("{url}/quan-tri/co-quan"))
        .await
        .unwrap();
    client.accessible("the agency tree").await;
    client
        .click("a[href='/quan-tri/co-quan/000.32.00.H56']")
        .await;
    client
        .wait_for_path("/quan-tri/co-quan/000.32.00.H56")
        .await;
    client.accessible("an agency").await;

    // the successor chosen but not confirmed: nothing happens, the choice stays
    client
        .find(Locator::Css("#ke_thua option[value='000.31.00.H56']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.type_into("ngay", "01/01/2026").await;
    client.submit("form[action$='/sap-nhap'] button").await;
    client
        .wait()
        .for_element(Locator::Css("#xac_nhan-loi"))
        .await
        .unwrap();
    assert_eq!(client.value_of("ke_thua").await, "000.31.00.H56");
    client.accessible("an unconfirmed merger").await;

    client.click("#xac_nhan").await;
    client.submit("form[action$='/sap-nhap'] button").await;
    let report = client
        .wait()
        .for_element(Locator::Css(".notice h2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        report.contains("Đã sáp nhập vào Ủy ban nhân dân phường Trung Tâm từ ngày 01/01/2026"),
        "{report}"
    );
    client.accessible("a merger's report").await;

    // the public page of a procedure both communes carried out names only the successor
    client
        .goto(&format!("{url}/thu-tuc/1.001193"))
        .await
        .unwrap();
    let page = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("phường Trung Tâm") && !page.contains("xã An Bình"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_without_sideways_scrolling() {
    in_browser("phone-width", Duration::from_secs(120), phone_journey).await;
}

/// The page is no wider than the window (a table may scroll inside its own frame, never the page).
async fn fits(b: &Browser, page: &str) {
    // the width, and the elements that stick out (to know what to fix)
    let widths = b
        .execute(
            "const w = window.innerWidth;
             const out = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1)
                .filter(e => !e.closest('.table-wrap'))
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right));
             return [document.documentElement.scrollWidth, w, out];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= inner,
        "{page} is {scroll} px wide in a {inner} px window: {}",
        widths[2]
    );
}

async fn phone_journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    client.set_window_size(360, 800).await.unwrap();
    // the navigation folds into "Menu", which opens it
    client.goto(&format!("{url}/")).await.unwrap();
    let nav = client.find(Locator::Id("dieu-huong")).await.unwrap();
    assert!(!nav.is_displayed().await.unwrap(), "folded on a phone");
    client.open_menu().await;
    assert!(nav.is_displayed().await.unwrap(), "opened by Menu");
    assert_eq!(
        client
            .find(Locator::Id("mo-menu"))
            .await
            .unwrap()
            .attr("aria-expanded")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    for path in [
        "/",
        "/thu-tuc",
        "/thu-tuc?q=dang+ky+khai+sinh",
        "/thu-tuc/1.001193",
        "/tra-cuu-ho-so",
        "/dang-nhap",
        "/dang-ky",
        "/trang/tro-giup",
        "/ket-qua-giai-quyet",
        "/thong-ke",
        "/chi-so-766",
        "/tin-tuc",
    ] {
        client.goto(&format!("{url}{path}")).await.unwrap();
        fits(&b, path).await;
    }
    client
        .login_as("quantri@minhhoa.example.vn", "MotCua-2026")
        .await;
    for path in [
        "/can-bo",
        "/can-bo/tiep-nhan",
        "/can-bo/ho-so",
        "/can-bo/tiep-nhan/truc-tiep",
        "/quan-tri/co-quan",
        "/quan-tri/thu-tuc",
        "/quan-tri/thu-tuc/1.001193",
        "/quan-tri/quy-trinh",
        "/quan-tri/tim-kiem",
        "/quan-tri/tu-dong-nghia",
        "/can-bo/so-theo-doi",
        "/can-bo/chi-so-766/000.31.00.H56",
        "/quan-tri/ket-noi-api",
        "/tai-khoan",
    ] {
        client.goto(&format!("{url}{path}")).await.unwrap();
        fits(&b, path).await;
    }
    client.logout().await;
    client.login_as("congdan@example.vn", "MotCua-2026").await;
    for path in [
        "/ho-so-cua-toi",
        "/tai-khoan",
        "/tai-khoan/ma-truy-cap",
        "/nop-ho-so/1.001193/dung-han/000.31.00.H56",
    ] {
        client.goto(&format!("{url}{path}")).await.unwrap();
        fits(&b, path).await;
    }
}

// The same journeys on a phone-sized screen (390 × 844): every step reachable, every page checked by axe-core.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_finds_a_procedure_and_logs_in_on_a_phone() {
    on_a_phone("citizen-journey", Duration::from_secs(120), journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_applies_online_and_the_back_office_takes_it_to_delivery_on_a_phone() {
    on_a_phone("online-submission", Duration::from_secs(180), apply_journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_changes_a_fee_on_a_phone() {
    on_a_phone(
        "editor-changes-a-fee",
        Duration::from_secs(120),
        editor_journey,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_merges_two_communes_on_a_phone() {
    on_a_phone(
        "administrator-merges-communes",
        Duration::from_secs(120),
        merger_journey,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_reaches_every_control_of_the_form_with_the_keyboard_alone() {
    in_browser("keyboard-only", Duration::from_secs(120), keyboard_journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_reaches_every_control_of_the_form_with_the_keyboard_alone_on_a_phone() {
    on_a_phone("keyboard-only", Duration::from_secs(120), keyboard_journey).await;
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// The id (or name) of the element that has the focus.
async fn focused(b: &Browser) -> String {
    b.execute(
        "const e = document.activeElement; return e ? (e.id || e.name || e.tagName.toLowerCase()) : '';",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Press Tab from the top of the page until `wanted` has the focus (at most `limit` times); the ids passed.
async fn tab_to(b: &Browser, wanted: &str, limit: usize) -> Vec<String> {
    b.execute(
        "document.activeElement && document.activeElement.blur(); window.focus();",
        vec![],
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    for _ in 0..limit {
        b.active_element()
            .await
            .unwrap()
            .send_keys(TAB)
            .await
            .unwrap();
        let now = focused(b).await;
        seen.push(now.clone());
        if now == wanted {
            return seen;
        }
    }
    panic!("{wanted} never took the focus; the Tab order was {seen:?}");
}

async fn keyboard_journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    // log in: type, then Enter
    client.goto(&format!("{url}/dang-nhap")).await.unwrap();
    tab_to(&b, "ten_dang_nhap", 40).await;
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("congdan@example.vn")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(TAB)
        .await
        .unwrap();
    assert_eq!(focused(&b).await, "mat_khau");
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("MotCua-2026")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(ENTER)
        .await
        .unwrap();
    client.wait_for_path("/").await;

    // start the application: Tab to the start button, Enter
    client
        .goto(&format!("{url}/nop-ho-so/1.001193/dung-han/000.31.00.H56"))
        .await
        .unwrap();
    let start: String = client
        .execute(
            "return document.querySelector('main form button[type=submit]').id || 'bat-dau';",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or("bat-dau")
        .to_string();
    client
        .execute(
            "const b = document.querySelector('main form button[type=submit]'); if (!b.id) { b.id = 'bat-dau'; }",
            vec![],
        )
        .await
        .unwrap();
    tab_to(&b, &start, 60).await;
    let old = client.find(Locator::Css("html")).await.unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(ENTER)
        .await
        .unwrap();
    while old.tag_name().await.is_ok() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // the form page: every control, one per radio group, is reached by Tab, in the order of the page
    client
        .wait()
        .for_element(Locator::Css("main form"))
        .await
        .unwrap();
    let expected: Vec<String> = serde_json::from_value(
        client
            .execute(
                "const seen = new Set(); const out = []; let n = 0;
                 for (const e of document.querySelectorAll('main form input:not([type=hidden]), main form select, main form textarea, main form button')) {
                   if (e.disabled || e.offsetParent === null) continue;
                   if (!e.id && e.type !== 'radio') { e.id = 'dieu-khien-' + (n += 1); }
                   if (e.type === 'radio') { if (seen.has(e.name)) continue; seen.add(e.name);
                     const checked = document.querySelector('main form input[type=radio][name=\"' + e.name + '\"]:checked');
                     out.push((checked || e).id || e.name); continue; }
                   out.push(e.id || e.name);
                 }
                 return out;",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(expected.len() >= 3, "a form with controls: {expected:?}");
    let last = expected.last().unwrap().clone();
    let order = tab_to(&b, &last, 200).await;
    let mut at = 0;
    for id in &expected {
        match order[at..].iter().position(|o| o == id) {
            Some(p) => at += p + 1,
            None => panic!("{id} is not reached in the page's order; Tab went {order:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_citizen_goes_from_a_procedure_through_registration_back_to_applying() {
    in_browser("new-citizen", Duration::from_secs(120), new_citizen_journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_citizen_goes_from_a_procedure_through_registration_back_to_applying_on_a_phone() {
    on_a_phone("new-citizen", Duration::from_secs(120), new_citizen_journey).await;
}

async fn new_citizen_journey(b: Browser) {
    let (client, url) = (&b, b.url.as_str());
    client
        .goto(&format!("{url}/thu-tuc/1.001193"))
        .await
        .unwrap();
    let apply = client
        .find(Locator::Css("a.button[href^='/nop-ho-so/1.001193/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    client.click("a.button[href^='/nop-ho-so/1.001193/']").await;
    // the login wall says why, and its registration link keeps where the citizen was going
    client.wait_for_path("/dang-nhap").await;
    let why = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        why.contains("Đăng nhập hoặc đăng ký để nộp hồ sơ trực tuyến"),
        "{why}"
    );
    client.accessible("the login wall").await;
    client.click("a[href^='/dang-ky?tiep=']").await;
    client.wait_for_path("/dang-ky").await;
    client.accessible("registration, on the way to apply").await;
    client.type_into("ho_ten", "Đặng Văn Phúc").await;
    client.type_into("so_dinh_danh", "001099055577").await;
    client.type_into("ngay_sinh", "02/09/1988").await;
    client.type_into("dien_thoai", "0912055577").await;
    client.type_into("email", "phuc@example.vn").await;
    client.type_into("mat_khau", "Sông Hồng 2026 xanh").await;
    client
        .type_into("nhap_lai_mat_khau", "Sông Hồng 2026 xanh")
        .await;
    client.click("label[for=dong_y]").await;
    client.submit("main form button[type=submit]").await;
    client.wait_for_path("/dang-nhap").await;
    client.accessible("registered, asked to log in").await;
    client.type_into("ten_dang_nhap", "phuc@example.vn").await;
    client.type_into("mat_khau", "Sông Hồng 2026 xanh").await;
    client.submit("main form button[type=submit]").await;
    // back where they were going
    client.wait_for_path(&apply).await;
    client
        .wait()
        .for_element(Locator::Css("main form button"))
        .await
        .unwrap();
    client.accessible("back at the application").await;
    // and on to submission
    let code = apply_for_a_birth_registration(&b).await;
    assert!(code.starts_with("000.31.00.H56-"), "{code}");
    client.accessible("submitted").await;
}

/// From a procedure's start page, fill in the demo birth registration (the applicant's address, the child, the
/// mother), attach the one paper asked for, confirm and submit: the new dossier's code.
async fn apply_for_a_birth_registration(b: &Browser) -> String {
    b.wait()
        .for_element(Locator::Css("main form button"))
        .await
        .unwrap();
    b.submit("main form button[type=submit]").await;
    b.wait()
        .for_element(Locator::Id("nguoi_nop_ho_ten"))
        .await
        .unwrap();
    b.click("label[for=nop_thay-2]").await;
    b.find(Locator::Id("nguoi_nop_dia_chi-tinh"))
        .await
        .unwrap()
        .select_by_label("Tỉnh Đắk Lắk")
        .await
        .unwrap();
    // the commune list follows the province: Đắk Lắk's 102 communes, wards and special zones
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = b
            .find_all(Locator::Css("#nguoi_nop_dia_chi-xa-ds option"))
            .await
            .unwrap()
            .len();
        if n == 102 {
            break;
        }
        assert!(Instant::now() < deadline, "{n} communes listed for Đắk Lắk");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.type_into("nguoi_nop_dia_chi-xa", "Tân Lập").await;
    b.submit("button[value=tiep]").await;
    b.wait()
        .for_element(Locator::Id("ho_ten_tre"))
        .await
        .unwrap();
    // back on the page just saved: nothing was lost, so nothing is said about restoring
    let page_2 = b.current_url().await.unwrap();
    let page_1 = page_2.as_str().replace("/trang/2", "/trang/1");
    b.goto(&page_1).await.unwrap();
    let status = b
        .wait()
        .for_element(Locator::Id("trang-thai-luu"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!status.contains("khôi phục"), "{status}");
    assert_eq!(b.value_of("nguoi_nop_dia_chi-xa").await, "Tân Lập");
    b.goto(page_2.as_str()).await.unwrap();
    b.wait()
        .for_element(Locator::Id("ho_ten_tre"))
        .await
        .unwrap();
    b.type_into("ho_ten_tre", "Đặng Minh Châu").await;
    b.type_into("ngay_sinh", &days_ago(10)).await;
    b.click("label[for=gioi_tinh]").await;
    choose_ethnicity(b).await;
    b.find(Locator::Id("noi_sinh-tinh"))
        .await
        .unwrap()
        .select_by_label("Tỉnh Đắk Lắk")
        .await
        .unwrap();
    b.type_into("noi_sinh-xa", "Phường Tân Lập").await;
    b.submit("button[value=tiep]").await;
    b.wait()
        .for_element(Locator::Id("ho_ten_me"))
        .await
        .unwrap();
    b.type_into("ho_ten_me", "Trần Thị Mai").await;
    b.type_into("so_dinh_danh_me", "001199012377").await;
    b.click("label[for=co_thong_tin_cha-2]").await;
    b.submit("button[value=tiep]").await;
    b.wait().for_element(Locator::Id("tep-1")).await.unwrap();
    let pdf = b.file(
        "giay-chung-sinh.pdf",
        b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
    );
    b.find(Locator::Id("tep-1"))
        .await
        .unwrap()
        .send_keys(pdf.to_str().unwrap())
        .await
        .unwrap();
    b.submit("form.upload:has(#tep-1) button").await;
    b.wait()
        .for_element(Locator::Css("#thanh-phan-1 ~ ul.files a"))
        .await
        .unwrap();
    b.click("a.button[href$='/kiem-tra']").await;
    b.wait().for_element(Locator::Id("cam_doan")).await.unwrap();
    b.click("label[for=cam_doan]").await;
    b.submit("button[data-once]").await;
    b.wait()
        .for_element(Locator::Css(".panel .code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The date `n` days before today in Vietnam, as typed (a birth registered on time is within 60 days).
fn days_ago(n: i64) -> String {
    motcua_domain::vntime::format_date(
        motcua_domain::vntime::vn_date(time::OffsetDateTime::now_utc()) - time::Duration::days(n),
    )
}

/// The child's ethnicity, from the list.
async fn choose_ethnicity(b: &Browser) {
    b.find(Locator::Id("dan_toc"))
        .await
        .unwrap()
        .select_by_label("Kinh")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_withdraws_a_dossier_after_confirming() {
    in_browser("withdrawal", Duration::from_secs(120), withdrawal_journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_withdraws_a_dossier_after_confirming_on_a_phone() {
    on_a_phone("withdrawal", Duration::from_secs(120), withdrawal_journey).await;
}

/// A citizen applies, then withdraws the dossier: "Rút hồ sơ" asks first, on its own page, with a reason; "Không"
/// keeps the dossier; a reason is required; "Có, rút hồ sơ" withdraws it and says so.
async fn withdrawal_journey(b: Browser) {
    let url = b.url.clone();
    b.login_as("congdan@example.vn", "MotCua-2026").await;
    b.goto(&format!("{url}/thu-tuc/1.001193")).await.unwrap();
    b.click("a.button[href^='/nop-ho-so/1.001193/']").await;
    let code = apply_for_a_birth_registration(&b).await;
    b.goto(&format!("{url}/ho-so/{code}")).await.unwrap();
    b.accessible("a dossier that can be withdrawn").await;
    b.click(&format!("a[href='/ho-so/{code}/rut']")).await;
    b.wait_for_path(&format!("/ho-so/{code}/rut")).await;
    b.accessible("withdrawal: asked first").await;
    // "Không" keeps it
    b.click("a.button.secondary").await;
    b.wait_for_path(&format!("/ho-so/{code}")).await;
    b.click(&format!("a[href='/ho-so/{code}/rut']")).await;
    b.wait_for_path(&format!("/ho-so/{code}/rut")).await;
    // no reason: asked for one, focus on the summary
    b.submit("#xac_nhan").await;
    let summary = b
        .wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap();
    assert!(
        summary.text().await.unwrap().contains("lý do"),
        "{}",
        summary.text().await.unwrap()
    );
    assert!(b.title().await.unwrap().starts_with("Lỗi:"));
    b.accessible("withdrawal: a reason is needed").await;
    b.type_into("ly_do", "Nộp nhầm thủ tục, sẽ nộp lại").await;
    b.submit("#xac_nhan").await;
    b.wait_for_path(&format!("/ho-so/{code}")).await;
    let page = b
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Đã rút hồ sơ") || page.contains("rút"),
        "{page}"
    );
    assert!(
        b.find(Locator::Css(&format!("a[href='/ho-so/{code}/rut']")))
            .await
            .is_err(),
        "nothing left to withdraw"
    );
    b.accessible("withdrawn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_receives_a_walk_in_with_its_checklist_on_slip_01() {
    in_browser("counter-intake", Duration::from_secs(120), counter_journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_receives_a_walk_in_with_its_checklist_on_slip_01_on_a_phone() {
    on_a_phone("counter-intake", Duration::from_secs(120), counter_journey).await;
}

/// At the counter: the officer picks the procedure, sees its checklist, forgets the required paper (refused, what
/// was typed kept), ticks it with its counts, receives the dossier and prints slip 01 with the papers in its table.
async fn counter_journey(b: Browser) {
    let url = b.url.clone();
    b.login_as("motcua@minhhoa.example.vn", "MotCua-2026").await;
    b.goto(&format!("{url}/can-bo/tiep-nhan/truc-tiep"))
        .await
        .unwrap();
    b.accessible("counter intake").await;
    b.find(Locator::Css("#thu_tuc option[value*='|1.001193|']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.type_into("ho_ten", "Võ Thị Lan").await;
    b.type_into("dien_thoai", "0905123456").await;
    b.submit("#chon-thu-tuc").await;
    b.wait().for_element(Locator::Id("tp_0")).await.unwrap();
    assert_eq!(b.value_of("ho_ten").await, "Võ Thị Lan");
    b.accessible("counter intake: the checklist").await;
    // nothing ticked: the required papers are named, nothing received
    b.submit("button[data-once]").await;
    let summary = b
        .wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("thành phần bắt buộc"), "{summary}");
    assert_eq!(b.value_of("dien_thoai").await, "0905123456");
    b.accessible("counter intake: a paper missing").await;
    // tick every paper; two copies of the first
    let ticks = b
        .find_all(Locator::Css(".checklist-table input[type=checkbox]"))
        .await
        .unwrap();
    for tick in &ticks {
        let id = tick.attr("id").await.unwrap().unwrap();
        b.click(&format!("label[for={id}]")).await;
    }
    b.type_into("tp_0_sao", "2").await;
    b.submit("button[data-once]").await;
    b.wait()
        .for_element(Locator::Css("a[href$='/phieu/01']"))
        .await
        .unwrap();
    let path = b.current_url().await.unwrap().path().to_string();
    assert!(path.starts_with("/can-bo/ho-so/"), "{path}");
    let code = path.trim_start_matches("/can-bo/ho-so/").to_string();
    let received = b
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(received.contains("Giấy tờ nhận tại quầy"), "{received}");
    b.accessible("received at the counter").await;
    if let Some(text) = b.pdf_text(&format!("/can-bo/ho-so/{code}/phieu/01")).await {
        assert!(text.contains("Mẫu số 01 (phiên bản 2)"), "{text}");
        assert!(text.contains("Võ Thị Lan"), "{text}");
        assert!(text.contains("0905123456"), "{text}");
        assert!(text.contains("Trực tiếp"), "{text}");
        // one row per paper received, never an empty table
        assert!(!text.contains("Không có giấy tờ kèm theo"), "{text}");
        let rows = text
            .lines()
            .filter(|l| {
                l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains("01")
            })
            .count();
        assert!(
            rows >= ticks.len(),
            "{rows} rows for {} papers: {text}",
            ticks.len()
        );
        assert!(
            text.contains("NGƯỜI NỘP HỒ SƠ") && text.contains("NGƯỜI TIẾP NHẬN HỒ SƠ"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_goes_from_the_editor_through_approval_to_a_reader_who_rates_and_comments() {
    in_browser("newsroom", Duration::from_secs(180), newsroom_journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_goes_from_the_editor_through_approval_to_a_reader_on_a_phone() {
    on_a_phone("newsroom", Duration::from_secs(180), newsroom_journey).await;
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn newsroom_journey(b: Browser) {
    let url = b.url.clone();
    let title = "Hướng dẫn đăng ký khai sinh cho trẻ em";
    b.login_as("bientap@minhhoa.example.vn", "MotCua-2026")
        .await;
    b.accessible("the newsroom").await;
    b.click("a[href='/bien-tap/bai-viet/moi']").await;
    b.wait_for_path("/bien-tap/bai-viet/moi").await;
    b.accessible("a new article").await;
    b.type_into("tieu_de", title).await;
    b.type_into("tom_tat", "Hồ sơ, lệ phí và nơi nộp khi đăng ký khai sinh.")
        .await;
    b.type_into(
        "noi_dung",
        "<h2>Hồ sơ</h2><p>Tờ khai và giấy chứng sinh.</p><script>alert('x')</script><p onclick=\"alert(1)\">Nộp trực tuyến.</p>",
    )
    .await;
    b.type_into("thu_tuc", "1.001193").await;
    b.submit("button[name=hanh_dong][value=gui]").await;
    let notice = text_of(&b, ".notice").await;
    assert!(
        notice.contains("gửi bài viết cho trưởng ban biên tập duyệt"),
        "{notice}"
    );
    let preview = text_of(&b, ".article-body").await;
    assert!(preview.contains("Nộp trực tuyến."), "{preview}");
    let source = b.client.source().await.unwrap();
    assert!(!source.contains("alert("), "the sanitiser kept a script");
    b.accessible("an article sent for approval").await;
    let edit_path = b.client.current_url().await.unwrap().path().to_string();
    b.logout().await;

    b.login_as("truongbantin@minhhoa.example.vn", "MotCua-2026")
        .await;
    b.goto(&format!("{url}/bien-tap?trang_thai=submitted"))
        .await
        .unwrap();
    b.click(&format!("a[href='{edit_path}']")).await;
    b.wait_for_path(&edit_path).await;
    b.accessible("an article waiting for approval").await;
    b.submit("button[name=quyet_dinh][value=duyet]").await;
    let notice = text_of(&b, ".notice").await;
    assert!(notice.contains("Đã duyệt"), "{notice}");
    b.logout().await;

    // a reader finds it on the home page
    b.goto(&format!("{url}/")).await.unwrap();
    let link = b
        .wait()
        .for_element(Locator::LinkText(title))
        .await
        .unwrap();
    link.click().await.unwrap();
    let article = text_of(&b, "main h1").await;
    assert_eq!(article, title);
    b.accessible("an article").await;
    // rates it without a reload (the script sends the form)
    b.click("input[name=sao][value='5']").await;
    b.click("#form-danh-gia button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let score = text_of(&b, "#diem-danh-gia").await;
        if score.contains("5,0/5 — 1 lượt đánh giá") {
            break;
        }
        assert!(Instant::now() < deadline, "the stars never showed: {score}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // and comments
    b.type_into("ten", "Trần Văn Phúc").await;
    b.type_into(
        "noi_dung",
        "Cho tôi hỏi trẻ sinh ở nước ngoài thì nộp ở đâu?",
    )
    .await;
    b.submit("form[action$='/binh-luan'] button[type=submit]")
        .await;
    let notice = text_of(&b, "section[aria-labelledby=binh-luan] .notice").await;
    assert!(notice.contains("sau khi biên tập viên duyệt"), "{notice}");
    b.accessible("a comment waiting for an editor").await;
    let article_path = b.client.current_url().await.unwrap().path().to_string();

    b.login_as("bientap@minhhoa.example.vn", "MotCua-2026")
        .await;
    b.goto(&format!("{url}/bien-tap/binh-luan")).await.unwrap();
    b.accessible("comments waiting").await;
    let waiting = text_of(&b, "main").await;
    assert!(waiting.contains("Trần Văn Phúc"), "{waiting}");
    b.submit("button[name=quyet_dinh][value=dang]").await;
    let notice = text_of(&b, ".notice").await;
    assert!(notice.contains("Đã đăng bình luận"), "{notice}");
    b.logout().await;

    b.goto(&format!("{url}{article_path}")).await.unwrap();
    let comments = text_of(&b, "section[aria-labelledby=binh-luan]").await;
    assert!(comments.contains("Bình luận (1)"), "{comments}");
    assert!(comments.contains("Trần Văn Phúc"), "{comments}");
    // the visitor counters move (nodes write them every few seconds)
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        b.goto(&format!("{url}/")).await.unwrap();
        let footer = text_of(&b, ".visits").await;
        if !footer.contains("hôm nay: 0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the counters never moved: {footer}"
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}
