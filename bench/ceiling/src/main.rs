//! A trivial axum server: what this machine's HTTP stack can do with no work per request. Benchmarks report
//! motcua's throughput as a ratio to this, measured in the same run on the same machine.

use axum::{Router, response::Html, routing::get};

const PAGE: &str = "<!doctype html><html lang=\"vi\"><title>ceiling</title><p>Xin chào</p></html>";

fn main() -> std::process::ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".into());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("bind {addr}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let app = Router::new().route("/", get(|| async { Html(PAGE) }));
        match axum::serve(listener, app).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("serve: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
