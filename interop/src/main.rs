//! `arbor-interop vectors [--dir DIR] [FILE...]`: replays official MLS test
//! vectors and prints one line per file.

use std::path::PathBuf;
use std::process::ExitCode;

use arbor_interop::vectors::{self, FileReport};

fn usage() -> ExitCode {
    eprintln!("usage: arbor-interop vectors [--dir DIR] [FILE...]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("vectors") => {}
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
