//! The `motcua` binary as an operator meets it: help, bad input answered in one clear line, and a real server
//! that serves the home page and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn motcua(dir: &tempfile::TempDir) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motcua"));
    cmd.current_dir(dir.path()).stdin(Stdio::null());
    // the operator's environment must not leak into these tests
    for (key, _) in std::env::vars() {
        if key.starts_with("MOTCUA_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Run to completion and check it failed with exactly one `lỗi:` line on stderr and no panic.
fn fails_with(output: Output) -> String {
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("lỗi:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = motcua(&dir).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for word in ["serve", "migrate", "--config"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn an_unsupported_database_url_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let line = fails_with(
        motcua(&dir)
            .args(["serve", "--database-url", "mysql://x/y"])
            .output()
            .unwrap(),
    );
    assert!(line.contains("database_url"), "{line}");
}

#[test]
fn a_bad_value_in_the_config_file_names_the_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("motcua.toml"), "listen = 8080\n").unwrap();
    let line = fails_with(motcua(&dir).arg("serve").output().unwrap());
    assert!(
        line.contains("listen") && line.contains("motcua.toml"),
        "{line}"
    );
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let line = fails_with(
        motcua(&dir)
            .arg("serve")
            .env("MOTCUA_SEED_DEMO", "perhaps")
            .output()
            .unwrap(),
    );
    assert!(line.to_lowercase().contains("seed_demo"), "{line}");
}

#[test]
fn an_unreadable_config_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let line = fails_with(
        motcua(&dir)
            .args(["--config", "khong-co.toml", "serve"])
            .output()
            .unwrap(),
    );
    assert!(line.contains("khong-co.toml"), "{line}");
}

#[test]
fn an_unreachable_postgresql_says_so_and_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let line = fails_with(
        motcua(&dir)
            .args([
                "migrate",
                "--database-url",
                "postgres://motcua:s3cret@127.0.0.1:1/motcua",
            ])
            .output()
            .unwrap(),
    );
    assert!(line.contains("không mở được cơ sở dữ liệu"), "{line}");
    assert!(!line.contains("s3cret"), "{line}");
}

#[test]
fn a_port_in_use_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = fails_with(
        motcua(&dir)
            .args(["serve", "--listen", &addr])
            .output()
            .unwrap(),
    );
    assert!(
        line.contains(&addr) && line.contains("đang được một chương trình khác sử dụng"),
        "{line}"
    );
}

#[test]
fn migrate_prepares_an_empty_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = motcua(&dir)
        .args(["migrate", "--database-url", "sqlite://db/motcua.db"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("db/motcua.db").exists());
}

/// A running `motcua serve` and the URL it printed.
struct Server {
    child: Child,
    url: String,
    /// What it printed up to the URL line.
    printed: String,
    stdout: BufReader<std::process::ChildStdout>,
}

fn start(dir: &tempfile::TempDir, args: &[&str]) -> Server {
    let mut child = motcua(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "server exited early; it printed: {printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.split("đang chạy tại ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    Server {
        child,
        url,
        printed,
        stdout,
    }
}

fn http_get(url: &str, path: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (status, response)
}

impl Server {
    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                break;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        rest
    }
}

#[test]
fn serve_seeds_an_empty_sqlite_database_serves_the_home_page_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &[]);
    for demo_login in [
        "congdan@example.vn",
        "motcua@minhhoa.example.vn",
        "quantri@minhhoa.example.vn",
        "MotCua-2026",
    ] {
        assert!(
            server.printed.contains(demo_login),
            "first start prints the demo logins: {}",
            server.printed
        );
    }
    let (status, page) = http_get(&server.url, "/");
    assert_eq!(status, 200);
    assert!(
        page.contains("Đăng ký khai sinh") && page.contains("Mức độ 4"),
        "{page}"
    );
    assert_eq!(http_get(&server.url, "/readyz").0, 200);
    assert!(server.stop().contains("đã dừng"));
    assert!(
        dir.path().join("data/motcua.db").exists(),
        "the default database lives in ./data"
    );

    // a second start finds the catalogue and does not seed again
    let server = start(&dir, &[]);
    assert_eq!(http_get(&server.url, "/").0, 200);
    server.stop();
}

