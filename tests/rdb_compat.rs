//! RDB compatibility with real Redis 7.0 in both directions: Debian's `redis-server` writes a
//! dump that Redust loads, and Redust writes one that `redis-server` loads; the dataset digest
//! (DEBUG DIGEST) must match on both sides. Needs `/usr/bin/redis-server` (Debian package
//! `redis-server`, installed by .ci/run); fails with a message saying so when it is missing.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, Reply};

const REDIS: &str = "/usr/bin/redis-server";

struct RealRedis {
    child: std::process::Child,
    port: u16,
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_real_redis(dir: &std::path::Path) -> RealRedis {
    assert!(
        std::path::Path::new(REDIS).exists(),
        "this test needs Debian's redis-server: apt-get install redis-server"
    );
    let port = free_port();
    let child = Command::new(REDIS)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--enable-debug-command",
            "yes",
            "--daemonize",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    RealRedis { child, port }
}

fn connect(port: u16) -> common::Client {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    common::Client::from_stream(s)
}

/// A dataset of every type Redust supports, written through the protocol.
fn populate(c: &mut common::Client) {
    let long = "x".repeat(300);
    let cmds: Vec<Vec<&str>> = vec![
        vec!["set", "int", "12345"],
        vec!["set", "neg", "-7"],
        vec!["set", "big", "123456789012345"],
        vec!["set", "str", "hello world"],
        vec!["set", "compressible", &long],
        vec!["set", "ttl", "soon", "px", "1000000"],
        vec!["select", "3"],
        vec!["set", "other-db", "v"],
        vec!["select", "0"],
    ];
    for cmd in cmds {
        let r = c.cmd(&cmd);
        assert!(!matches!(r, Reply::Error(_)), "{:?} -> {:?}", cmd, r);
    }
}

fn digest(c: &mut common::Client) -> String {
    match c.cmd(&["debug", "digest"]) {
        Reply::Status(s) => s,
        r => panic!("DEBUG DIGEST: {:?}", r),
    }
}

#[test]
fn redis_dump_loads_in_redust_and_back() {
    let dir = std::env::temp_dir().join(format!("redust-rdb-compat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // Real Redis writes a dump.
    let expected = {
        let redis = start_real_redis(&dir);
        let mut c = connect(redis.port);
        populate(&mut c);
        let d = digest(&mut c);
        assert_eq!(c.cmd(&["save"]), Reply::Status("OK".into()));
        d
    };

    // Redust loads it and sees the same dataset.
    {
        let s = common::Server::start_in(&dir, &["--enable-debug-command", "yes"]);
        let mut c = s.client();
        assert_eq!(digest(&mut c), expected);
        match c.cmd(&["pttl", "ttl"]) {
            Reply::Int(ms) => assert!(ms > 900_000, "{}", ms),
            r => panic!("{:?}", r),
        }
        // Redust writes it back.
        std::fs::remove_file(dir.join("dump.rdb")).unwrap();
        assert_eq!(c.cmd(&["save"]), Reply::Status("OK".into()));
    }

    // Real Redis loads Redust's dump.
    let redis = start_real_redis(&dir);
    let mut c = connect(redis.port);
    assert_eq!(digest(&mut c), expected);
    let _ = std::fs::remove_dir_all(&dir);
}
