//! `arbor-interop vectors [--dir DIR] [FILE...]`: replays official MLS test
//! vectors and prints one line per file.
//!
//! `arbor-interop serve [--port N]`: serves arbor as the MLS working group's
//! `MLSClient` gRPC service on 127.0.0.1 (default port 50051).
//!
//! `arbor-interop scenarios ...`: plays the official scenario configs (see
//! `usage`).

use std::path::PathBuf;
use std::process::ExitCode;

use arbor_interop::grpc;
use arbor_interop::vectors::{self, FileReport};

fn usage() -> ExitCode {
    eprintln!("usage: arbor-interop vectors [--dir DIR] [FILE...]");
    eprintln!("       arbor-interop serve [--port N]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("vectors") => {}
        Some("serve") => return serve(args.collect()),
        _ => return usage(),
    }
    let mut dir: Option<PathBuf> = None;
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--dir" {
            match args.next() {
                Some(d) => dir = Some(PathBuf::from(d)),
                None => return usage(),
            }
        } else {
            files.push(arg);
        }
    }
    let dir = match vectors::locate_dir(dir) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let names: Vec<String> = if files.is_empty() {
        vectors::FILES.iter().map(|f| f.name.to_string()).collect()
    } else {
        files
    };
    let mut total = FileReport::default();
    for name in &names {
        let report = vectors::run_file(&dir, name);
        report.print(name);
        total.add(&report);
    }
    println!(
        "total: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if total.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `serve [--port N]`: runs until the process is stopped.
fn serve(args: Vec<String>) -> ExitCode {
    let port = match args.as_slice() {
        [] => 50051,
        [flag, n] if flag == "--port" => match n.parse::<u16>() {
            Ok(p) => p,
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let (listener, local) = grpc::server::bind(addr).await?;
        println!("arbor MLSClient listening on {local}");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        grpc::server::serve(grpc::ArborEndpoint::new(), listener, shutdown)
            .await
            .map_err(std::io::Error::other)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve: {e}");
            ExitCode::FAILURE
        }
    }
}