#[test]
fn serve_runs_on_postgresql_too() {
    let Some(url) = motcua_testkit::postgres_url() else {
        return;
    };
    let schema = format!("motcua_cli_{}", uuid::Uuid::now_v7().simple());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(motcua_store_sql::SqlStore::create_schema(&url, &schema))
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let db_url = format!("{url}{separator}options=-c%20search_path%3D{schema}");

    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &["--database-url", &db_url]);
    let (status, page) = http_get(&server.url, "/");
    let (ready_status, ready) = http_get(&server.url, "/readyz");
    server.stop();
    // what the server seeded is in that PostgreSQL schema (the probe no longer names the engine)
    let agencies = runtime.block_on(async {
        let store = motcua_store_sql::SqlStore::connect_postgres(
            &url,
            motcua_store_sql::PgSettings {
                schema: Some(schema.clone()),
                max_connections: Some(1),
            },
        )
        .await
        .unwrap();
        let agencies = store.clone().into_store().agencies.list().await.unwrap();
        store.close().await;
        agencies
    });
    runtime
        .block_on(motcua_store_sql::SqlStore::drop_schema(&url, &schema))
        .unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("Đăng ký khai sinh"), "{page}");
    assert_eq!(ready_status, 200);
    assert!(!ready.contains("PostgreSQL"), "{ready}");
    assert!(!agencies.is_empty(), "the demo was seeded into PostgreSQL");
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo/catalogue.json");

fn run_ok(dir: &tempfile::TempDir, args: &[&str]) -> String {
    let output = motcua(dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Import the demo file into `a`, export it, import that into `b`, export again: the two exports are equal,
/// and importing again changes nothing.
fn round_trip(a: &str, b: &str) {
    let dir = tempfile::tempdir().unwrap();
    let said = run_ok(&dir, &["catalogue", "import", DEMO, "--database-url", a]);
    assert!(said.contains("44 thủ tục mới"), "{said}");
    let first = run_ok(&dir, &["catalogue", "export", "--database-url", a]);
    std::fs::write(dir.path().join("export.json"), &first).unwrap();
    run_ok(
        &dir,
        &["catalogue", "import", "export.json", "--database-url", b],
    );
    let second = run_ok(&dir, &["catalogue", "export", "--database-url", b]);
    assert_eq!(first, second);
    let again = run_ok(
        &dir,
        &["catalogue", "import", "export.json", "--database-url", b],
    );
    assert!(
        again.contains("0 thủ tục mới, 0 thủ tục cập nhật (phiên bản mới), 44 thủ tục không đổi"),
        "{again}"
    );
    let json: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(json["format"], "motcua-catalogue");
    assert_eq!(json["procedures"].as_array().unwrap().len(), 44);
}

#[test]
fn a_catalogue_round_trips_through_export_and_import_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let a = format!("sqlite://{}", dir.path().join("a.db").display());
    let b = format!("sqlite://{}", dir.path().join("b.db").display());
    round_trip(&a, &b);
}

#[test]
fn a_catalogue_round_trips_through_export_and_import_on_postgresql() {
    let Some(url) = motcua_testkit::postgres_url() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let schemas: Vec<String> = (0..2)
        .map(|_| format!("motcua_io_{}", uuid::Uuid::now_v7().simple()))
        .collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    let urls: Vec<String> = schemas
        .iter()
        .map(|schema| {
            runtime
                .block_on(motcua_store_sql::SqlStore::create_schema(&url, schema))
                .unwrap();
            format!("{url}{separator}options=-c%20search_path%3D{schema}")
        })
        .collect();
    let outcome = std::panic::catch_unwind(|| round_trip(&urls[0], &urls[1]));
    for schema in &schemas {
        runtime
            .block_on(motcua_store_sql::SqlStore::drop_schema(&url, schema))
            .unwrap();
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_bad_import_reports_each_record_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(DEMO).unwrap()).unwrap();
    demo["procedures"][2]["name"] = serde_json::json!("");
    demo["procedures"][5]["cases"][0]["fees"] =
        serde_json::json!([{"kind": "fee", "amount": -1, "description": "Phí"}]);
    std::fs::write(dir.path().join("bad.json"), demo.to_string()).unwrap();
    let output = motcua(&dir)
        .args([
            "catalogue",
            "import",
            "bad.json",
            "--database-url",
            "sqlite://c.db",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("2 bản ghi không hợp lệ"), "{stderr}");
    assert!(stderr.contains("Thủ tục thứ 3"), "{stderr}");
    assert!(
        stderr.contains("Thủ tục thứ 6") && stderr.contains("Số tiền không được âm: -1"),
        "{stderr}"
    );
    let export = run_ok(
        &dir,
        &["catalogue", "export", "--database-url", "sqlite://c.db"],
    );
    let json: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert!(
        json["procedures"].as_array().unwrap().is_empty(),
        "nothing half-imported"
    );
    assert!(json["agencies"].as_array().unwrap().is_empty());
}

#[test]
fn user_add_creates_an_officer_with_a_generated_password_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        &dir,
        &[
            "catalogue",
            "import",
            DEMO,
            "--database-url",
            "sqlite://u.db",
        ],
    );
    let said = run_ok(
        &dir,
        &[
            "user",
            "add",
            "--name",
            "Trần Thị Bình",
            "--email",
            "Binh@MinhHoa.gov.vn",
            "--role",
            "reception@000.00.06.H56",
            "--role",
            "leader@000.00.00.H56+",
            "--database-url",
            "sqlite://u.db",
        ],
    );
    assert!(said.contains("đăng nhập: binh@minhhoa.gov.vn"), "{said}");
    assert!(said.contains("Cán bộ một cửa tại 000.00.06.H56"), "{said}");
    let password = said
        .lines()
        .find_map(|l| l.strip_prefix("Mật khẩu: "))
        .expect("the password is printed once");
    assert_eq!(password.chars().count(), 16);

    let again = motcua(&dir)
        .args([
            "user",
            "add",
            "--name",
            "Khác",
            "--email",
            "binh@minhhoa.gov.vn",
            "--role",
            "editor@000.00.06.H56",
            "--database-url",
            "sqlite://u.db",
        ])
        .output()
        .unwrap();
    assert!(fails_with(again).contains("đã có tài khoản dùng binh@minhhoa.gov.vn"));
    let unknown = motcua(&dir)
        .args([
            "user",
            "add",
            "--name",
            "Khác",
            "--email",
            "k@x.vn",
            "--role",
            "editor@000.99.99.H56",
            "--database-url",
            "sqlite://u.db",
        ])
        .output()
        .unwrap();
    assert!(fails_with(unknown).contains("000.99.99.H56 chưa có trong danh mục"));
}

