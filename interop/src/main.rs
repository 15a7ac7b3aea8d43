//! `arbor-interop vectors [--dir DIR] [FILE...]`: replays official MLS test
//! vectors and prints one line per file.
//!
//! `arbor-interop serve [--port N]`: serves arbor as the MLS working group's
//! `MLSClient` gRPC service on 127.0.0.1 (default port 50051).
//!
//! `arbor-interop scenarios`: plays the official scenario configs across
//! arbor in-process, openmls and mls-rs in-process (`--peers`, built with
//! feature `peers`) and any `--remote` MLSClient servers: one line per
//! config × assignment × suite × handshake mode, then the totals. By default
//! suite 1, both modes, the assignments that involve arbor; `--full` plays
//! suites 1-3 and every assignment.
//!
//! `arbor-interop gen-vectors --pq DIR` (feature `pq`, on by default):
//! writes crypto-basics, key-schedule, message-protection, welcome, treekem
//! and passive-client-handling-commit vector files for the eleven
//! post-quantum suites, at their default codepoints, into DIR.

use std::path::PathBuf;
use std::process::ExitCode;

use arbor_interop::grpc;
use arbor_interop::vectors::{self, FileReport};

fn usage() -> ExitCode {
    eprintln!("usage: arbor-interop vectors [--dir DIR] [FILE...]");
    eprintln!("       arbor-interop serve [--port N]");
    eprintln!("       arbor-interop gen-vectors --pq DIR   (feature pq)");
    eprintln!(
        "       arbor-interop scenarios [--dir DIR] [--config NAME]... [--suite N]... \\\n         \
         [--mode public|encrypted] [--remote URI]... [--peers] [--full]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("vectors") => {}
        Some("serve") => return serve(args.collect()),
        Some("scenarios") => return scenarios(args.collect()),
        Some("gen-vectors") => return gen_vectors(args.collect()),
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

/// `gen-vectors --pq DIR`: the PQ suites' vector files.
fn gen_vectors(args: Vec<String>) -> ExitCode {
    let [flag, dir] = args.as_slice() else {
        return usage();
    };
    if flag != "--pq" {
        return usage();
    }
    #[cfg(feature = "pq")]
    {
        use arbor_mls::crypto::rust_crypto::{PqRustCryptoProvider, PqSuite};
        let provider = PqRustCryptoProvider::default();
        let suites: Vec<_> = PqSuite::ALL
            .iter()
            .map(|s| provider.codepoints().codepoint(*s))
            .collect();
        let files = match vectors::generate::generate(&provider, &suites) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("generating failed: {e}");
                return ExitCode::FAILURE;
            }
        };
        let dir = PathBuf::from(dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        for (name, value) in files {
            let written = vectors::generate::to_text(&value)
                .and_then(|text| std::fs::write(dir.join(name), text).map_err(|e| e.to_string()));
            if let Err(e) = written {
                eprintln!("cannot write {name}: {e}");
                return ExitCode::FAILURE;
            }
            println!(
                "wrote {} ({} suites)",
                dir.join(name).display(),
                suites.len()
            );
        }
        ExitCode::SUCCESS
    }
    #[cfg(not(feature = "pq"))]
    {
        let _ = dir;
        eprintln!(
            "gen-vectors needs the feature pq: cargo run -p arbor-interop --features pq -- gen-vectors --pq DIR"
        );
        ExitCode::from(2)
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

/// `scenarios [...]`: exits non-zero when a script fails.
fn scenarios(args: Vec<String>) -> ExitCode {
    use arbor_interop::scenarios::{self, Assignment, Totals, config};
    let mut dir = config::default_dir();
    let mut names: Vec<String> = Vec::new();
    let mut suites: Vec<u32> = Vec::new();
    let mut modes: Vec<bool> = Vec::new();
    let mut remotes: Vec<String> = Vec::new();
    let mut full = false;
    let mut peers = false;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "--full" => {
                full = true;
                continue;
            }
            "--peers" => {
                peers = true;
                continue;
            }
            _ => match it.next() {
                Some(v) => v,
                None => return usage(),
            },
        };
        match arg.as_str() {
            "--dir" => dir = PathBuf::from(value),
            "--config" => names.push(value),
            "--suite" => match value.parse() {
                Ok(n) => suites.push(n),
                Err(_) => return usage(),
            },
            "--mode" => match value.as_str() {
                "public" => modes.push(false),
                "encrypted" => modes.push(true),
                _ => return usage(),
            },
            "--remote" => remotes.push(value),
            _ => return usage(),
        }
    }
    if names.is_empty() {
        names = config::CONFIGS.iter().map(|s| s.to_string()).collect();
    }
    if suites.is_empty() {
        suites = if full { vec![1, 2, 3] } else { vec![1] };
    }
    if modes.is_empty() {
        modes = vec![false, true];
    }
    let mut endpoints: Vec<Box<dyn grpc::Endpoint>> = vec![Box::new(grpc::ArborEndpoint::new())];
    if peers {
        #[cfg(feature = "peers")]
        {
            endpoints.push(Box::new(arbor_interop::peers::OpenMlsEndpoint::new()));
            endpoints.push(Box::new(arbor_interop::peers::MlsRsEndpoint::new()));
        }
        #[cfg(not(feature = "peers"))]
        {
            eprintln!("--peers needs a build with `--features peers`");
            return ExitCode::from(2);
        }
    }
    for uri in &remotes {
        match grpc::Remote::connect(uri) {
            Ok(r) => endpoints.push(Box::new(r)),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut total = Totals::default();
    for name in &names {
        let config = match config::load(&dir, name) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let assignments = Assignment::all(endpoints.len())
            .into_iter()
            .filter(|a| full || a.involves(0));
        for assignment in assignments {
            for &suite in &suites {
                for &encrypt in &modes {
                    let played =
                        scenarios::play_config(&mut endpoints, &config, assignment, suite, encrypt);
                    print!("{}", played.report);
                    total.add(played.totals);
                }
            }
        }
    }
    println!("total: {total}");
    if total.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
