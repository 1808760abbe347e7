//! One visible line near the end of `cargo test` saying whether the PostgreSQL suite ran. Without
//! `MOTCUA_TEST_POSTGRES_URL` every test's PostgreSQL half returns early, and would otherwise pass in silence.
//! (A plain `main`: its output is not captured like a test's. Named to run last of this, the last crate.)

fn main() {
    let var = motcua_testkit::POSTGRES_URL_VAR;
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => {
            println!("PostgreSQL suite: ran (every backend test also ran on {var})")
        }
        _ => println!(
            "PostgreSQL suite: SKIPPED — only SQLite was tested; set {var}=postgres://… to run every test on PostgreSQL too"
        ),
    }
}