#[test]
fn a_fresh_installation_gets_its_agencies_by_hand_then_imports_a_national_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = ["--database-url", "sqlite://a.db"];
    let add = |args: &[&str]| {
        let mut all = vec!["agency", "add"];
        all.extend_from_slice(args);
        all.extend_from_slice(&db);
        motcua(&dir).args(&all).output().unwrap()
    };
    let said = add(&["--code", "000.00.00.H56", "--name", "UBND tỉnh Minh Hòa"]);
    assert!(
        said.status.success(),
        "{}",
        String::from_utf8_lossy(&said.stderr)
    );
    let said = add(&[
        "--code",
        "000.32.00.H56",
        "--name",
        "UBND xã An Bình",
        "--level",
        "commune",
        "--parent",
        "000.00.00.H56",
    ]);
    assert!(
        String::from_utf8_lossy(&said.stdout)
            .contains("Đã thêm cơ quan 000.32.00.H56 — UBND xã An Bình (Cấp xã)")
    );
    // refused, each with what to fix
    let twice = fails_with(add(&[
        "--code",
        "000.32.00.H56",
        "--name",
        "Khác",
        "--level",
        "commune",
    ]));
    assert!(twice.contains("đã có trong danh mục"), "{twice}");
    let orphan = fails_with(add(&[
        "--code",
        "000.33.00.H56",
        "--name",
        "UBND xã B",
        "--parent",
        "000.99.00.H56",
    ]));
    assert!(
        orphan.contains("--parent") && orphan.contains("chưa có trong danh mục"),
        "{orphan}"
    );
    let district = fails_with(add(&[
        "--code",
        "000.34.00.H56",
        "--name",
        "UBND huyện C",
        "--level",
        "legacy_district",
    ]));
    assert!(
        district.contains("--level: Cấp huyện đã bãi bỏ"),
        "{district}"
    );
    let listed = run_ok(&dir, &["agency", "list", "--database-url", "sqlite://a.db"]);
    assert!(
        listed.contains("000.32.00.H56\tcommune\t000.00.00.H56\tUBND xã An Bình"),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 2);
    // a record of the national catalogue for that commune now imports
    let national = serde_json::json!([{
        "MATTHC": "1.003583", "TENTTHC": "Đăng ký khai sinh lưu động", "CAPTHUCHIEN": "Cấp Xã",
        "LINHVUCTHUCHIEN": [{"MALINHVUC": "HOTICH", "TENLINHVUC": "Hộ tịch"}],
        "COQUANTHUCHIEN": [{"MACOQUAN": "000.32.00.H56", "TENCOQUAN": "UBND xã An Bình"}],
        "DOITUONGTHUCHIEN": "Công dân Việt Nam",
        "CACHTHUCTHUCHIEN": [{"KENH": "1", "THOIGIAN": [{"THOIGIANGIAIQUYET": "5", "DONVITINH": "Ngày làm việc", "PHILEPHI": []}]}],
        "THANHPHANHOSO": [{"TRUONGHOP": "Trường hợp thông thường", "GIAYTO": [
            {"MAGIAYTO": "1", "TENGIAYTO": "Tờ khai đăng ký khai sinh", "SOBANCHINH": "1", "SOBANSAO": "0"}]}],
        "KETQUATHUCHIEN": [{"MAKETQUA": "1", "TENKETQUA": "Giấy khai sinh"}]
    }]);
    std::fs::write(dir.path().join("quoc-gia.json"), national.to_string()).unwrap();
    let said = run_ok(
        &dir,
        &[
            "catalogue",
            "import",
            "quoc-gia.json",
            "--database-url",
            "sqlite://a.db",
        ],
    );
    assert!(said.contains("1 thủ tục mới"), "{said}");

    // records that name our commune by another code but its exact name, or a new unit by its national code
    let mut by_name = national[0].clone();
    by_name["MATTHC"] = "1.004837".into();
    by_name["COQUANTHUCHIEN"] =
        serde_json::json!([{"MACOQUAN": "H56.32", "TENCOQUAN": "UBND  xã An Bình"}]);
    let mut new_unit = national[0].clone();
    new_unit["MATTHC"] = "1.001193".into();
    new_unit["COQUANTHUCHIEN"] =
        serde_json::json!([{"MACOQUAN": "000.00.06.H56", "TENCOQUAN": "Sở Tư pháp tỉnh Minh Hòa"}]);
    std::fs::write(
        dir.path().join("quoc-gia-2.json"),
        serde_json::json!([by_name, new_unit]).to_string(),
    )
    .unwrap();
    let said = run_ok(
        &dir,
        &[
            "catalogue",
            "import",
            "quoc-gia-2.json",
            "--database-url",
            "sqlite://a.db",
        ],
    );
    assert!(
        said.contains("2 thủ tục mới") && said.contains("1 cơ quan"),
        "{said}"
    );
    let listed = run_ok(&dir, &["agency", "list", "--database-url", "sqlite://a.db"]);
    assert!(
        listed.contains("000.00.06.H56\tprovince\t000.00.00.H56\tSở Tư pháp tỉnh Minh Hòa"),
        "{listed}"
    );
    assert_eq!(
        listed.lines().count(),
        3,
        "no agency made for the name we already had: {listed}"
    );

    // export, add a merged commune in the file, import it back: the merger is run, once
    run_ok(
        &dir,
        &[
            "agency",
            "export",
            "--output",
            "co-quan.json",
            "--database-url",
            "sqlite://a.db",
        ],
    );
    let mut agencies: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("co-quan.json")).unwrap())
            .unwrap();
    let list = agencies.as_array_mut().unwrap();
    assert_eq!(list.len(), 3);
    list.push(serde_json::json!({
        "code": "000.33.00.H56", "name": "UBND xã Tân Phú", "parent": "000.00.00.H56", "level": "commune",
        "valid_from": "2020-01-01"
    }));
    std::fs::write(dir.path().join("co-quan.json"), agencies.to_string()).unwrap();
    let said = run_ok(
        &dir,
        &[
            "agency",
            "import",
            "co-quan.json",
            "--database-url",
            "sqlite://a.db",
        ],
    );
    assert!(
        said.contains("4 cơ quan: 1 mới, 3 cập nhật, 0 sáp nhập"),
        "{said}"
    );
    let said = run_ok(
        &dir,
        &[
            "agency",
            "merge",
            "--from",
            "000.33.00.H56",
            "--into",
            "000.32.00.H56",
            "--date",
            "01/07/2025",
            "--database-url",
            "sqlite://a.db",
        ],
    );
    assert!(
        said.contains("Sáp nhập 000.33.00.H56 vào 000.32.00.H56 từ 01/07/2025: chuyển 0 hồ sơ"),
        "{said}"
    );
    let listed = run_ok(&dir, &["agency", "list", "--database-url", "sqlite://a.db"]);
    assert!(
        listed.contains("UBND xã Tân Phú\t(hết hiệu lực 30/06/2025, kế thừa: 000.32.00.H56)"),
        "{listed}"
    );
    let refused = motcua(&dir)
        .args([
            "agency",
            "merge",
            "--from",
            "000.33.00.H56",
            "--into",
            "000.00.06.H56",
            "--date",
            "01/07/2025",
            "--database-url",
            "sqlite://a.db",
        ])
        .output()
        .unwrap();
    assert!(fails_with(refused).contains("đã được sáp nhập vào 000.32.00.H56"));
    // a file cannot undo the merger
    run_ok(
        &dir,
        &[
            "agency",
            "export",
            "--output",
            "sau.json",
            "--database-url",
            "sqlite://a.db",
        ],
    );
    let mut after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sau.json")).unwrap())
            .unwrap();
    for a in after.as_array_mut().unwrap() {
        if a["code"] == "000.33.00.H56" {
            a.as_object_mut().unwrap().remove("successor");
        }
    }
    std::fs::write(dir.path().join("sau.json"), after.to_string()).unwrap();
    let refused = motcua(&dir)
        .args([
            "agency",
            "import",
            "sau.json",
            "--database-url",
            "sqlite://a.db",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr).to_string();
    fails_with(refused);
    assert!(
        stderr.contains("đã sáp nhập vào 000.32.00.H56, không đổi được"),
        "{stderr}"
    );
    // a merger's date must exist
    let bad_date = motcua(&dir)
        .args([
            "agency",
            "merge",
            "--from",
            "000.32.00.H56",
            "--into",
            "000.00.06.H56",
            "--date",
            "31/02/2026",
            "--database-url",
            "sqlite://a.db",
        ])
        .output()
        .unwrap();
    assert!(fails_with(bad_date).contains("--date: nhập ngày có thật"));
    // a file with a dangling parent is refused whole
    std::fs::write(
        dir.path().join("sai.json"),
        serde_json::json!([{"code": "000.35.00.H56", "name": "UBND xã X", "parent": "000.98.00.H56",
                            "level": "commune", "valid_from": "2020-01-01"}]).to_string(),
    )
    .unwrap();
    let refused = motcua(&dir)
        .args([
            "agency",
            "import",
            "sai.json",
            "--database-url",
            "sqlite://a.db",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(fails_with(refused).contains("có 1 lỗi, chưa nhập gì"));
    assert!(
        stderr.contains("Cơ quan thứ 1 (000.35.00.H56): cơ quan cấp trên 000.98.00.H56"),
        "{stderr}"
    );
}

#[test]
fn api_client_add_registers_a_system_and_prints_its_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://k.db";
    run_ok(
        &dir,
        &[
            "agency",
            "add",
            "--code",
            "000.00.00.H56",
            "--name",
            "UBND tỉnh Minh Hòa",
            "--database-url",
            db,
        ],
    );
    let key = run_ok(
        &dir,
        &[
            "api-client",
            "add",
            "--name",
            "Nền tảng dữ liệu tỉnh",
            "--agency",
            "000.00.00.H56",
            "--scope",
            "dossiers:read",
            "--per-minute",
            "1200",
            "--database-url",
            db,
        ],
    );
    let key = key.trim();
    assert!(key.starts_with("motcua_") && key.len() == 71, "{key}");
    // a second one gets its own key
    let other = run_ok(
        &dir,
        &[
            "api-client",
            "add",
            "--name",
            "Khác",
            "--agency",
            "000.00.00.H56",
            "--scope",
            "dossiers:receive",
            "--database-url",
            db,
        ],
    );
    assert_ne!(other.trim(), key);
    // refused, each problem with the flag to fix it
    let bad = motcua(&dir)
        .args([
            "api-client",
            "add",
            "--name",
            " ",
            "--agency",
            "000.99.00.H56",
            "--scope",
            "dossiers:delete",
            "--per-minute",
            "0",
            "--database-url",
            db,
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let bad = String::from_utf8(bad.stderr).unwrap();
    for said in [
        "--name: Nhập tên hệ thống",
        "--agency: Không có cơ quan mã “000.99.00.H56”",
        "--scope: Không có phạm vi “dossiers:delete”",
        "--per-minute: Giới hạn là một số từ 1 đến",
    ] {
        assert!(bad.contains(said), "{bad}");
    }
    let days = fails_with(
        motcua(&dir)
            .args([
                "api-client",
                "add",
                "--name",
                "X",
                "--agency",
                "000.00.00.H56",
                "--scope",
                "dossiers:read",
                "--days",
                "0",
                "--database-url",
                db,
            ])
            .output()
            .unwrap(),
    );
    assert!(days.contains("--days"), "{days}");
}
