//! Ratchet over Redis 7.0.15's own Tcl test suite.
//!
//! Runs `tcl-compat/run --check --server <redust-server>`, which runs every
//! unit listed in `tcl-compat/expected.txt` against the freshly built binary
//! and fails if any test listed there no longer passes. The harness installs
//! its own prerequisites (tcl, redis-tools, dpkg-dev) and fetches Debian's
//! redis source package on first use; see `tcl-compat/README-section.md`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

/// How many trailing lines of the harness output go into the failure message.
const TAIL_LINES: usize = 60;

#[test]
fn tcl_suite_ratchet() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = env!("CARGO_BIN_EXE_redust-server");
    let script = root.join("tcl-compat").join("run");
    assert!(
        script.is_file(),
        "harness script {} is missing",
        script.display()
    );

    // Run it through python3 so a lost executable bit does not matter.
    let mut child = Command::new("python3")
        .arg(&script)
        .arg("--check")
        // Expected tests are recorded with a short per-unit cap (units that hang on a missing
        // feature are cut off), so the check does not need the default 600 s either; this keeps
        // CI well inside its time budget.
        .args(["--unit-timeout", "180"])
        .arg("--server")
        .arg(server)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "could not start `python3 {}`: {e} (python3 is needed to run the Tcl suite harness)",
                script.display()
            )
        });

    // Forward stderr as it comes (prerequisite installs, source fetch),
    // keeping it for the failure message too.
    let stderr = child.stderr.take().expect("piped stderr");
    let err_thread = thread::spawn(move || {
        let mut kept = VecDeque::new();
        for line in BufReader::new(stderr).lines() {
            let line = match line {
                Ok(l) => l,
                Err(_) => break,
            };
            // Written straight to the process's stderr, not through eprintln!,
            // so libtest's output capture does not hold it back until the end.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            kept.push_back(line);
            if kept.len() > TAIL_LINES {
                kept.pop_front();
            }
        }
        kept
    });

    let stdout = child.stdout.take().expect("piped stdout");
    let mut tail: VecDeque<String> = VecDeque::new();
    let mut lost: Vec<String> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = match line {
            Ok(l) => l,
            Err(_) => break,
        };
        let _ = writeln!(std::io::stdout().lock(), "{line}");
        if line.starts_with("LOST: ") {
            lost.push(line.clone());
        }
        tail.push_back(line);
        if tail.len() > TAIL_LINES {
            tail.pop_front();
        }
    }
    let status = child.wait().expect("waiting for tcl-compat/run");
    let err_tail = err_thread.join().unwrap_or_default();

    if !status.success() {
        let mut msg = format!("tcl-compat/run --check failed ({status})\n");
        if status.code() == Some(3) {
            msg.push_str("its prerequisites could not be installed:\n");
        }
        if !lost.is_empty() {
            msg.push_str(&format!(
                "{} expected test(s) of the Redis Tcl suite no longer pass:\n",
                lost.len()
            ));
            for l in &lost {
                msg.push_str(l);
                msg.push('\n');
            }
        }
        if !err_tail.is_empty() {
            msg.push_str("--- stderr (last lines) ---\n");
            for l in &err_tail {
                msg.push_str(l);
                msg.push('\n');
            }
        }
        msg.push_str("--- stdout (last lines) ---\n");
        for l in &tail {
            msg.push_str(l);
            msg.push('\n');
        }
        panic!("{msg}");
    }
}
