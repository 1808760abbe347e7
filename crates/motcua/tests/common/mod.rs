//! Shared by the tests that run the real binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `motcua serve` on a fresh SQLite database with the demo data; returns its URL.
pub fn start_portal(dir: &std::path::Path) -> (Killed, String) {
    start_portal_with(dir, &[])
}

/// [`start_portal`] with these environment variables set.
pub fn start_portal_with(dir: &std::path::Path, env: &[(&str, &str)]) -> (Killed, String) {
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env_remove("MOTCUA_DATABASE_URL")
            .envs(env.iter().copied())
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
